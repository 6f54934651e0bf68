"""Output formats shared by every subcommand that reports on files (or sizes).

--format text|json|jsonl|github|sarif|junit.

Rules:
- a subcommand turns each file into a Result (its name, its selected
  findings, its JSON object, its own text lines) and hands it to a
  Reporter as soon as it has it, then hands over the summary: json, jsonl,
  github and text stream; sarif and junit are written at the end;
- the machine formats carry a schema version (json, jsonl) or are the
  standard's (SARIF 2.1.0, JUnit XML); a field is only ever added within a
  schema version, never renamed or removed;
- text shows problems (error and warning findings), one line each, and the
  summary; -v adds info findings and each result's own verbose lines, -q
  drops the command's own lines and notes, -s prints nothing; github shows
  problems too (info with -v), json, jsonl and sarif carry every selected
  finding;
- grouped text (check's, Display.group): a file with a finding that fails
  the run has all its lines printed as it comes; the other files' warnings
  are held, and printed after them in input order, unless their code is on
  GROUP_AT of those files or more: then it is one line with the count and
  a few of its details (-v lists every one). Held lines are bounded
  (GROUP_AT - 1 per code), so memory does not grow with the run;
- --statistics is a count per code in every format: a table in text; in
  json the header, `statistics` and the summary (no results); in jsonl a
  `statistic` line per code before the summary; in github an annotation
  per code (no file); sarif and junit are whole reports tools read, so they keep every
  result and add the counts (SARIF run properties, JUnit suite properties);
- colours only on a terminal, and never with NO_COLOR set (no-color.org);
- a file name cannot forge output: in text (and JUnit) control characters
  are escaped, and a line that would begin with `::` (a workflow command
  to GitHub's runner, which reads every line of a job's output) begins
  with `\\x3a:` instead; in every format, a name's bytes that are not
  UTF-8 (carried by Python as surrogate escapes) are written `\\xNN`, the
  byte's hex (os.fsencode's bytes, backslash-escaped), and any other
  unpaired surrogate `\\uNNNN`, so JSON and SARIF hold only valid UTF-8
  (a SARIF artifact URI percent-encodes the name's real bytes instead).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote, urlsplit

from preflight._core.catalogue import FINDING, RULES, Rule
from preflight._core.findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from preflight._version import __version__

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# Start-up (docs/speed.md): every command builds its flags from this module
# (FORMATS, Display), so json and xml are imported by the reporters that
# write them, not here.

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "jsonl", "github", "sarif", "junit")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note"}
_GITHUB_COMMANDS = {ERROR: "error", WARNING: "warning", INFO: "notice"}
_COLOURS = {ERROR: "\033[1;31m", WARNING: "\033[33m", INFO: "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


@dataclass(frozen=True)
class Result:
    """What a subcommand found about one file (or one size)."""

    name: str  # the path as given (or the size, for estimate)
    findings: tuple[Finding, ...]  # after selection
    data: Mapping[str, object]  # its JSON object
    lines: tuple[str, ...] = ()  # the command's own text lines (not with -q)
    verbose_lines: tuple[str, ...] = ()  # more, with -v only
    is_path: bool = True  # a file: GitHub and SARIF name it as a location


@dataclass(frozen=True)
class Display:
    """How a run reports: its format and the flags that shape its output."""

    format: str = "text"
    quiet: bool = False
    silent: bool = False
    verbose: bool = False
    statistics: bool = False
    show_fixes: bool = False
    strict: bool = False
    exit_zero: bool = False
    colour: bool = False
    code_separator: str = " "  # between a code and its message in text lines
    group: bool = False  # text: a warning on many files is one line (GROUP_AT)

    @property
    def failing(self) -> frozenset[str]:
        """The severities that make the run exit 1."""
        return frozenset({ERROR, WARNING} if self.strict else {ERROR})


def colour_wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set and not empty."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def display_text(text: str) -> str:
    """One line of output: control characters, undecodable bytes and a
    leading `::` escaped (see the module docstring)."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else _escaped(ch) for ch in text)
    if text.lstrip().startswith("::"):
        at = text.index(":")
        text = f"{text[:at]}\\x3a{text[at + 1 :]}"
    return text


def _escaped(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return ch.encode("unicode_escape", "backslashreplace").decode("ascii")


def clean_text(text: str) -> str:
    """Text that encodes as UTF-8: a name's undecodable bytes as `\\xNN`,
    any other unpaired surrogate as `\\uNNNN`; everything else as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escaped(ch) if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return text


def clean_data(value: object) -> object:
    """A JSON value with every string (keys too) made valid UTF-8 (clean_text)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(item) for item in value]
    return value


def fix_for(finding: Finding) -> str:
    """The finding's own fix, else the catalogue's."""
    if finding.fix:
        return finding.fix
    rule = RULES.get(finding.code)
    return rule.fix if rule is not None else ""


class Reporter:
    """Receives results one by one, then the summary; counts as it goes."""

    def __init__(
        self,
        command: str,
        display: Display,
        header: Mapping[str, object],
        stream: TextIO | None = None,
    ) -> None:
        self.command = command
        self.display = display
        self.header = header
        self.stream = sys.stdout if stream is None else stream
        self.counts: Counter[str] = Counter()
        self.results = 0
        self.failed = False

    def start(self) -> None:
        """Called once before the first result."""

    def add(self, result: Result) -> None:
        self.results += 1
        self.counts.update(f.code for f in result.findings)
        if any(f.severity in self.display.failing for f in result.findings):
            self.failed = True
        if not self.display.silent:
            self.write_result(result)

    def write_result(self, result: Result) -> None:
        """Called for each result unless silent."""

    def finish(self, summary: Mapping[str, object], lines: Sequence[str] = ()) -> int:
        """Write the summary (`lines`: its text form) and return the exit code."""
        if not self.display.silent:
            self.write_summary(summary, lines)
        self.stream.flush()
        return 1 if self.failed and not self.display.exit_zero else 0

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        """Called once at the end unless silent."""

    def emit(self, text: str) -> None:
        self.stream.write(text + "\n")

    def statistics(self) -> list[dict[str, object]]:
        """[{code, severity, count, summary, fixable, fixed_by}] by count, most
        first; `fixable`: a preflight command makes the finding go away
        (`fixed_by` names them, as `preflight rule CODE` does)."""
        rows: list[dict[str, object]] = []
        for code, count in sorted(self.counts.items(), key=lambda item: (-item[1], item[0])):
            rule = RULES.get(code)
            fixed_by = list(rule.fixed_by) if rule is not None else []
            rows.append(
                {
                    "code": code,
                    "severity": rule.severity if rule is not None else ERROR,
                    "count": count,
                    "summary": rule.summary if rule is not None else "",
                    "fixable": bool(fixed_by),
                    "fixed_by": fixed_by,
                }
            )
        return rows

    def tool(self) -> dict[str, str]:
        return {"name": "preflight", "version": __version__}


# A warning on this many files or more is one line in grouped text output.
GROUP_AT = 4
_GROUP_DETAILS = 3  # distinct details named on a grouped line


@dataclass
class _Group:
    """A code's held warnings (fewer than GROUP_AT files), or, once grouped,
    its count and a few details."""

    held: list[tuple[int, Finding, str]] = field(default_factory=list)  # (order, finding, name)
    files: int = 0
    grouped: bool = False
    details: list[str] = field(default_factory=list)
    more_details: bool = False
    rest: str | None = None
    rests_differ: bool = False
    first: Finding | None = None

    def note(self, finding: Finding) -> None:
        """Count a finding's detail and message once the code is grouped."""
        detail, sep, rest = finding.message.partition(": ")
        if not sep:
            detail, rest = "", finding.message
        if detail and detail not in self.details:
            if len(self.details) < _GROUP_DETAILS:
                self.details.append(detail)
            else:
                self.more_details = True
        if self.rest is None:
            self.rest = rest
        elif rest != self.rest:
            self.rests_differ = True


class TextReporter(Reporter):
    def __init__(
        self,
        command: str,
        display: Display,
        header: Mapping[str, object],
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(command, display, header, stream)
        self.groups: dict[str, _Group] = {}  # by code, in order of first sight
        self.order = 0

    def shown(self, finding: Finding) -> bool:
        return finding.severity != INFO or self.display.verbose

    def groupable(self, result: Result, finding: Finding) -> bool:
        display = self.display
        return (
            display.group
            and not display.verbose
            and result.is_path
            and finding.severity not in display.failing
        )

    def hold(self, result: Result, finding: Finding, name: str, counted: set[str]) -> None:
        group = self.groups.setdefault(finding.code, _Group())
        if finding.code not in counted:  # files, not findings
            counted.add(finding.code)
            group.files += 1
        if group.first is None:
            group.first = finding
        self.order += 1
        if not group.grouped:
            group.held.append((self.order, finding, name))
            if group.files < GROUP_AT:
                return
            group.grouped = True
            for _, held, _ in group.held:
                group.note(held)
            group.held = []
            return
        group.note(finding)

    def finding_lines(self, name: str, finding: Finding) -> list[str]:
        code = self.paint(finding.code, finding.severity)
        sep = self.display.code_separator
        lines = [f"{name}: {code}{sep}{display_text(finding.message)}"]
        if self.display.show_fixes and fix_for(finding):
            lines.append(f"  fix: {display_text(fix_for(finding))}")
        return lines

    def write_held(self) -> None:
        """The held warnings in input order, then a line per grouped code."""
        held = sorted(
            (item for group in self.groups.values() for item in group.held),
            key=lambda item: item[0],
        )
        for _, finding, name in held:
            for line in self.finding_lines(name, finding):
                self.emit(line)
        for code, group in self.groups.items():
            if not group.grouped or group.first is None:
                continue
            first = group.first
            rule = RULES.get(code)
            rest = group.rest or ""
            if group.rests_differ and rule is not None:
                rest = rule.summary[:1].lower() + rule.summary[1:].rstrip(".")
            details = ""
            if group.details:
                shown = [display_text(d) for d in group.details]
                details = f" ({', '.join(shown)}{', ...' if group.more_details else ''})"
            painted = self.paint(code, first.severity)
            self.emit(
                f"{painted}: {group.files} files{details} -- {display_text(rest)}; -v lists them"
            )
            if self.display.show_fixes and fix_for(first):
                self.emit(f"  fix: {display_text(fix_for(first))}")

    def paint(self, text: str, severity: str) -> str:
        if not self.display.colour:
            return text
        return f"{_COLOURS.get(severity, '')}{text}{_RESET}"

    def write_result(self, result: Result) -> None:
        if self.display.statistics:
            return
        if not self.display.quiet:
            for line in result.lines:
                self.emit(display_text(line))
            if self.display.verbose:
                for line in result.verbose_lines:
                    self.emit(display_text(line))
        name = display_text(result.name)
        if self.display.colour:
            name = f"{_BOLD}{name}{_RESET}"
        counted: set[str] = set()
        shown = [f for f in result.findings if self.shown(f)]
        # A file that fails the run is named with all it has, as it comes.
        failing = any(f.severity in self.display.failing for f in shown)
        for finding in shown:
            if not failing and self.groupable(result, finding):
                self.hold(result, finding, name, counted)
                continue
            for line in self.finding_lines(name, finding):
                self.emit(line)

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        self.write_held()
        if self.display.statistics:
            for row in self.statistics():
                severity = str(row["severity"])
                code = self.paint(str(row["code"]), severity)
                pad = " " * max(0, 24 - len(str(row["code"])))
                self.emit(f"{row['count']:>6}  {code}{pad} [{severity}] {row['summary']}")
        hidden = sum(n for c, n in self.counts.items() if _severity(c) == INFO)
        if hidden and not (self.display.quiet or self.display.verbose or self.display.statistics):
            noun = "finding" if hidden == 1 else "findings"
            self.emit(f"note: {hidden} info {noun} not shown (-v shows them)")
        for index, line in enumerate(lines):
            # The first line is the summary; later ones are notes (not with -q).
            if index and self.display.quiet:
                break
            self.emit(display_text(line))


class JsonReporter(Reporter):
    """One JSON object, streamed: the header fields, the results array as
    each result comes, then the summary. With --statistics: the header
    fields, `statistics` and the summary, written at the end."""

    def head(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": self.tool(),
            "command": self.command,
            **self.header,
        }

    def start(self) -> None:
        if self.display.silent or self.display.statistics:
            return
        import json

        self.stream.write(json.dumps(self.head(), indent=2)[:-2] + ',\n  "results": [')
        self.stream.flush()

    def write_result(self, result: Result) -> None:
        if self.display.statistics:
            return
        import json

        text = json.dumps(clean_data(result.data), indent=2).replace("\n", "\n    ")
        self.stream.write(("," if self.results > 1 else "") + "\n    " + text)
        self.stream.flush()

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        full = {**summary, "exit_code": 1 if self.failed and not self.display.exit_zero else 0}
        full["statistics"] = self.statistics()
        import json

        if self.display.statistics:
            whole = {**self.head(), "statistics": full["statistics"], "summary": full}
            self.stream.write(json.dumps(clean_data(whole), indent=2) + "\n")
            return
        tail = json.dumps(clean_data(full), indent=2).replace("\n", "\n  ")
        self.stream.write(("\n  " if self.results else "") + f'],\n  "summary": {tail}\n}}\n')


class JsonLinesReporter(Reporter):
    """One JSON object a line: a header, one line per result, a summary."""

    def start(self) -> None:
        if not self.display.silent:
            self.line(
                {
                    "type": "header",
                    "schema_version": SCHEMA_VERSION,
                    "tool": self.tool(),
                    "command": self.command,
                    **self.header,
                }
            )

    def line(self, value: Mapping[str, object]) -> None:
        import json

        self.stream.write(json.dumps(clean_data(value), separators=(",", ":")) + "\n")
        self.stream.flush()

    def write_result(self, result: Result) -> None:
        if not self.display.statistics:
            self.line({"type": "result", **result.data})

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        exit_code = 1 if self.failed and not self.display.exit_zero else 0
        statistics = self.statistics()
        if self.display.statistics:  # a line per code instead of the results
            for row in statistics:
                self.line({"type": "statistic", **row})
        self.line({"type": "summary", **summary, "exit_code": exit_code, "statistics": statistics})


def github_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,` escaped."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: an annotation per problem (with
    --statistics, an annotation per code, without a file)."""

    def write_result(self, result: Result) -> None:
        if self.display.statistics:
            return
        for finding in result.findings:
            if finding.severity == INFO and not self.display.verbose:
                continue
            kind = _GITHUB_COMMANDS.get(finding.severity, "error")
            props = []
            if result.is_path:
                props.append(f"file={github_property(clean_text(result.name))}")
            props.append(f"title={github_property('preflight ' + finding.code)}")
            message = clean_text(_message(result, finding))
            self.emit(f"::{kind} {','.join(props)}::{github_data(message)}")

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        if not self.display.statistics:
            return
        for row in self.statistics():
            severity = str(row["severity"])
            if severity == INFO and not self.display.verbose:
                continue
            kind = _GITHUB_COMMANDS.get(severity, "error")
            title = github_property(f"preflight {row['code']}")
            count = int(str(row["count"]))
            noun = "finding" if count == 1 else "findings"
            message = github_data(f"{count} {noun}: {row['summary']}")
            self.emit(f"::{kind} title={title}::{message}")


def _message(result: Result, finding: Finding) -> str:
    """A finding's message; one about a size (not a file) names the size."""
    return finding.message if result.is_path else f"{result.name}: {finding.message}"


def _severity(code: str) -> str:
    rule = RULES.get(code)
    return rule.severity if rule is not None else ERROR


# Where SARIF links to (SARIF 2.1.0: helpUri and informationUri must be
# absolute URIs; Microsoft's SARIF validator reports a relative one as error
# SARIF1005). They come from the project's own [project.urls], as the
# installed package declares them; with none, SARIF carries no links, only
# each rule's full text in `help`.
_DOCS_LABELS = ("documentation", "docs")
_HOME_LABELS = ("homepage", "home", "repository", "source", "source code")
_REPOSITORY_LABELS = ("repository", "source", "source code", "homepage", "home")
# Hosts whose repositories show a file at {repository}/blob/{ref}/{path}.
_BLOB_HOSTS = ("github.com", "gitlab.com")


def project_urls() -> dict[str, str]:
    """The project's URLs by lower-case label, as its installed metadata
    declares them ([project.urls] in pyproject.toml); {} when it declares none."""
    from importlib import metadata  # read only when SARIF is written

    try:
        entries = metadata.metadata("preflight").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return {}
    urls: dict[str, str] = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        urls.setdefault(label.strip().lower(), url.strip())
    return urls


def _absolute(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


@dataclass(frozen=True)
class DocsLinks:
    """The absolute URLs SARIF links to: the tool's page and docs/rules.md
    (a rule's section is its code as the fragment). None where the project
    declares nothing usable."""

    information: str | None = None
    rules: str | None = None

    @classmethod
    def from_urls(cls, urls: Mapping[str, str]) -> DocsLinks:
        """From [project.urls]: `Documentation` is the folder the docs pages are
        served from ({it}/rules.md); without it, a GitHub or GitLab
        `Repository` shows docs/rules.md of its default branch."""

        def first(labels: Sequence[str]) -> str | None:
            found = (_absolute(urls.get(label)) for label in labels)
            return next((url for url in found if url is not None), None)

        docs = first(_DOCS_LABELS)
        rules = None if docs is None else f"{docs.rstrip('/')}/rules.md"
        repository = first(_REPOSITORY_LABELS)
        host = "" if repository is None else urlsplit(repository).netloc.lower()
        if rules is None and repository is not None and host.removeprefix("www.") in _BLOB_HOSTS:
            rules = f"{repository.rstrip('/').removesuffix('.git')}/blob/HEAD/docs/rules.md"
        return cls(information=first(_HOME_LABELS) or docs, rules=rules)

    def rule_uri(self, code: str) -> str | None:
        return None if self.rules is None else f"{self.rules}#{code}"


def sarif_rule(rule: Rule, links: DocsLinks | None = None) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": rule.code,
        "name": "".join(part.capitalize() for part in rule.code.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.meaning},
        "help": {
            "text": f"{rule.meaning} Fix: {rule.fix} Source: {rule.source}.",
            "markdown": f"{rule.meaning}\n\n**Fix:** {rule.fix}\n\n**Source:** {rule.source}",
        },
        "defaultConfiguration": {"level": _SARIF_LEVELS.get(rule.severity, "error")},
        "properties": {"kind": rule.kind, "source": rule.source, "fixedBy": list(rule.fixed_by)},
    }
    help_uri = None if links is None else links.rule_uri(rule.code)
    if help_uri is not None:
        entry["helpUri"] = help_uri
    return entry


def artifact_uri(path: str, base: Path) -> str:
    """A path as a SARIF artifact URI: relative to `base` (the current
    folder, which SARIF names %SRCROOT%) when inside it, else file://."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return absolute.as_uri()
    return quote(os.fsencode(relative.as_posix()))  # the name's own bytes, percent-encoded


class SarifReporter(Reporter):
    """SARIF 2.1.0: one run, a rule per code (every finding code, and the
    failure codes seen), a result per finding."""

    def __init__(
        self,
        command: str,
        display: Display,
        header: Mapping[str, object],
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(command, display, header, stream)
        self.found: list[tuple[Result, Finding]] = []
        self.base = Path(os.path.abspath(os.getcwd()))
        self.links = DocsLinks.from_urls(project_urls())

    def write_result(self, result: Result) -> None:
        self.found.extend((result, f) for f in result.findings)

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        codes = [r.code for r in RULES.values() if r.kind == FINDING]
        codes += sorted({f.code for _, f in self.found} - set(codes))
        index = {code: i for i, code in enumerate(codes)}
        rules = [
            sarif_rule(RULES[c], self.links)
            if c in RULES
            else {"id": c, "shortDescription": {"text": c}}
            for c in codes
        ]
        results = []
        for result, finding in self.found:
            entry: dict[str, object] = {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
                "level": _SARIF_LEVELS.get(finding.severity, "error"),
                "message": {"text": clean_text(_message(result, finding))},
            }
            if result.is_path:
                entry["locations"] = [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": artifact_uri(result.name, self.base),
                                "uriBaseId": "%SRCROOT%",
                            }
                        }
                    }
                ]
            if finding.fix:
                entry["properties"] = {"fix": finding.fix}
            results.append(entry)
        driver: dict[str, object] = {
            "name": "preflight",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": rules,
        }
        if self.links.information is not None:
            driver["informationUri"] = self.links.information
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": driver},
                    "originalUriBaseIds": {"%SRCROOT%": {"uri": self.base.as_uri() + "/"}},
                    "results": results,
                    "properties": _sarif_properties(self, summary),
                }
            ],
        }
        import json

        json.dump(clean_data(log), self.stream, indent=2)
        self.stream.write("\n")


def _sarif_properties(reporter: Reporter, summary: Mapping[str, object]) -> dict[str, object]:
    """The run's properties: the command and its summary (and, with
    --statistics, the count per code)."""
    found: dict[str, object] = {"command": reporter.command, "summary": dict(summary)}
    if reporter.display.statistics:
        found["statistics"] = reporter.statistics()
    return found


class JunitReporter(Reporter):
    """JUnit XML: one test case per file, failed when it has a finding that
    fails the run (errors; warnings too with --strict); its other findings
    are in the test case's system-out."""

    def __init__(
        self,
        command: str,
        display: Display,
        header: Mapping[str, object],
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(command, display, header, stream)
        self.cases: list[ET.Element] = []
        self.failures = 0

    def write_result(self, result: Result) -> None:
        import xml.etree.ElementTree as ET

        name = display_text(result.name)
        case = ET.Element("testcase", name=name, classname=f"preflight.{self.command}")
        failing = [f for f in result.findings if f.severity in self.display.failing]
        others = [f for f in result.findings if f.severity not in self.display.failing]
        if failing:
            self.failures += 1
            first = failing[0]
            failure = ET.SubElement(
                case, "failure", message=display_text(first.message), type=first.code
            )
            failure.text = "\n".join(display_text(f"{name}: {f.code} {f.message}") for f in failing)
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(display_text(f"{name}: {f.code} {f.message}") for f in others)
        self.cases.append(case)

    def write_summary(self, summary: Mapping[str, object], lines: Sequence[str]) -> None:
        import xml.etree.ElementTree as ET

        counts = {"tests": str(len(self.cases)), "failures": str(self.failures), "errors": "0"}
        suites = ET.Element("testsuites", {"name": "preflight", **counts})
        suite = ET.SubElement(
            suites, "testsuite", {"name": f"preflight {self.command}", **counts, "skipped": "0"}
        )
        if self.display.statistics:  # the count per code, as suite properties
            properties = ET.SubElement(suite, "properties")
            for row in self.statistics():
                ET.SubElement(
                    properties,
                    "property",
                    name=f"statistics.{row['code']}",
                    value=str(row["count"]),
                )
        suite.extend(self.cases)
        ET.indent(suites)
        self.stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.stream.write(ET.tostring(suites, encoding="unicode"))
        self.stream.write("\n")


_REPORTERS: dict[str, type[Reporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "jsonl": JsonLinesReporter,
    "github": GithubReporter,
    "sarif": SarifReporter,
    "junit": JunitReporter,
}


def make_reporter(
    command: str,
    display: Display,
    header: Mapping[str, object] | None = None,
    stream: TextIO | None = None,
) -> Reporter:
    """The reporter for `display.format`, started."""
    reporter = _REPORTERS[display.format](command, display, header or {}, stream)
    reporter.start()
    return reporter


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
