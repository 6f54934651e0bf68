# `preflight check PATH...`: every file's findings, from its header alone.
# Directories are walked as every subcommand walks them (cli/_common); by
# default only files with an image extension are looked at, `--all` looks at
# every file.

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from preflight.cli import _common
from preflight.core.assessment import request_findings
from preflight.core.cost import format_cost, plain_decimal, total_cost
from preflight.core.findings import ERROR, REQUEST_TOO_LARGE, WARNING
from preflight.core.options import Options
from preflight.inspection import Report, inspect


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="find every reason the API would reject or resize image files",
        description="Reads only file headers. One line per finding, 'path: CODE message'. "
        "Exit 0 when nothing would be rejected, 1 when something would (--strict: "
        "warnings too), 2 for bad usage.",
    )
    _common.add_walk_options(parser)
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "--decode",
        action="store_true",
        help="also decode each image's pixel data (slower): data that does not decode is "
        "an error, as the API answers it",
    )
    parser.add_argument(
        "--one-request",
        action="store_true",
        help="the files are the images of one request: count them for the many-image "
        "rules (at least --images-per-request) and check the request's total size",
    )
    _common.add_max_bytes_option(parser)
    parser.add_argument(
        "--media-type",
        dest="media_type",
        metavar="TYPE",
        help="the media type the request will declare (default: from each file's extension)",
    )
    _common.add_options(parser)
    _common.add_format_option(parser)
    parser.set_defaults(run=run)


def iter_files(paths: list[str], every_file: bool) -> Iterator[str]:
    """Files named directly always; files under directories by extension."""
    for path in paths:
        if os.path.isdir(path):
            yield from map(str, _common.walk_files(Path(path), every_file))
        else:
            yield path  # a missing path becomes an 'unreadable' finding


def run(args: argparse.Namespace) -> int:
    paths = list(iter_files(args.paths, args.all))
    images = args.images_per_request
    if args.one_request:
        images = max(images, len(paths))
    options = _common.options_from_args(args, images_in_request=images)
    reports = [
        inspect(path, options, declared_media_type=args.media_type, decode=args.decode)
        for path in paths
    ]
    if args.one_request:
        reports = _with_request_findings(reports, options)
    if args.format == "json":
        _common.print_json([r.to_dict() for r in reports])
    else:
        for line in render_text(reports):
            print(_common.display_path(line))
    failing = {ERROR, WARNING} if args.strict else {ERROR}
    if any(f.severity in failing for r in reports for f in r.findings):
        return _common.EXIT_REJECTED
    return _common.EXIT_OK


def _with_request_findings(reports: list[Report], options: Options) -> list[Report]:
    """A request that is too large fails as a whole: each image in it gets
    the finding. (Too many images is already each image's, from check.)"""
    sizes = [r.info.base64_bytes for r in reports if r.info is not None]
    found = [f for f in request_findings(sizes, options) if f.code == REQUEST_TOO_LARGE]
    if not found:
        return reports
    return [
        replace(r, findings=(*found, *r.findings)) if r.info is not None else r for r in reports
    ]


def _describe(report: Report) -> str:
    info, est = report.info, report.estimate
    if info is None:
        return ""
    size = f"{info.width}x{info.height}" if info.width is not None else "size unknown"
    text = f"{info.format_label} {size}"
    if est is not None and not est.rejected:
        text += f", {est.tokens} tokens, {format_cost(est.cost_usd)}"
    return text


def render_text(reports: list[Report]) -> list[str]:
    lines: list[str] = []
    for report in reports:
        path = report.path or "<input>"
        if not report.findings:
            lines.append(f"{path}: ok ({_describe(report)})")
            continue
        for finding in report.findings:
            lines.append(f"{path}: {finding.code} {finding.message}")
    rejected = sum(r.rejected for r in reports)
    warned = sum(
        (not r.rejected) and any(f.severity == WARNING for f in r.findings) for r in reports
    )
    accepted = [r.estimate for r in reports if r.estimate is not None and not r.rejected]
    total_tokens = sum(e.tokens for e in accepted)
    total = total_cost(e.cost_usd for e in accepted)
    exact = "" if total is None else f" (exact ${plain_decimal(total)})"
    lines.append(
        f"{_common.plural(len(reports), 'file')}: {rejected} would be rejected, "
        f"{warned} accepted with warnings, {len(reports) - rejected - warned} clean; "
        f"accepted images: {total_tokens} tokens, {format_cost(total)}{exact}"
    )
    return lines
