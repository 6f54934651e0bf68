"""`preflight estimate WxH ...`: what the API does with these sizes and what they cost.

Pure arithmetic: no files are read. Text is a table of every size, each
rejection's reasons and a total (-q: reasons and total only); the other
formats come from cli/reporters, one result per size.

`--from FILE`: a cost plan of a file of sizes (CSV or Parquet) on each
--model: text is a table of the models and a histogram per model (-q: the
table only); json and jsonl are the reporters' layout, one result per
model. A flag the command cannot use is a usage error, not ignored
(UNUSED_FLAGS); docs/estimate.md lists them.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from preflight._core.cost import format_cost, plain_decimal, total_cost
from preflight.cli import _common
from preflight.cli._reporters import Display, Result, make_reporter

if TYPE_CHECKING:
    from preflight._core.estimation import Estimate
    from preflight._core.options import Options
    from preflight._core.planning import Plan
    from preflight._runs.costplan import CostPlan

# Start-up (docs/speed.md): the flags only at import; the estimator and the
# cost plan (numpy) are imported by the functions that run them.

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
        help="a file of sizes: CSV (as spreadsheets save it) or Parquet, with columns "
        "width,height and optional count (other names: --columns); - reads CSV from "
        "stdin. Prints a cost plan per --model (docs/estimate.md)",
    )
    parser.add_argument(
        "--target",
        help="with --from: price the images after prepare resizes them to this target "
        "(api, guide, tokens=N, box=WxH)",
    )
    parser.add_argument(
        "--separator",
        type=_separator,
        metavar="SEP",
        help="with --from: the CSV's separator: comma, semicolon, tab or pipe (default: "
        "the one the header line holds most of)",
    )
    parser.add_argument(
        "--columns",
        type=_column_names,
        metavar="width=W,height=H[,count=N]",
        help="with --from: the file's names for the width, height and count columns "
        "(default width, height, count; case-insensitive)",
    )
    _common.add_options(parser, many_models=True)
    _common.add_report_options(parser)
    running = parser.add_argument_group("running")
    running.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --from: plan on this Dask distributed cluster (tcp://host:8786; docs/remote.md)",
    )
    # Accepted by the parser only to be refused in words (UNUSED_FLAGS):
    # estimate runs in this process.
    running.add_argument("-j", "--jobs", help=argparse.SUPPRESS)
    running.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="estimate draws no progress bar, so this always holds (accepted for scripts "
        "that pass it to every command)",
    )
    parser.set_defaults(run=run)


_SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


def _separator(text: str) -> str:
    given = text.strip().lower() if text.strip() else text
    found = _SEPARATORS.get(given) or ("\t" if given == "\\t" else given)
    if found not in _SEPARATORS.values():
        raise argparse.ArgumentTypeError(
            f"expected comma, semicolon, tab or pipe (or , ; | \\t), got {text!r}"
        )
    return found


def _column_names(text: str) -> dict[str, str]:
    """width=W,height=H[,count=N] as {role: name}."""
    found: dict[str, str] = {}
    for part in text.split(","):
        role, equals, name = part.partition("=")
        role = role.strip().lower()
        if not equals or not name.strip():
            raise argparse.ArgumentTypeError(f"expected width=W,height=H[,count=N], got {text!r}")
        if role not in ("width", "height", "count"):
            raise argparse.ArgumentTypeError(
                f"unknown column {role!r} in {text!r}: the columns are width, height, count"
            )
        if role in found:
            raise argparse.ArgumentTypeError(f"column {role!r} named twice in {text!r}")
        found[role] = name.strip()
    return found


# The flags a mode cannot use, each with the reason given when it is used:
# (attribute, its value when not given, the flag, why). `estimate` has no
# worker processes (a plan of 10 million sizes is one vectorized pass of
# about a second); a cost plan has no findings to select, count, explain
# or show more of. (--no-progress is not here: estimate draws no progress
# bar, so what it asks for always holds.)
UNUSED_FLAGS: dict[str, tuple[tuple[str, object, str, str], ...]] = {
    "always": (("jobs", None, "--jobs", "estimate runs in this process (one vectorized pass)"),),
    "sizes": (
        ("scheduler", None, "--scheduler", "it goes with --from FILE"),
        ("separator", None, "--separator", "it goes with --from FILE"),
        ("columns", None, "--columns", "it goes with --from FILE"),
    ),
    "plan": (
        ("verbose", False, "-v", "a cost plan prints every figure it has"),
        ("statistics", False, "--statistics", "a cost plan has no findings to count"),
        ("show_fixes", False, "--show-fixes", "a cost plan has no findings to fix"),
        ("select", None, "--select", "a cost plan has no finding codes"),
        ("extend_select", None, "--extend-select", "a cost plan has no finding codes"),
        ("ignore", None, "--ignore", "a cost plan has no finding codes"),
        ("extend_ignore", None, "--extend-ignore", "a cost plan has no finding codes"),
    ),
}
PLAN_FORMATS = ("text", "json", "jsonl")


def refuse_unused(args: argparse.Namespace, mode: str) -> None:
    """A usage error for the first flag given that `mode` cannot use."""
    for attribute, unset, flag, why in (*UNUSED_FLAGS["always"], *UNUSED_FLAGS[mode]):
        if getattr(args, attribute, unset) != unset:
            where = "estimate --from" if mode == "plan" else "estimate"
            raise _common.command_line_error(f"{where} does not take {flag}: {why}")


def run(args: argparse.Namespace) -> int:
    if args.sizes_file is not None:
        if args.sizes:
            raise _common.command_line_error("give sizes or --from FILE, not both")
        return run_plan(args)
    if not args.sizes:
        raise _common.command_line_error("give sizes (WIDTHxHEIGHT ...) or --from FILE")
    refuse_unused(args, "sizes")
    if args.target is not None or len(getattr(args, "models", None) or []) > 1:
        raise _common.command_line_error("--target and several --model go with --from FILE")
    from preflight._core.estimation import estimate

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
    exact totals, a histogram of tokens per image per model with each
    bucket's share."""
    refuse_unused(args, "plan")
    if args.format not in PLAN_FORMATS:
        raise _common.command_line_error(
            f"estimate --from prints {', '.join(PLAN_FORMATS[:-1])} or {PLAN_FORMATS[-1]}, "
            f"not {args.format} (a cost plan has no findings to annotate)"
        )
    from preflight._inputs.sizes import read_sizes
    from preflight._runs.costplan import cost_plan

    display = _common.display_from_args(args)
    options = _common.options_from_args(args)
    models = getattr(args, "models", None) or [args.model]
    sizes = read_sizes(args.sizes_file, separator=args.separator, columns=args.columns)
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
    rejected = any(m.rejected for m in found.models)
    if display.format == "text":
        if not display.silent:
            for line in render_plan(found, sizes.source, quiet=display.quiet):
                print(line)
        return _common.EXIT_OK if display.exit_zero or not rejected else _common.EXIT_REJECTED
    return report_plan(found, sizes.source, display, options, rejected)


# The JSON of a cost plan: 0.2 wrote version 1, a different layout (every
# number a string, the models under "models"); this is the reporters'.
PLAN_SCHEMA_VERSION = 2


def report_plan(
    found: CostPlan, source: str, display: Display, options: Options, rejected: bool
) -> int:
    """json and jsonl: the reporters' layout (header, results, summary), one
    result per model; counts are integers, costs exact decimal strings."""
    plan = found.to_dict()
    header = {
        "schema_version": PLAN_SCHEMA_VERSION,
        "options": options.to_dict(),
        "source": source,
        "target": plan["target"],
    }
    reporter = make_reporter("estimate", display, header)
    for model in found.models:
        reporter.add(Result(name=model.model, findings=(), data=model.to_dict(), is_path=False))
    # A rejected image fails the run as an error finding would.
    reporter.failed = reporter.failed or rejected
    summary = {
        "rows": plan["rows"],
        "images": plan["images"],
        "resized_by_target": plan["resized_by_target"],
        "models": len(found.models),
    }
    return reporter.finish(summary)


def render_plan(found: CostPlan, source: str, quiet: bool = False) -> list[str]:
    """The text of a cost plan: what was read, a row per model, then (not
    with -q) a histogram per model and the price notes."""
    from preflight._runs.costplan import target_text

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
    if quiet:
        return lines
    for m in found.models:
        of = "tokens" if m.cost_usd is None else "cost"
        lines.append(f"tokens per image on {m.model} (share of images, share of {of}):")
        table = [
            [
                bucket.label,
                f"{bucket.images:,} images",
                f"{bucket.images / m.images:.1%}" if m.images else "0.0%",
                format_cost(bucket.cost_usd),
                f"{bucket.tokens / m.tokens:.1%}" if m.tokens else "0.0%",
            ]
            for bucket in m.histogram
        ]
        widths = [max(len(row[i]) for row in table) for i in range(5)] if table else []
        for row in table:
            lines.append(
                "  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
            )
    for m in found.models:
        if m.price_note:
            lines.append(f"note: {m.price_note}")
    return lines
