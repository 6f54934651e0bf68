"""`preflight pack PATH... --prompt TEXT --out DIR`: images packed into request bodies.

It packs the images into the fewest Messages request bodies (pack_images)
and writes one JSON body per request, DIR/request-001.json and on, then
prints the plan. Directories are walked as every subcommand walks them. Exit
1 when an image could not be packed (or a body would be rejected), 0
otherwise, 2 for bad usage.

Rules for what it writes:
- each body is written (atomically) as soon as its request is full, and
  let go: memory holds one request's images, not the whole pack;
- DIR/.preflight-pack lists the bodies pack wrote there, kept up to date
  as each is written; a later pack into DIR first removes those (an
  earlier run's request-NNN.json never sits beside a new run's), and
  refuses (exit 2) to start when DIR holds a request-NNN.json that no pack
  wrote: pack never overwrites or deletes a file it did not make;
- names in its text output are escaped as every text output escapes them.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from preflight._core.cost import format_cost
from preflight._core.defaults import DEFAULT_MAX_TOKENS, PREFERENCES
from preflight.cli import _common
from preflight.cli import _paths as walking
from preflight.cli._reporters import clean_data, display_text
from preflight.errors import InvalidArgumentError, WriteError

if TYPE_CHECKING:
    from preflight._requests.packing import Pack, PackedRequest

# Start-up (docs/speed.md): the flags only at import; packing (and the image
# engines under it) is imported by run().

LEDGER = ".preflight-pack"  # the bodies pack wrote in a folder, one name a line
_BODY_NAME = re.compile(r"request-\d{3,}\.json")


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
    import json

    from preflight._inputs.writing import write_atomically
    from preflight._requests.packing import start_pack

    paths = [str(c.path) for c in walking.candidates(args.paths, args.all)]
    options = _common.options_from_args(args)
    out = Path(args.out)
    clear_earlier_bodies(out)
    packing = start_pack(
        paths, prompt=args.prompt, options=options, prefer=args.prefer, max_tokens=args.max_tokens
    )
    names: list[str] = []
    done: list[PackedRequest] = []
    for number, request in enumerate(packing.requests(), start=1):
        name = out / f"request-{number:03d}.json"
        text = json.dumps(request.body, ensure_ascii=False, separators=(",", ":"))
        write_atomically(name, text.encode())
        names.append(name.name)
        write_atomically(out / LEDGER, "".join(f"{n}\n" for n in names).encode())
        done.append(request.without_images())  # the body is on disk: let its images go
    pack = packing.result(done)
    shown = [str(out / name) for name in names]
    if args.format == "json":
        data = pack.to_dict()
        for entry, name in zip(data["requests"], shown, strict=True):  # type: ignore[call-overload]
            entry["file"] = name
        _common.print_json(clean_data(data))
    else:
        for line in render_text(pack, shown, paths):
            print(display_text(line))
    bad = pack.failures or any(r.report.rejected for r in pack.requests)
    return _common.EXIT_REJECTED if bad else _common.EXIT_OK


def clear_earlier_bodies(out: Path) -> None:
    """Remove the bodies an earlier pack wrote in `out` (its ledger lists
    them); refuse to start when `out` holds a body no pack wrote."""
    try:
        ledger = (out / LEDGER).read_text(encoding="utf-8", errors="replace").split()
    except FileNotFoundError:
        ledger = []
    except OSError as error:
        raise WriteError(f"{out / LEDGER}: cannot read ({error.strerror or error})") from None
    from preflight._inputs.writing import write_atomically

    earlier = {name for name in ledger if _BODY_NAME.fullmatch(name)}
    try:
        present = {p.name for p in out.iterdir() if _BODY_NAME.fullmatch(p.name)}
    except FileNotFoundError:
        return
    except OSError as error:
        raise WriteError(f"{out}: cannot list ({error.strerror or error})") from None
    strangers = sorted(present - earlier)
    if strangers:
        raise InvalidArgumentError(
            f"--out {out}: holds {strangers[0]}"
            + (f" and {len(strangers) - 1} more" if len(strangers) > 1 else "")
            + ", which no pack wrote there (not listed in its .preflight-pack): move "
            + ("them" if len(strangers) > 1 else "it")
            + " or choose another folder; pack does not overwrite files it did not make",
            code="bad-output-path",
        )
    for name in sorted(present & earlier):
        try:
            (out / name).unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            raise WriteError(f"{out / name}: cannot remove ({error.strerror or error})") from None
    write_atomically(out / LEDGER, b"")


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
