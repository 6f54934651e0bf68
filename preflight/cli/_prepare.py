"""`preflight prepare PATH... --out DIR`: make every image ready to send.

Rules:
- the input tree is mirrored under DIR, with extensions that match the
  output format; two inputs never share an output (a second a.jpg becomes
  a-2.jpg), no output is written over an input or over the manifest;
- inputs are only read; a bad input is reported and skipped while the rest
  are still done; exit 1 if any input could not be prepared;
- it streams: each output is written (atomically) and released before the
  next input is read, and its line is appended to the manifest
  (preflight-manifest.jsonl: a header line, one line per input, a summary
  line), flushed at once; Ctrl-C and SIGTERM are held while an output and
  its line are committed, so an interrupted run leaves only complete
  outputs and a manifest that lists exactly them (and exits 130 / 143);
- stdout goes through cli/reporters (--format): text is a line per input
  (-q: failures only) and a summary; a failure is a finding whose code is
  the error's, so --ignore and per-file-ignores apply to it; `-` reads
  the paths from stdin (an image from stdin is /dev/stdin, as before).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import stat
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from preflight._core.cost import exact_cost, format_cost, total_cost
from preflight._core.findings import ERROR, Finding
from preflight._core.formats import FORMATS
from preflight._core.geometry import parse_target
from preflight._core.options import Options
from preflight._core.selection import Selection
from preflight._imaging import interrupts
from preflight._imaging.preparation import (
    DEFAULT_PIXEL_CAP,
    PreparedImage,
    prepare,
    write_atomically,
)
from preflight._imaging.tiling import DEFAULT_OVERLAP, Tiling, tile
from preflight._runs.parallel import ordered_map, progress
from preflight._runs.resume import decide, options_digest, read_manifest, source_fields
from preflight.cli import _common, _paths
from preflight.cli._reporters import Result, make_reporter
from preflight.errors import InvalidArgumentError, PreflightError, WriteError

MANIFEST_NAME = "preflight-manifest.jsonl"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="write API-ready copies of images (resized, rotated, converted, re-encoded)",
        description="Writes, for each input image, bytes the API accepts as they are and "
        "does not resize, mirroring the input tree under --out, with a JSON manifest. "
        "Inputs are never modified. Exit 0 when all were prepared, 1 if any could not "
        "be, 2 for bad usage.",
    )
    _common.add_walk_options(parser, selection=True)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--target",
        default="api",
        help="size policy: api (the largest the API keeps; default), guide (1.15 MP, "
        "1568 px), tokens=N (at most N tokens), box=WIDTHxHEIGHT, effective (the size that "
        "carries all the detail the image has, measured: docs/quality.md)",
    )
    parser.add_argument(
        "--check-quality",
        action="store_true",
        help="measure image quality on prepare's own decode and report its warnings "
        "(--quality is the JPEG/WebP quality)",
    )
    parser.add_argument(
        "--tile",
        action="store_true",
        help="split each image into overlapping crops the tier keeps unresized, plus an "
        "overview, written NAME_01, NAME_02, ... in reading order (docs/quality.md)",
    )
    parser.add_argument(
        "--overlap",
        type=_common.positive_int,
        default=DEFAULT_OVERLAP,
        metavar="PX",
        help=f"with --tile: pixels neighbouring tiles share (default {DEFAULT_OVERLAP})",
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
    _common.add_report_options(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="redo every input (by default an input the last run in --out already did, "
        "unchanged and with the same options, is kept: docs/scale.md)",
    )
    _common.add_run_options(parser)
    parser.set_defaults(run=run)


def _quality(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"expected a quality from 1 to 100, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Job:
    source: Path
    relative: Path  # where it goes under --out, before the extension is set
    root: Path | None = None  # the directory walked to find it (None: named outright)


def jobs(paths: list[str], every_file: bool, out: Path | None = None) -> Iterator[Job]:
    """Every input file, with where it goes under --out; the --out tree itself
    is skipped when it lies inside an input directory (a re-run must not
    prepare its own outputs), and so is the manifest."""
    skip = _common.file_id(out) if out is not None else None
    manifest = _common.file_id(out / MANIFEST_NAME) if out is not None else None
    for text in paths:
        root = Path(text)
        if root.is_dir():
            for path in _common.walk_files(root, every_file, skip):
                if path.name == MANIFEST_NAME and _common.file_id(path) == manifest:
                    continue
                yield Job(path, path.relative_to(root), root)
        else:
            yield Job(root, Path(root.name or "stdin"))


class Destinations:
    """Unique output names under --out, never an input's or the manifest's."""

    def __init__(self, out: Path, inputs: set[_common.FileId]) -> None:
        self.out = out
        self.inputs = inputs
        self.manifest = out / MANIFEST_NAME
        self.taken: set[str] = {str(self.manifest).casefold()}

    def claim(self, job: Job, extension: str) -> Path:
        relative = job.relative
        stem = relative.with_suffix("").name if relative.suffix else relative.name
        candidates = [relative.with_name(stem + extension)]
        if relative.suffix.lower() != extension:
            candidates.append(relative.with_name(relative.name + extension))
        candidates += [relative.with_name(f"{stem}-{n}{extension}") for n in range(2, 10_000)]
        for candidate in candidates:
            destination = self.out / candidate
            # Case-folded: on a case-insensitive disk A.jpg and a.jpg are one file.
            if str(destination).casefold() in self.taken:
                continue
            existing = _common.file_id(destination)
            if existing is not None and existing in self.inputs:
                which = (
                    "the source image"
                    if existing == _common.file_id(job.source)
                    else "another input"
                )
                raise InvalidArgumentError(
                    f"{destination}: refusing to overwrite {which}", code="bad-output-path"
                )
            self.taken.add(str(destination).casefold())
            return destination
        raise InvalidArgumentError(
            f"{self.out / relative}: no free output name", code="bad-output-path"
        )


@dataclass
class Totals:
    """What the summary needs, kept as numbers: outputs are not held."""

    files: int = 0
    prepared: int = 0
    unchanged: int = 0
    failed: int = 0
    resumed: int = 0  # done by an earlier run, unchanged since
    priced: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    cost_before: Decimal | None = Decimal(0)
    cost_after: Decimal | None = Decimal(0)

    def add(self, result: PreparedImage) -> None:
        self.prepared += 1
        self.unchanged += result.passed_through
        self.bytes_before += result.source.file_bytes
        self.bytes_after += len(result.data)
        before = result.source_estimate
        if before is not None:
            self.priced += 1
            self.tokens_before += before.tokens
            self.tokens_after += result.tokens
            self.cost_before = total_cost([self.cost_before, before.cost_usd])
            self.cost_after = total_cost([self.cost_after, result.cost_usd])

    def add_entry(self, entry: Mapping[str, object]) -> None:
        """A line an earlier run wrote (resume), counted as when it was done."""
        self.files += 1
        self.prepared += 1
        self.resumed += 1
        self.unchanged += any(
            isinstance(a, dict) and a.get("code") == "passthrough"
            for a in _as_list(entry.get("actions"))
        )
        self.bytes_before += _as_int(entry.get("source_bytes"))
        self.bytes_after += _as_int(entry.get("bytes")) + sum(
            _as_int(o.get("bytes")) for o in _as_list(entry.get("outputs")) if isinstance(o, dict)
        )
        before, after = entry.get("tokens_before"), entry.get("tokens_after")
        if isinstance(before, int) and isinstance(after, int):
            self.priced += 1
            self.tokens_before += before
            self.tokens_after += after
            self.cost_before = total_cost(
                [self.cost_before, _as_cost(entry.get("cost_before_usd"))]
            )
            self.cost_after = total_cost([self.cost_after, _as_cost(entry.get("cost_after_usd"))])

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "resumed": self.resumed,
            "prepared": self.prepared,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "cost_before_usd": exact_cost(self.cost_before),
            "cost_after_usd": exact_cost(self.cost_after),
        }


@dataclass(frozen=True)
class Settings:
    """prepare's own settings, beside the Options: what a worker needs (and
    what, with the Options, decides whether an earlier output still fits)."""

    target: str
    image_format: str
    quality: int | None
    engine: str | None
    pixel_cap: int
    check_quality: bool
    tile: bool
    overlap: int

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def compute(source: Path, options: Options, settings: Settings) -> Computed:
    """The work for one input, in a worker: the prepared image (or tiling),
    and the source facts the manifest keeps for a later resume. Raises a
    PreflightError for an input that cannot be prepared."""
    if settings.tile:
        made: PreparedImage | Tiling = tile(
            source,
            options,
            overlap=settings.overlap,
            format=settings.image_format,
            engine=settings.engine,
            pixel_cap=settings.pixel_cap,
        )
    else:
        made = prepare(
            source,
            options,
            target=parse_target(settings.target, measured=True),
            format=settings.image_format,
            quality=settings.quality,
            engine=settings.engine,
            pixel_cap=settings.pixel_cap,
            check_quality=settings.check_quality,
        )
    facts: dict[str, object] = {}
    try:
        if stat.S_ISREG(os.stat(source).st_mode):  # a pipe cannot be read twice
            facts = source_fields(source)
    except OSError:
        pass  # a vanished file: nothing to resume from
    return Computed(made, facts)


@dataclass(frozen=True)
class Computed:
    made: PreparedImage | Tiling
    source_facts: dict[str, object]


def run(args: argparse.Namespace) -> int:
    options = _common.options_from_args(args)
    # A bad target is bad usage, not a bad file; "effective" is measured per image.
    parse_target(args.target, measured=True)
    settings = Settings(
        args.target,
        args.image_format,
        args.quality,
        args.engine,
        args.pixel_cap,
        args.check_quality,
        args.tile,
        args.overlap,
    )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _common.command_line_error(f"--out {out}: exists and is not a directory")
    todo = _selected_jobs(
        list(jobs(_paths.expand_stdin(args.paths, args.null), args.all, out)), args
    )
    inputs = {found for job in todo if (found := _common.file_id(job.source)) is not None}
    destinations = Destinations(out, inputs)
    manifest_path = out / MANIFEST_NAME
    if _common.file_id(manifest_path) in inputs:
        raise _common.command_line_error(f"{manifest_path}: the manifest would overwrite an input")
    _refuse_foreign_manifest(manifest_path)
    # Resume: what the last run did with the same options, and still holds.
    options_hash = options_digest(options, settings.to_dict())
    previous = None if args.force else read_manifest(manifest_path)
    decisions = [decide(previous, job.source, options_hash) for job in todo]
    totals = Totals()
    display = _common.display_from_args(args)
    selection = _common.selection_from_args(args)
    try:
        out.mkdir(parents=True, exist_ok=True)
        manifest = manifest_path.open("w", encoding="utf-8")
    except OSError as error:
        raise WriteError(f"{manifest_path}: cannot write ({error.strerror or error})") from None
    with manifest:
        header_line = {MANIFEST_MARK: 1, "options": options.to_dict(), "options_hash": options_hash}
        _write_line(manifest, {**header_line, "settings": settings.to_dict()})
        header = {"options": options.to_dict(), "manifest": str(manifest_path)}
        reporter = make_reporter("prepare", display, header)
        fresh = [job for job, decision in zip(todo, decisions, strict=True) if not decision.done]
        # Closed however the loop ends: an interrupt while an output is
        # committed must stop the workers too (interpreter exit would wait
        # for them to finish every queued input).
        results = _computed(fresh, options, settings, args)
        shown = progress(len(todo), args.progress and args.format == "text", "prepare")
        with shown, contextlib.closing(results):
            for job, decision in zip(todo, decisions, strict=True):
                interrupts.checkpoint()
                if decision.done:
                    assert decision.entry is not None
                    entry = _resumed(job, decision.entry, destinations, manifest, totals)
                else:
                    outcome = next(results)
                    entry = _commit(job, outcome, options, destinations, manifest, totals)
                reporter.add(_result(entry, job, selection, args.settings.root))
                shown.advance()
        _write_line(manifest, {"summary": totals.to_dict()})
    return reporter.finish(totals.to_dict(), [_summary_line(totals, manifest_path)])


def _computed(
    fresh: list[Job], options: Options, settings: Settings, args: argparse.Namespace
) -> Generator[Computed | BaseException, None, None]:
    """compute() for every job, in input order: on a cluster, over a pool of
    processes, or here (the same results whatever runs them)."""
    work = functools.partial(compute, options=options, settings=settings)
    sources = [job.source for job in fresh]
    if args.scheduler:
        from preflight._runs.distributed import ordered_map_on_cluster

        yield from ordered_map_on_cluster(work, sources, args.scheduler)
        return
    jobs = _common.jobs_from_args(args, len(sources), heavy=True)
    # Small chunks: each result carries an encoded image.
    yield from ordered_map(work, sources, jobs=jobs, chunk_size=4, return_exceptions=True)


def _resumed(
    job: Job,
    earlier: Mapping[str, object],
    destinations: Destinations,
    manifest: TextIO,
    totals: Totals,
) -> dict[str, object]:
    """An input the last run already did: its line again, its output kept."""
    entry = {**earlier, "resumed": True}
    outputs = entry.get("outputs")
    for output in (
        [o["output"] for o in outputs if isinstance(o, dict)]
        if isinstance(outputs, list)
        else [entry.get("output")]
    ):
        if isinstance(output, str):
            destinations.taken.add(output.casefold())
    _write_line(manifest, entry)
    totals.add_entry(entry)
    return entry


def _selected_jobs(todo: list[Job], args: argparse.Namespace) -> list[Job]:
    """The jobs left after exclude globs and .gitignore (cli/paths)."""
    settings = args.settings
    found = [
        _paths.Candidate(job.source, job.root or job.source, job.root is not None) for job in todo
    ]
    kept = _paths.select_files(
        found,
        root=settings.root,
        exclude=(*settings.get("exclude", ()), *settings.get("extend-exclude", ())),
        force_exclude=args.force_exclude,
        respect_gitignore=args.respect_gitignore,
    )
    chosen = {id(c.path) for c in kept}
    return [job for job in todo if id(job.source) in chosen]


def _result(entry: dict[str, object], job: Job, selection: Selection, root: Path) -> Result:
    """A manifest entry as the reporters take it: a failure is a finding."""
    name = str(entry["source"])
    if entry["status"] != "error":
        found = entry.get("findings", [])
        assert isinstance(found, list)
        warnings = tuple(
            Finding(str(f["code"]), str(f["severity"]), str(f["message"]), str(f["fix"]))
            for f in found
        )
        relative = _paths.relative_to(job.source, root)
        return Result(
            name=name,
            findings=selection.keep(warnings, relative),
            data=entry,
            lines=(_entry_line(entry),),
        )
    error = entry["error"]
    assert isinstance(error, dict)
    failure = Finding(str(error["code"]), ERROR, str(error["message"]))
    relative = _paths.relative_to(job.source, root)
    return Result(name=name, findings=selection.keep([failure], relative), data=entry)


MANIFEST_MARK = "preflight_manifest"


def _refuse_foreign_manifest(path: Path) -> None:
    """An existing file at the manifest's place is replaced only if it is a
    manifest of ours: never a user's file that happens to have the name."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(4096)
    except FileNotFoundError:
        return
    except OSError as error:
        raise WriteError(f"{path}: cannot read ({error.strerror or error})") from None
    if MANIFEST_MARK.encode() not in first:
        raise _common.command_line_error(
            f"{path}: exists and is not a preflight manifest; not replacing it"
        )


def _write_line(manifest: TextIO, entry: dict[str, object]) -> None:
    manifest.write(json.dumps(entry, separators=(",", ":")) + "\n")
    manifest.flush()


def _commit(
    job: Job,
    outcome: Computed | BaseException,
    options: Options,
    destinations: Destinations,
    manifest: TextIO,
    totals: Totals,
) -> dict[str, object]:
    """Write what a worker made, and its manifest line, together."""
    totals.files += 1
    entry: dict[str, object] = {"source": str(job.source)}
    try:
        if isinstance(outcome, BaseException):
            raise outcome
        made = outcome.made
        if isinstance(made, Tiling):
            return _commit_tiles(job, made, outcome, options, destinations, manifest, totals)
        destination = destinations.claim(job, made.extension)
        # The output and its manifest line go together, or neither does.
        with _common.signals_deferred():
            made.save(destination)
            entry.update(made.manifest_fields(str(destination)), **outcome.source_facts)
            _write_line(manifest, entry)
    except PreflightError as error:
        totals.failed += 1
        entry.update(status="error", error={"code": error.code, "message": str(error)})
        _write_line(manifest, entry)
        return entry
    totals.add(made)
    return entry


def _commit_tiles(
    job: Job,
    tiling: Tiling,
    outcome: Computed,
    options: Options,
    destinations: Destinations,
    manifest: TextIO,
    totals: Totals,
) -> dict[str, object]:
    """--tile: the overview and the tiles of one input, each its own file,
    with one manifest line for all of them (committed together)."""
    entry: dict[str, object] = {"source": str(job.source)}
    written = []
    for number, image in enumerate(tiling.images, start=1):
        suffix = FORMATS[image.media_type.split("/", 1)[1]].extensions[0]
        # NAME_01 (no dot: the number must not read as an extension).
        named = Job(job.source, job.relative.with_name(f"{job.relative.stem}_{number:02d}"))
        written.append((destinations.claim(named, suffix), image))
    with _common.signals_deferred():
        for destination, image in written:
            write_atomically(destination, image.data)
        entry.update(
            status="ok",
            outputs=[
                {
                    "output": str(destination),
                    "label": image.label,
                    "role": image.role,
                    "box": list(image.box),
                    "width": image.width,
                    "height": image.height,
                    "media_type": image.media_type,
                    "tokens": image.tokens,
                    "bytes": len(image.data),
                }
                for destination, image in written
            ],
            tokens_tiled=tiling.tokens,
            tokens_whole=tiling.whole_tokens,
            source_bytes=tiling.source_bytes,
            **outcome.source_facts,
        )
        _write_line(manifest, entry)
    totals.prepared += 1
    totals.bytes_before += tiling.source_bytes
    totals.bytes_after += sum(len(image.data) for _, image in written)
    totals.tokens_before += tiling.whole_tokens
    totals.tokens_after += tiling.tokens
    totals.priced += 1
    totals.cost_before = total_cost([totals.cost_before, options.cost(tiling.whole_tokens)])
    totals.cost_after = total_cost([totals.cost_after, options.cost(tiling.tokens)])
    return entry


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _as_int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _as_cost(value: object) -> Decimal | None:
    return Decimal(value) if isinstance(value, str) else None


def _entry_line(entry: dict[str, object]) -> str:
    if entry["status"] == "error":
        error = entry["error"]
        assert isinstance(error, dict)
        return f"{entry['source']}: {error['code']} {error['message']}"
    if "outputs" in entry:
        outputs = entry["outputs"]
        assert isinstance(outputs, list)
        return (
            f"{entry['source']}: "
            + "; ".join(
                f"{o['label']} {o['role']} {o['width']}x{o['height']} {o['tokens']} tokens -> "
                f"{o['output']}"
                for o in outputs
            )
            + (
                f" ({len(outputs)} images, {entry['tokens_tiled']} tokens; "
                f"{entry['tokens_whole']} sent whole)"
            )
        )
    actions = entry["actions"]
    assert isinstance(actions, list)
    did = ", ".join(a["code"] for a in actions if a["code"] != "metadata-stripped")
    return (
        f"{entry['source']} -> {entry['output']}: {entry['source_width']}x"
        f"{entry['source_height']} -> {entry['width']}x{entry['height']}, "
        f"{_size(entry['source_bytes'])} -> {_size(entry['bytes'])} ({did})"
    )


def _summary_line(totals: Totals, manifest: Path) -> str:
    return (
        f"{_common.plural(totals.files, 'file')}: {totals.prepared} prepared "
        f"({totals.unchanged} unchanged"
        + (f", {totals.resumed} done by an earlier run" if totals.resumed else "")
        + f"), {totals.failed} failed; bytes "
        f"{_size(totals.bytes_before)} -> {_size(totals.bytes_after)}; tokens "
        f"{totals.tokens_before} -> {totals.tokens_after}, cost {format_cost(totals.cost_before)} "
        f"-> {format_cost(totals.cost_after)} (the {totals.priced} the API accepted before); "
        f"manifest: {manifest}"
    )


def _size(count: object) -> str:
    assert isinstance(count, int)
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
