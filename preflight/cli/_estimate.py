"""`preflight estimate WxH ...`: what the API does with these sizes and what they cost.

Pure arithmetic: no files are read. Text is a table of every size, each
rejection's reasons and a total (-q: reasons and total only); the other
formats come from cli/reporters, one result per size.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from preflight._core.cost import format_cost, plain_decimal, total_cost
from preflight._core.estimation import Estimate, estimate
from preflight._core.options import Options
from preflight._core.planning import Plan
from preflight._inputs.sizes import read_sizes
from preflight._runs.costplan import CostPlan, cost_plan, target_text
from preflight.cli import _common
from preflight.cli._reporters import Result, make_reporter

_SIZE = re.compile(r"^\s*([0-9]+)\s*[xX×]\s*([0-9]+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    match = _SIZE.match(text)
    if not match:
        raise _common.command_line_error(
            f"bad size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080"
        )
    if len(match[1]) > 18 or len(match[2]) > 18:
        raise _common.command_line_error(f"bad size {text!r}: no image is that large")
    width, height = int(match[1]), int(match[2])
    if width < 1 or height < 1:
        raise _common.command_line_error(
            f"bad size {text!r}: width and height must be at least 1 px"
        )
    return width, height


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="tokens, processed size and cost for image sizes (no files needed)",
        description="For each WIDTHxHEIGHT: will the API reject it, what size does it "
        "process, how many tokens and dollars. Exit 0 ok, 1 if any size would be "
        "rejected, 2 for bad usage.",
    )
    parser.add_argument("sizes", nargs="*", metavar="WIDTHxHEIGHT")
    parser.add_argument(
        "--from",
        dest="sizes_file",
        metavar="FILE",
        help="a file of sizes: CSV (or Parquet) with columns width,height and optional "
        "count; - reads CSV from stdin. Prints a cost plan (docs/scale.md)",
    )
    parser.add_argument(
        "--target",
        help="with --from: price the images after prepare resizes them to this target "
        "(api, guide, tokens=N, box=WxH)",
    )
    _common.add_options(parser, many_models=True)
    _common.add_report_options(parser)
    _common.add_run_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.sizes_file is not None:
        if args.sizes:
            raise _common.command_line_error("give sizes or --from FILE, not both")
        return run_plan(args)
    if not args.sizes:
        raise _common.command_line_error("give sizes (WIDTHxHEIGHT ...) or --from FILE")
    if args.target is not None or len(getattr(args, "models", None) or []) > 1:
        raise _common.command_line_error("--target and several --model go with --from FILE")
    display = _common.display_from_args(args, code_separator=": ")
    selection = _common.selection_from_args(args)
    sizes = [parse_size(text) for text in args.sizes]
    options = _common.options_from_args(args)
    results = [estimate(width, height, options) for width, height in sizes]
    if display.format == "text" and not (display.quiet or display.silent or display.statistics):
        for line in render_table(results):
            print(line)
    reporter = make_reporter("estimate", display, {"options": options.to_dict()})
    for r in results:
        reporter.add(
            Result(
                name=f"{r.width}x{r.height}",
                findings=selection.keep(r.findings, None),
                data=r.to_dict(),
                is_path=False,
            )
        )
    return reporter.finish(summary(results, options), render_total(results, options))


def summary(results: list[Estimate], options: Options) -> dict[str, object]:
    accepted = [r for r in results if not r.rejected]
    total = total_cost(r.cost_usd for r in accepted)
    return {
        "images": len(results),
        "rejected": len(results) - len(accepted),
        "tokens": sum(r.tokens for r in accepted),
        "cost_usd": None if total is None else plain_decimal(total),
    }


def render_text(results: list[Estimate], options: Options) -> list[str]:
    """The whole text output: the table, each rejection's reasons, the total."""
    lines = render_table(results)
    for r in results:
        for reason in r.findings:
            lines.append(f"{r.width}x{r.height}: {reason.code}: {reason.message}")
    return lines + render_total(results, options)


def render_table(results: list[Estimate]) -> list[str]:
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
    return _common.render_table(
        ["size", "processed", "resized", "tokens", "cost/image", "cost/1000"],
        rows,
        right={3, 4, 5},
    )


def render_total(results: list[Estimate], options: Options) -> list[str]:
    """The total line, then a note on the price if there is one."""
    lines: list[str] = []
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


def run_plan(args: argparse.Namespace) -> int:
    """estimate --from FILE: every size of the file priced on each --model,
    exact totals, a histogram of tokens per image and each bucket's share."""
    if args.format not in ("text", "json"):
        raise _common.command_line_error("estimate --from prints text or json")
    options = _common.options_from_args(args)
    models = getattr(args, "models", None) or [args.model]
    sizes = read_sizes(args.sizes_file)
    planner = None
    if args.scheduler:
        from preflight._runs.distributed import plan_on_cluster

        def planner(w: Any, h: Any, c: Any, o: Options) -> Plan:
            return plan_on_cluster(w, h, c, scheduler=args.scheduler, options=o)

    found = cost_plan(
        sizes.widths,
        sizes.heights,
        sizes.counts,
        models=models,
        target=args.target,
        options=options,
        planner=planner,
    )
    if args.format == "json":
        _common.print_json(
            {"schema_version": 1, "command": "estimate", "source": sizes.source, **found.to_dict()}
        )
    elif not args.silent:
        for line in render_plan(found, sizes.source):
            print(line)
    rejected = any(m.rejected for m in found.models)
    return _common.EXIT_OK if args.exit_zero or not rejected else _common.EXIT_REJECTED


def render_plan(found: CostPlan, source: str) -> list[str]:
    after = "" if found.target is None else f", after resizing to {target_text(found.target)}"
    lines = [
        f"{source}: {found.rows:,} sizes, {found.images:,} images{after}"
        + (f" ({found.resized_by_target:,} resized by it)" if found.target is not None else "")
    ]
    rows = [
        [
            m.model,
            m.tier,
            f"{m.images:,}",
            f"{m.rejected:,}",
            f"{m.resized:,}",
            f"{m.tokens:,}",
            format_cost(m.cost_usd),
            "yes" if m.batch else "no",
        ]
        for m in found.models
    ]
    lines += _common.render_table(
        ["model", "tier", "images", "rejected", "resized", "tokens", "cost", "batch"],
        rows,
        right={2, 3, 4, 5, 6},
    )
    first = found.models[0]
    lines.append(f"tokens per image on {first.model} (share of images, share of cost):")
    for bucket in first.histogram:
        if not bucket.images:
            continue
        image_share = bucket.images / first.images if first.images else 0.0
        cost_share = bucket.tokens / first.tokens if first.tokens else 0.0
        lines.append(
            f"  {bucket.label:>12}  {bucket.images:>12,} images {image_share:6.1%}  "
            f"{format_cost(bucket.cost_usd):>10} {cost_share:6.1%}"
        )
    for m in found.models:
        if m.price_note:
            lines.append(f"note: {m.price_note}")
    return lines
