# `preflight estimate WxH ...`: what the API does with images of these sizes
# and what they cost. Pure arithmetic: no files are read.

from __future__ import annotations

import argparse
import re

from preflight.cli import _common
from preflight.core.cost import format_cost, plain_decimal, total_cost
from preflight.core.estimation import Estimate, estimate
from preflight.core.options import Options

_SIZE = re.compile(r"^\s*([0-9]+)\s*[xX×]\s*([0-9]+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    match = _SIZE.match(text)
    if not match:
        raise _common.UsageError(f"bad size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    if len(match[1]) > 18 or len(match[2]) > 18:
        raise _common.UsageError(f"bad size {text!r}: no image is that large")
    width, height = int(match[1]), int(match[2])
    if width < 1 or height < 1:
        raise _common.UsageError(f"bad size {text!r}: width and height must be at least 1 px")
    return width, height


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="tokens, processed size and cost for image sizes (no files needed)",
        description="For each WIDTHxHEIGHT: will the API reject it, what size does it "
        "process, how many tokens and dollars. Exit 0 ok, 1 if any size would be "
        "rejected, 2 for bad usage.",
    )
    parser.add_argument("sizes", nargs="+", metavar="WIDTHxHEIGHT")
    _common.add_options(parser)
    _common.add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sizes = [parse_size(text) for text in args.sizes]
    options = _common.options_from_args(args)
    results = [estimate(width, height, options) for width, height in sizes]
    if args.format == "json":
        _common.print_json([r.to_dict() for r in results])
    else:
        for line in render_text(results, options):
            print(line)
    return _common.EXIT_REJECTED if any(r.rejected for r in results) else _common.EXIT_OK


def render_text(results: list[Estimate], options: Options) -> list[str]:
    rows = [
        [
            f"{r.width}x{r.height}",
            f"{r.processed_width}x{r.processed_height}",
            "REJECTED" if r.rejected else "yes" if r.resized else "no",
            str(r.tokens),
            format_cost(r.cost_usd),
            format_cost(r.cost_per_1000_usd),
        ]
        for r in results
    ]
    lines = _common.render_table(
        ["size", "processed", "resized", "tokens", "cost/image", "cost/1000"],
        rows,
        right={3, 4, 5},
    )
    for r in results:
        for reason in r.findings:
            lines.append(f"{r.width}x{r.height}: {reason.code}: {reason.message}")
    first = results[0]
    accepted = [r for r in results if not r.rejected]
    total_tokens = sum(r.tokens for r in accepted)
    total = total_cost(r.cost_usd for r in accepted)
    batch = ", batch -50%" if first.batch else ""
    rate, _ = options.price
    price = "no published price" if rate is None else f"${plain_decimal(rate)}/MTok"
    exact = "" if total is None else f" (exact ${plain_decimal(total)})"
    lines.append(
        f"total: {_common.plural(len(results), 'image')} "
        f"({len(results) - len(accepted)} rejected), "
        f"{total_tokens} tokens, {format_cost(total)}{exact} "
        f"- {first.model} at {price}{batch}, {first.tier} tier, "
        f"{first.rule} rule, surface {first.surface}"
    )
    if options.price_note:
        lines.append(f"note: {options.price_note}")
    return lines
