"""What every output format shares: results, display settings, escaping, the Reporter."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from preflight._core.catalogue import RULES
from preflight._core.findings import ERROR, SEVERITIES, WARNING, Finding
from preflight._version import __version__

SCHEMA_VERSION = 1
FORMATS = ("text", "json", "jsonl", "github", "sarif", "junit")


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


def message_of(result: Result, finding: Finding) -> str:
    """A finding's message; one about a size (not a file) names the size."""
    return finding.message if result.is_path else f"{result.name}: {finding.message}"


def severity_of(code: str) -> str:
    rule = RULES.get(code)
    return rule.severity if rule is not None else ERROR


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
