"""Output formats shared by every subcommand that reports on files (or sizes).

--format text|json|jsonl|github|sarif|junit: one module per format (text,
json, json_lines, github, sarif, junit), as ruff has them, each imported
when its format is asked for; what they share is in _base.

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

import importlib
from collections.abc import Mapping
from typing import TextIO

from preflight.cli._reporters._base import (
    FORMATS,
    SCHEMA_VERSION,
    Display,
    Reporter,
    Result,
    clean_data,
    clean_text,
    colour_wanted,
    display_text,
    fix_for,
    message_of,
    severity_counts,
    severity_of,
)

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "Display",
    "Reporter",
    "Result",
    "clean_data",
    "clean_text",
    "colour_wanted",
    "display_text",
    "fix_for",
    "make_reporter",
    "message_of",
    "severity_counts",
    "severity_of",
]

# One module per format, as ruff has them; each is imported when its format
# is asked for (start-up: docs/speed.md), and its reporter class named here.
_REPORTERS: dict[str, tuple[str, str]] = {
    "text": ("text", "TextReporter"),
    "json": ("json", "JsonReporter"),
    "jsonl": ("json_lines", "JsonLinesReporter"),
    "github": ("github", "GithubReporter"),
    "sarif": ("sarif", "SarifReporter"),
    "junit": ("junit", "JunitReporter"),
}


def make_reporter(
    command: str,
    display: Display,
    header: Mapping[str, object] | None = None,
    stream: TextIO | None = None,
) -> Reporter:
    """The reporter for `display.format`, started."""
    module, name = _REPORTERS[display.format]
    found: type[Reporter] = getattr(
        importlib.import_module(f"preflight.cli._reporters.{module}"), name
    )
    reporter = found(command, display, header or {}, stream)
    reporter.start()
    return reporter
