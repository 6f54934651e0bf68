"""--format github: GitHub Actions workflow commands, one annotation per finding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from preflight._core.findings import ERROR, INFO, WARNING
from preflight.cli._reporters._base import (
    Reporter,
    Result,
    clean_text,
    message_of,
)

_GITHUB_COMMANDS = {ERROR: "error", WARNING: "warning", INFO: "notice"}


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
            message = clean_text(message_of(result, finding))
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
