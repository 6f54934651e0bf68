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
  the paths from stdin (an image from stdin is /dev/stdin, as before);
- the flags become one PrepareSettings, validated once; the batch engine
  (preflight._runs.batch) does the rest: jobs, names, resume, the
  manifest, deferred commits, totals. This module parses and prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preflight._core.budgets import DEFAULT_PIXEL_CAP
from preflight._core.cost import format_cost
from preflight._core.defaults import DEFAULT_OVERLAP
from preflight._core.findings import ERROR, Finding
from preflight.cli import _common, _paths
from preflight.cli._reporters import Result, make_reporter

if TYPE_CHECKING:
    from preflight._core.options import Options
    from preflight._core.selection import Selection
    from preflight._core.settings import PrepareSettings
    from preflight._runs.batch import Made, PrepareJob, PrepareTotals

# Start-up (docs/speed.md): the flags only at import; the batch engine, the
# pool and the image engines are imported in run() and the helpers it calls.


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
        dest="measure_quality",
        action="store_true",
        help="measure image quality on prepare's own decode and report its warnings "
        "(as check --quality does)",
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
    parser.add_argument(
        "--encoder-quality",
        dest="encoder_quality",
        type=_quality,
        metavar="Q",
        help="JPEG/WebP encoder quality 1-100 (default 85, lowered to fit the byte limit)",
    )
    parser.add_argument(
        "--quality",
        dest="encoder_quality",
        type=_quality,
        metavar="Q",
        action=_DeprecatedQuality,
        help="deprecated: --encoder-quality (on the command line, 'quality' means "
        "measuring it: check --quality, prepare --check-quality)",
    )
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


class _DeprecatedQuality(argparse.Action):
    """prepare --quality Q, 0.2's name of --encoder-quality: still taken for
    one release, with a note on stderr."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(
            "preflight prepare: --quality is deprecated and will be removed: use --encoder-quality",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def settings_from_args(args: argparse.Namespace) -> PrepareSettings:
    """prepare's settings, validated once: what every worker runs with (a bad
    target, or one tiles cannot honour, is bad usage: exit 2)."""
    from preflight._core.settings import make_prepare_settings

    return make_prepare_settings(
        target=args.target,
        image_format=args.image_format,
        encoder_quality=args.encoder_quality,
        engine=args.engine,
        pixel_cap=args.pixel_cap,
        measure_quality=args.measure_quality,
        tile=args.tile,
        overlap=args.overlap,
    )


def run(args: argparse.Namespace) -> int:
    import contextlib

    from preflight._inputs.remote import is_url
    from preflight._runs.batch import PrepareBatch, prepare_jobs
    from preflight._runs.parallel import progress

    options = _common.options_from_args(args)
    settings = settings_from_args(args)
    if is_url(args.out):
        raise _common.command_line_error(
            f"--out {args.out}: prepare writes into a local folder (its manifest grows "
            "line by line as outputs are committed); copy the folder to object storage after"
        )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _common.command_line_error(f"--out {out}: exists and is not a directory")
    found = prepare_jobs(_paths.expand_stdin(args.paths, args.null), every_file=args.all, out=out)
    batch = PrepareBatch(_selected_jobs(found, args), out, options, settings, force=args.force)
    display = _common.display_from_args(args)
    selection = _common.selection_from_args(args)
    header = {"options": options.to_dict(), "manifest": str(batch.manifest_path)}
    reporter = make_reporter("prepare", display, header)
    # Closed however the loop ends: an interrupt while an output is
    # committed must stop the workers too (interpreter exit would wait for
    # them to finish every queued input).
    results = _made(batch.fresh, options, settings, args)
    shown = progress(len(batch.jobs), args.progress and args.format == "text", "prepare")
    committed = batch.run(results)
    with shown, contextlib.closing(results), contextlib.closing(committed):
        for job, entry in committed:
            reporter.add(_result(entry, job, selection, args.settings.root))
            shown.advance()
    totals = batch.totals
    return reporter.finish(totals.to_dict(), [_summary_line(totals, batch.manifest_path)])


def _made(
    fresh: list[PrepareJob], options: Options, settings: PrepareSettings, args: argparse.Namespace
) -> Generator[Made | BaseException, None, None]:
    """make() for every job, in input order: on a cluster, over a pool of
    processes, or here (the same results whatever runs them)."""
    import functools

    from preflight._runs.batch import make
    from preflight._runs.parallel import choose_map

    work = functools.partial(make, options=options, settings=settings)
    sources = [job.source for job in fresh]
    if args.scheduler:
        from preflight._runs.distributed import ordered_map_on_cluster

        yield from ordered_map_on_cluster(work, sources, args.scheduler)
        return
    # Decoding work: --jobs, else moved to a pool when it is worth one
    # (parallel.choose_map). Small chunks: each result carries an encoded image.
    yield from choose_map(
        work, sources, jobs=args.jobs, decodes=True, chunk_size=4, return_exceptions=True
    )


def _candidate(job: PrepareJob) -> _paths.Candidate:
    return _paths.Candidate(Path(job.source), Path(job.root or job.source), job.root is not None)


def _selected_jobs(todo: list[PrepareJob], args: argparse.Namespace) -> list[PrepareJob]:
    """The jobs left after exclude globs and .gitignore (cli/paths); a URL's
    are all kept, as check keeps them."""
    from preflight._inputs.remote import is_url

    settings = args.settings
    pairs = [(job, _candidate(job)) for job in todo if not is_url(job.source)]
    kept = _paths.select_files(
        [candidate for _, candidate in pairs],
        root=settings.root,
        exclude=(*settings.get("exclude", ()), *settings.get("extend-exclude", ())),
        force_exclude=args.force_exclude,
        respect_gitignore=args.respect_gitignore,
    )
    chosen = {id(candidate) for candidate in kept}
    wanted = {id(job) for job, candidate in pairs if id(candidate) in chosen}
    return [job for job in todo if is_url(job.source) or id(job) in wanted]


def _result(entry: dict[str, object], job: PrepareJob, selection: Selection, root: Path) -> Result:
    """A manifest entry as the reporters take it: a failure is a finding."""
    name = str(entry["source"])
    if entry["status"] != "error":
        found = entry.get("findings", [])
        assert isinstance(found, list)
        warnings = tuple(
            Finding(str(f["code"]), str(f["severity"]), str(f["message"]), str(f["fix"]))
            for f in found
        )
        relative = _paths.relative_to(Path(job.source), root)
        return Result(
            name=name,
            findings=selection.keep(warnings, relative),
            data=entry,
            lines=(_entry_line(entry),),
        )
    error = entry["error"]
    assert isinstance(error, dict)
    failure = Finding(str(error["code"]), ERROR, str(error["message"]))
    relative = _paths.relative_to(Path(job.source), root)
    return Result(name=name, findings=selection.keep([failure], relative), data=entry)


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


def _summary_line(totals: PrepareTotals, manifest: Path) -> str:
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
