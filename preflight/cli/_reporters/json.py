"""--format json: one JSON object (schema_version, results, summary), written at the end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from preflight.cli._reporters._base import SCHEMA_VERSION, Reporter, Result, clean_data


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
