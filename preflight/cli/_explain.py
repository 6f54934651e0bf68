"""`preflight explain [TEXT...]`: an API error message or body read back into a finding.

The text is the arguments, joined by spaces; with none, or `-`, standard
input (at most MAX_EXPLAIN_CHARS bytes: an API error is a few hundred).
It prints the finding code, the blocks the error names (preflight's paths
and the SDK's), the numbers in it, what it means and how to fix it (the
catalogue's words, as `preflight rule` prints them). Exit 0 when it is an
image error preflight knows, 1 when it is not, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from preflight.cli import _common

if TYPE_CHECKING:
    from preflight._core.explaining import Explanation

# Start-up (docs/speed.md): the flags only at import; the explainer (its
# patterns compile at import) is imported where it runs.


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain an API error message or JSON error body: its finding code, the image it "
        "names, what it means and how to fix it",
        description="Reads an error the API answered (the message, with or without the SDK's "
        "'Error code: 400 - ' prefix, or the JSON error body; - or no argument reads stdin) "
        "and says which finding it is, where, and how to fix it. Exit 0 when it is an image "
        "error preflight knows, 1 when it is not, 2 for bad usage.",
    )
    parser.add_argument("text", nargs="*", metavar="TEXT", help="the error; - reads stdin")
    _common.add_format_option(parser)
    parser.set_defaults(run=run)


def read_text(words: list[str]) -> str:
    """The arguments joined by spaces, or standard input (bounded)."""
    from preflight._core.explaining import MAX_EXPLAIN_CHARS

    if words and words != ["-"]:
        if "-" in words:
            raise _common.command_line_error("- (stdin) cannot be mixed with text")
        text = " ".join(words)
        if len(text) > MAX_EXPLAIN_CHARS:
            raise _common.command_line_error(_too_long())
    else:
        if not words and sys.stdin.isatty():
            raise _common.command_line_error("give the error text, or pipe it in (- reads stdin)")
        data = sys.stdin.buffer.read(MAX_EXPLAIN_CHARS + 1)
        if len(data) > MAX_EXPLAIN_CHARS:
            raise _common.command_line_error(_too_long())
        text = data.decode("utf-8", "replace")
    if not text.strip():
        raise _common.command_line_error("no error text given (pass it, or pipe it to -)")
    return text


def _too_long() -> str:
    from preflight._core.explaining import MAX_EXPLAIN_CHARS

    return (
        f"the text is over {MAX_EXPLAIN_CHARS >> 20} MiB: an API error is a few hundred "
        "characters (pass the error line, not the whole log)"
    )


def run(args: argparse.Namespace) -> int:
    from preflight._core.explaining import explain

    explanation = explain(read_text(args.text))
    if args.format == "json":
        _common.print_json(explanation.to_dict())
    else:
        print("\n".join(render_text(explanation)))
    return _common.EXIT_OK if explanation.recognised else _common.EXIT_REJECTED


def render_text(explanation: Explanation) -> list[str]:
    """The explanation for people: the code and its one-line summary, then
    one labelled line per fact."""
    e = explanation
    said = f"HTTP {e.status}" if e.status is not None else ""
    if e.error_type:
        said = f"{said} {e.error_type}".strip()
    if e.error_code:
        said = f"{said}, error_code {e.error_code}".strip(", ")
    if e.code is None:
        lines = [f"not an image error preflight knows: {_one_line(e.message)}"]
        if said:
            lines.append(f"  answer: {said}")
        if e.meaning:
            lines += [f"  means: {e.meaning}", f"  fix: {e.fix}"]
        lines.append("  `preflight rule --all` lists the errors preflight knows")
        return lines
    wording = {None: "", "current": "current wording", "older": f"older wording, seen {e.seen}"}
    head = ", ".join(part for part in (e.severity, wording.get(e.wording, "")) if part)
    lines = [f"{e.code} ({head}): {e.summary}"]
    if said:
        lines.append(f"  answer: {said}")
    for block, sdk in zip(e.blocks, e.block_paths, strict=True):
        lines.append(f"  block: {block} (SDK: {sdk})")
    if e.path is not None and not e.blocks:
        lines.append(f"  at: {e.path}")
    elif e.path is None and not e.blocks:
        lines.append("  block: none named (the API prints no path for it)")
    if e.numbers:
        lines.append(f"  numbers: {', '.join(f'{k} {v}' for k, v in e.numbers.items())}")
    if e.media_types:
        lines.append(f"  media types: {', '.join(f'{k} {v}' for k, v in e.media_types.items())}")
    if e.same_words:
        lines.append(f"  same words: {', '.join(e.same_words)}")
    lines.append(f"  means: {e.meaning}")
    lines.append(f"  fix: {e.fix}")
    return lines


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
