# `preflight prepare PATH... --out DIR`: make every image ready to send.
# Rules: the input tree is mirrored under DIR with extensions that match the
# output format; inputs are only read; a bad input is reported and skipped
# while the rest are still done; a JSON manifest records what was done to
# each file; exit 1 if any input could not be prepared.

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from preflight.cli import _common
from preflight.core.cost import exact_cost, format_cost, total_cost
from preflight.core.geometry import parse_target
from preflight.errors import OutputPathError, PreflightError
from preflight.preparation import DEFAULT_PIXEL_CAP, PreparedImage, prepare, write_atomically

MANIFEST_NAME = "preflight-manifest.json"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="write API-ready copies of images (resized, rotated, converted, re-encoded)",
        description="Writes, for each input image, bytes the API accepts as they are and "
        "does not resize, mirroring the input tree under --out, with a JSON manifest. "
        "Inputs are never modified. Exit 0 when all were prepared, 1 if any could not "
        "be, 2 for bad usage.",
    )
    _common.add_walk_options(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--target",
        default="api",
        help="size policy: api (the largest the API keeps; default), guide (1.15 MP, "
        "1568 px), tokens=N (at most N tokens), box=WIDTHxHEIGHT",
    )
    parser.add_argument(
        "--image-format",
        dest="image_format",
        default="auto",
        choices=("auto", "jpeg", "jpg", "png", "webp"),
        help="image format written (default auto: PNG for transparency and flat graphics, "
        "else JPEG)",
    )
    parser.add_argument("--quality", type=_quality, metavar="Q", help="JPEG/WebP quality 1-100")
    _common.add_max_bytes_option(parser)
    parser.add_argument(
        "--engine", choices=("vips", "pillow"), help="image engine (default: pyvips if installed)"
    )
    parser.add_argument(
        "--pixel-cap",
        type=_common.positive_int,
        default=DEFAULT_PIXEL_CAP,
        metavar="N",
        help=f"refuse inputs declaring more pixels than this (default {DEFAULT_PIXEL_CAP:,})",
    )
    _common.add_options(parser)
    _common.add_format_option(parser)
    parser.set_defaults(run=run)


def _quality(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"expected a quality from 1 to 100, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Job:
    source: Path
    relative: Path  # where it goes under --out, before the extension is set


def jobs(paths: list[str], every_file: bool, out: Path | None = None) -> list[Job]:
    """Every input file, with where it goes under --out; the --out tree itself
    is skipped when it lies inside an input directory (a re-run must not
    prepare its own outputs)."""
    skip = out.resolve() if out is not None else None
    found: list[Job] = []
    for text in paths:
        root = Path(text)
        if root.is_dir():
            for path in _common.walk_files(root, every_file, skip):
                found.append(Job(path, path.relative_to(root)))
        else:
            found.append(Job(root, Path(root.name)))
    return found


def run(args: argparse.Namespace) -> int:
    options = _common.options_from_args(args)
    target = parse_target(args.target)  # a bad target is bad usage, not a bad file
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _common.UsageError(f"--out {out}: exists and is not a directory")
    taken: set[Path] = set()
    entries: list[dict[str, object]] = []
    results: list[PreparedImage] = []
    todo = jobs(args.paths, args.all, out)
    sources = {job.source.resolve() for job in todo}
    for job in todo:
        entry: dict[str, object] = {"source": str(job.source)}
        try:
            result = prepare(
                job.source,
                options,
                target=target,
                format=args.image_format,
                quality=args.quality,
                engine=args.engine,
                pixel_cap=args.pixel_cap,
            )
            destination = _destination(out, job, result.extension, taken, sources)
            result.save(destination)
        except PreflightError as error:
            entry.update(status="error", error={"code": error.code, "message": str(error)})
            entries.append(entry)
            continue
        taken.add(destination)
        results.append(result)
        entry.update(_describe(result, destination))
        entries.append(entry)
    try:
        write_atomically(out / MANIFEST_NAME, (json.dumps(entries, indent=1) + "\n").encode())
    except OutputPathError as error:
        raise _common.UsageError(str(error)) from None
    if args.format == "json":
        _common.print_json(entries)
    else:
        for line in render_text(entries, results, out):
            print(line)
    failed = any(e["status"] == "error" for e in entries)
    return _common.EXIT_REJECTED if failed else _common.EXIT_OK


def _destination(out: Path, job: Job, extension: str, taken: set[Path], sources: set[Path]) -> Path:
    """Where the prepared copy of `job` goes; never over any input file."""
    destination = out / job.relative.with_suffix(extension)
    if destination in taken:  # a.png and a.jpg both want a.jpg: keep both
        destination = out / job.relative.with_name(job.relative.name + extension)
    if destination.resolve() in sources or (
        destination.exists() and os.path.samefile(destination, job.source)
    ):
        which = "the source image" if _same(destination, job.source) else "another input"
        raise OutputPathError(f"{destination}: refusing to overwrite {which}")
    return destination


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _describe(result: PreparedImage, destination: Path) -> dict[str, object]:
    info, before = result.source, result.source_estimate
    return {
        "status": "ok",
        "output": str(destination),
        "media_type": result.media_type,
        "source_format": info.format,
        "source_width": info.width,
        "source_height": info.height,
        "width": result.width,
        "height": result.height,
        "source_bytes": info.file_bytes,
        "bytes": len(result.data),
        "tokens_before": before.tokens if before else None,
        "tokens_after": result.tokens,
        "cost_before_usd": exact_cost(before.cost_usd) if before else None,
        "cost_after_usd": exact_cost(result.cost_usd),
        "engine": result.engine,
        "actions": [a.to_dict() for a in result.actions],
    }


def render_text(
    entries: list[dict[str, object]], results: list[PreparedImage], out: Path
) -> list[str]:
    lines = []
    for entry in entries:
        if entry["status"] == "error":
            error = entry["error"]
            assert isinstance(error, dict)
            lines.append(f"{entry['source']}: {error['code']} {error['message']}")
            continue
        actions = entry["actions"]
        assert isinstance(actions, list)
        did = ", ".join(a["code"] for a in actions if a["code"] != "metadata-stripped")
        lines.append(
            f"{entry['source']} -> {entry['output']}: {entry['source_width']}x"
            f"{entry['source_height']} -> {entry['width']}x{entry['height']}, "
            f"{_size(entry['source_bytes'])} -> {_size(entry['bytes'])} ({did})"
        )
    failed = sum(e["status"] == "error" for e in entries)
    unchanged = sum(r.passed_through for r in results)
    priced = [r for r in results if r.source_estimate is not None]
    bytes_before = sum(r.source.file_bytes for r in results)
    bytes_after = sum(len(r.data) for r in results)
    tokens_before = sum(r.source_estimate.tokens for r in priced if r.source_estimate)
    tokens_after = sum(r.tokens for r in priced)
    cost_before = total_cost(r.source_estimate.cost_usd for r in priced if r.source_estimate)
    cost_after = total_cost(r.cost_usd for r in priced)
    lines.append(
        f"{_common.plural(len(entries), 'file')}: {len(results)} prepared ({unchanged} unchanged), "
        f"{failed} failed; bytes {_size(bytes_before)} -> {_size(bytes_after)}; "
        f"tokens {tokens_before} -> {tokens_after}, cost {format_cost(cost_before)} -> "
        f"{format_cost(cost_after)} (the {len(priced)} the API accepted before); "
        f"manifest: {out / MANIFEST_NAME}"
    )
    return lines


def _size(count: object) -> str:
    assert isinstance(count, int)
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
