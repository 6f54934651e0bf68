"""`preflight request BODY.json [--fix OUT.json]`: check a whole Messages request body.

It checks the body as the API would (check_request), and optionally writes a
fixed body (prepare_request). `-` reads the body from stdin. The body's
model is used unless --model names one. Exit 1 when the API would reject the
body (with --fix: the fixed body), 0 otherwise, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from preflight._core.bodies import RequestReport, check_request
from preflight._core.cost import format_cost
from preflight._core.options import Options
from preflight._core.tables import DEFAULT_MODEL
from preflight._imaging.preparation import write_atomically
from preflight._requests.fetching import url_resolver
from preflight._requests.fixing import PreparedRequest, prepare_request
from preflight.cli import _common
from preflight.cli._reporters import Result, make_reporter
from preflight.errors import SourceError


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


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as error:
        raise SourceError(f"{name}: cannot read ({error.strerror or error})") from None


def _options(args: argparse.Namespace, raw: bytes) -> Options:
    if args.model is not None:
        return _common.options_from_args(args)
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
    raw = _read(args.body)
    options = _options(args, raw)
    fixed: PreparedRequest[Any] | None = None
    resolver = url_resolver() if args.fetch else None
    if resolver is not None:
        resolver.prefetch_body(raw)
    if args.fix is not None:
        fixed = prepare_request(raw, options, resolver=resolver)
        text = json.dumps(fixed.body, ensure_ascii=False, separators=(",", ":"))
        write_atomically(Path(args.fix), text.encode())
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
            lines=tuple(render_text(report, fixed, args.fix, findings=False)),
            is_path=args.body != "-",
        )
    )
    summary = {"rejected": report.rejected, "images": len(report.images)}
    return reporter.finish(summary, [])


def render_text(
    report: RequestReport,
    fixed: PreparedRequest[Any] | None = None,
    out: str | None = None,
    *,
    findings: bool = True,
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
        lines.append(
            f"fixed body written to {out}: {len(fixed.changes)} images changed; image tokens "
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
