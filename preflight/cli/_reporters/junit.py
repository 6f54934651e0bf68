"""--format junit: a JUnit XML report, a test case per file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from preflight.cli._reporters._base import Display, Reporter, Result, display_text

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


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
