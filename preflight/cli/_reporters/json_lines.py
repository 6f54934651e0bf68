"""--format jsonl: a JSON line per result as it comes, then the summary line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from preflight.cli._reporters._base import SCHEMA_VERSION, Reporter, Result, clean_data


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
