"""`preflight pack PATH... --prompt TEXT --out DIR`: images packed into request bodies.

It packs the images into the fewest Messages request bodies (pack_images)
and writes one JSON body per request, DIR/request-001.json and on, then
prints the plan. Directories are walked as every subcommand walks them. Exit
1 when an image could not be packed (or a body would be rejected), 0
otherwise, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from preflight._core.cost import format_cost
from preflight._imaging.preparation import write_atomically
from preflight._requests.packing import DEFAULT_MAX_TOKENS, PREFERENCES, Pack, pack_images
from preflight.cli import _common
from preflight.cli import _paths as walking


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "pack",
        help="pack images into the fewest Messages request bodies, one JSON file each",
        description="Images in order, 'Image N:' before each when a request holds several, "
        "the prompt last. Exit 0 when every image was packed, 1 otherwise, 2 for bad usage.",
    )
    _common.add_walk_options(parser)
    parser.add_argument("--prompt", help="the text after the images, in every request")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the bodies")
    parser.add_argument(
        "--prefer",
        choices=PREFERENCES,
        default="tokens",
        help="with more than 20 images over 2000 px: fewest image tokens (default), fewest "
        "requests, or full size (detail)",
    )
    parser.add_argument(
        "--max-tokens",
        dest="max_tokens",
        type=_common.positive_int,
        default=DEFAULT_MAX_TOKENS,
        metavar="N",
        help=f"max_tokens written into each body (default {DEFAULT_MAX_TOKENS})",
    )
    _common.add_options(parser, request=False)
    _common.add_format_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    paths = [str(c.path) for c in walking.candidates(args.paths, args.all)]
    options = _common.options_from_args(args)
    pack = pack_images(
        paths, prompt=args.prompt, options=options, prefer=args.prefer, max_tokens=args.max_tokens
    )
    out = Path(args.out)
    names = []
    for number, request in enumerate(pack.requests, start=1):
        name = out / f"request-{number:03d}.json"
        text = json.dumps(request.body, ensure_ascii=False, separators=(",", ":"))
        write_atomically(name, text.encode())
        names.append(str(name))
    if args.format == "json":
        data = pack.to_dict()
        for entry, name in zip(data["requests"], names, strict=True):  # type: ignore[call-overload]
            entry["file"] = name
        _common.print_json(data)
    else:
        for line in render_text(pack, names, paths):
            print(line)
    bad = pack.failures or any(r.report.rejected for r in pack.requests)
    return _common.EXIT_REJECTED if bad else _common.EXIT_OK


def render_text(pack: Pack, names: list[str], paths: list[str]) -> list[str]:
    lines = [f"plan: {pack.reason}"]
    for request, name in zip(pack.requests, names, strict=True):
        first, last = request.images[0] + 1, request.images[-1] + 1
        lines.append(
            f"{name}: images {first}-{last} ({_common.plural(len(request.images), 'image')}), "
            f"{request.tokens} image tokens, {request.body_bytes:,} bytes"
            + (" REJECTED" if request.report.rejected else "")
        )
    for failure in pack.failures:
        lines.append(f"{paths[failure.index]}: not packed: {failure.finding.code} "
                     f"{failure.finding.message}")  # fmt: skip
    lines.append(
        f"total: {_common.plural(pack.total_requests, 'request')}, "
        f"{_common.plural(pack.images, 'image')}, {pack.tokens} image tokens, "
        f"{format_cost(pack.cost_usd)} ({format_cost(pack.batch_cost_usd)} with Message "
        f"Batches) on {pack.options.model.name}"
    )
    return lines
