"""--format text: problems a line each (grouped in check), the summary; colours on a terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from preflight._core.catalogue import RULES
from preflight._core.findings import ERROR, INFO, WARNING, Finding
from preflight.cli._reporters._base import (
    Display,
    Reporter,
    Result,
    display_text,
    fix_for,
    severity_of,
)

_COLOURS = {ERROR: "\033[1;31m", WARNING: "\033[33m", INFO: "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


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
        hidden = sum(n for c, n in self.counts.items() if severity_of(c) == INFO)
        if hidden and not (self.display.quiet or self.display.verbose or self.display.statistics):
            noun = "finding" if hidden == 1 else "findings"
            self.emit(f"note: {hidden} info {noun} not shown (-v shows them)")
        for index, line in enumerate(lines):
            # The first line is the summary; later ones are notes (not with -q).
            if index and self.display.quiet:
                break
            self.emit(display_text(line))
