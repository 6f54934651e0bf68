"""--format sarif: a SARIF 2.1.0 log, its rules from the catalogue."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit

from preflight._core.catalogue import FINDING, RULES, Rule
from preflight._core.findings import ERROR, INFO, WARNING, Finding
from preflight._version import __version__
from preflight.cli._reporters._base import (
    Display,
    Reporter,
    Result,
    clean_data,
    clean_text,
    message_of,
)

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note"}


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
                "message": {"text": clean_text(message_of(result, finding))},
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
