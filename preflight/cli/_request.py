"""`preflight request BODY.json [--fix OUT.json]`: check a whole Messages request body.

It checks the body as the API would (check_request), and optionally writes a
fixed body (prepare_request). `-` reads the body from stdin. The body's
model is used unless --model names one. Exit 1 when the API would reject the
body (with --fix: the fixed body), 0 otherwise, 2 for bad usage.

Rules for what it reads and writes:
- the body is read within a bound (budgets.MAX_REQUEST_BODY_BYTES: the
  largest body any endpoint takes); past it, one line and exit 1, from a
  file, a device or standard input alike;
- a leading UTF-8 byte-order mark is read past, with a warning: JSON's
  standard (RFC 8259) forbids sending one and lets a parser ignore it;
  whether the API's does is not documented, so the warning says to send the
  body without it (and --fix writes none);
- --fix writes only a body that is a JSON object and strict JSON (no NaN
  or Infinity, no unpaired surrogate: what the API's parser takes), never
  `null` or half a body; when no image needed fixing, the input itself is
  left untouched, and another OUT gets the input's bytes as they are;
- the count of images comes from the body: the images-per-request and
  oversized settings of a configuration file (meant for commands that see
  one image at a time) do not apply here.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight._core.budgets import MAX_REQUEST_BODY_BYTES
from preflight._core.cost import format_cost
from preflight._core.tables import DEFAULT_MODEL
from preflight.cli import _common
from preflight.cli._reporters import Result, make_reporter
from preflight.errors import SourceError

if TYPE_CHECKING:
    from preflight._core.bodies import RequestReport
    from preflight._core.options import Options
    from preflight._requests.fixing import PreparedRequest

# Start-up (docs/speed.md): the flags only at import; the body checker, the
# fixer (and the image engines under it) and json are imported where used.


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "request",
        help="check a whole Messages request body (JSON) as the API would; --fix writes one "
        "that passes",
        description="Reads the body a client would send to the Messages API and says what the "
        "API would answer, each finding at the API's dotted path. Exit 0 when it would be "
        "accepted, 1 when it would be rejected (with --fix: the fixed body), 2 for bad usage.",
    )
    parser.add_argument("body", metavar="BODY.json", help="the request body; - reads stdin")
    parser.add_argument(
        "--fix",
        metavar="OUT.json",
        help="write a body in which every image the API would reject or resize is prepared",
    )
    parser.add_argument(
        "--fetch",
        action="store_true",
        help="read url image sources (their headers, by range) and check them like base64 "
        "images; without it they are counted, not checked",
    )
    _common.add_options(parser, request=False)
    parser.set_defaults(model=None)  # the body's model unless --model names one
    _common.add_report_options(parser)
    parser.set_defaults(run=run)


_BOM = b"\xef\xbb\xbf"


def _read(name: str, limit: int = MAX_REQUEST_BODY_BYTES) -> bytes:
    """The body's bytes, at most `limit` of them (more is a SourceError),
    without a leading byte-order mark (see the module docstring)."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as error:
        raise SourceError(f"{name}: cannot read ({error.strerror or error})") from None
    if len(data) > limit:
        shown = "standard input" if name == "-" else name
        raise SourceError(
            f"{shown}: more than {limit:,} bytes: larger than any request body the API "
            "accepts (Message Batches take 256 MB); not read further"
        )
    if data.startswith(_BOM):
        print(
            "preflight request: warning: the body starts with a UTF-8 byte-order mark; read "
            "without it (JSON's standard lets a parser ignore it, but whether the API's does "
            "is not documented): send the body without it",
            file=sys.stderr,
        )
        data = data[len(_BOM) :]
    return data


def _options(args: argparse.Namespace, raw: bytes) -> Options:
    if args.model is not None:
        return _common.options_from_args(args)
    import json

    try:
        named = json.loads(raw).get("model")
    except (ValueError, AttributeError, RecursionError):
        named = None
    if isinstance(named, str):
        try:
            return _common.options_from_args(args, model=named)
        except _common.UsageError as error:
            if error.code != _common.BAD_COMMAND_LINE:  # not the unknown model
                raise
            print(
                f"preflight request: warning: model {named!r} is not in preflight's table; "
                f"{DEFAULT_MODEL} is assumed (pass --model and --price)",
                file=sys.stderr,
            )
    return _common.options_from_args(args, model=DEFAULT_MODEL)


def run(args: argparse.Namespace) -> int:
    # The body says how many images it holds and how each wants oversized
    # images handled: a configuration file's defaults for one-image commands
    # do not apply (they reach this namespace as defaults without a flag).
    for setting in ("images_per_request", "oversized"):
        vars(args).pop(setting, None)
    from preflight._core.bodies import check_request
    from preflight._requests.fetching import url_resolver
    from preflight._requests.fixing import prepare_request

    raw = _read(args.body)
    options = _options(args, raw)
    fixed: PreparedRequest[Any] | None = None
    resolver = url_resolver() if args.fetch else None
    if resolver is not None:
        resolver.prefetch_body(raw)
    written: str | None = None
    if args.fix is not None:
        fixed = prepare_request(raw, options, resolver=resolver)
        written = _write_fixed(fixed, raw, args.body, args.fix)
        report = fixed.report
    else:
        report = check_request(raw, options, resolver=resolver)
    display = _common.display_from_args(args)
    selection = _common.selection_from_args(args)
    reporter = make_reporter("request", display, {"options": options.to_dict()})
    # Each finding at its path in the body, in the API's words.
    located = tuple(
        dataclasses.replace(f, message=f.api_message) if f.path is not None else f
        for f in report.findings
    )
    name = "<stdin>" if args.body == "-" else args.body
    reporter.add(
        Result(
            name=name,
            findings=selection.keep(located, name),
            data=fixed.to_dict() if fixed is not None else report.to_dict(),
            lines=tuple(render_text(report, fixed, args.fix, findings=False, written=written)),
            is_path=args.body != "-",
        )
    )
    summary = {"rejected": report.rejected, "images": len(report.images)}
    return reporter.finish(summary, [])


def _write_fixed(fixed: PreparedRequest[Any], raw: bytes, source: str, out: str) -> str:
    """Write the fixed body to `out` when there is one to write (see the
    module docstring); what was done, in a sentence."""
    import json

    from preflight._core.bodies import serialized_size
    from preflight._inputs.writing import write_atomically

    if not isinstance(fixed.body, dict):
        return f"nothing written to {out}: the body is not a JSON object (see the findings)"
    if fixed.report.body_bytes is None:
        return f"nothing written to {out}: the body cannot be sent as JSON (see the findings)"
    if not fixed.changes:
        if source != "-" and _same_file(source, out):
            return f"nothing to fix: {source} left as it is"
        write_atomically(Path(out), raw)
        return f"no image needed fixing: the body was copied to {out} as it is"
    try:
        # Strict JSON, as the API parses it and as the SDK sends it.
        serialized_size(fixed.body)
        text = json.dumps(fixed.body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        data = text.encode()
    except (TypeError, ValueError, RecursionError) as error:
        return f"nothing written to {out}: the fixed body cannot be sent as JSON ({error})"
    write_atomically(Path(out), data)
    return f"fixed body written to {out}"


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def render_text(
    report: RequestReport,
    fixed: PreparedRequest[Any] | None = None,
    out: str | None = None,
    *,
    findings: bool = True,
    written: str | None = None,
) -> list[str]:
    lines: list[str] = []
    if fixed is not None:
        for change in fixed.changes:
            before, after = change.before, change.after
            sizes = f"{before.width}x{before.height}"
            if after is not None:
                sizes += f" -> {after.width}x{after.height}"
            lines.append(f"{change.path}: fixed ({change.reason}): {sizes}")
        for failure in fixed.failures:
            lines.append(f"{failure.path}: {failure.code} {failure.message}")
        outcome = written if written is not None else f"fixed body written to {out}"
        lines.append(
            f"{outcome}: {len(fixed.changes)} images changed; image tokens "
            f"{fixed.tokens_before} -> {fixed.tokens_after}; "
            f"{format_cost(fixed.cost_before)} -> {format_cost(fixed.cost_after)}"
        )
    for finding in report.findings if findings else ():
        lines.append(f"{finding.severity}: {finding.api_message}")
    options = report.options
    turns = ", ".join(f"turn {turn}: {tokens}" for turn, tokens in report.tokens_per_turn if tokens)
    lines.append(
        f"images: {len(report.images)} ({report.unchecked} not checked offline, "
        f"{report.distinct_images} distinct), documents: {report.documents}; image tokens "
        f"{report.image_tokens}" + (f" ({turns})" if turns else "")
    )
    limit = options.max_request_bytes
    size = "unknown" if report.body_bytes is None else f"{report.body_bytes:,} bytes"
    lines.append(
        f"body: {size}" + (f" of {limit:,} allowed on {options.surface.name}" if limit else "")
    )
    lines.append(
        f"{'REJECTED' if report.rejected else 'ok'}: {options.model.name}, "
        f"{format_cost(report.cost_usd)} for the images "
        f"({format_cost(report.batch_cost_usd)} with Message Batches)"
    )
    return lines
