"""`preflight check PATH...`: every file's findings, from its header alone.

Directories are walked as every subcommand walks them (cli/_common); by
default only files with an image extension are looked at, `--all` looks at
every file; exclude globs and .gitignore apply to what a walk finds
(cli/paths). Output goes through cli/reporters: the text shows problems only
(error and warning findings) and a summary, as ruff shows only violations;
-v also shows clean files and info findings. --decode and --quality become
one CheckSettings, and each file is the batch engine's check_one() whatever
runs it (here, --jobs, --scheduler): the same reports every way.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from preflight._core.cost import format_cost, plain_decimal
from preflight.cli import _common, _paths
from preflight.cli._reporters import Result, make_reporter

if TYPE_CHECKING:
    from preflight._core.options import Options
    from preflight._core.settings import CheckSettings
    from preflight._imaging.inspection import Report
    from preflight._runs.batch import CheckTotals

# Start-up (docs/speed.md): the flags only at import; what a run needs is
# imported in run() and the helpers it calls.


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="find every reason the API would reject or resize image files",
        description="Reads only file headers. One line per problem, 'path: CODE message', "
        "and a summary (-v: clean files and info findings too). Exit 0 when nothing would "
        "be rejected, 1 when something would (--strict: warnings too), 2 for bad usage.",
    )
    _common.add_walk_options(parser, selection=True, default_here=True)
    parser.add_argument(
        "--decode",
        action="store_true",
        help="also decode each image's pixel data (slower): data that does not decode is "
        "an error, as the API answers it",
    )
    parser.add_argument(
        "--quality",
        dest="measure_quality",
        action="store_true",
        help="also measure image quality (blurry, upscaled, small-text, low-contrast, blank, "
        "borders): decodes each image once, shrunk on load (docs/quality.md)",
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
    _common.add_report_options(parser, strict=True)
    _common.add_run_options(parser)
    parser.set_defaults(run=run)


def files_to_check(args: argparse.Namespace) -> list[str]:
    """The files named (or read from stdin), directories walked, then
    exclude globs and .gitignore applied (cli/paths); object-storage URLs
    (scheme://) listed with their file system's own listing."""
    from preflight._inputs.remote import is_url

    settings = args.settings
    named = _paths.expand_stdin(args.paths, args.null)
    urls = [p for p in named if is_url(p)]
    if urls:
        from preflight._inputs.remote import expand_sources

        listed = [
            s if isinstance(s, str) else s.url for s in expand_sources(urls, every_file=args.all)
        ]
        named = [p for p in named if not is_url(p)]
    else:
        listed = []
    found = _paths.candidates(named, args.all)
    kept = _paths.select_files(
        found,
        root=settings.root,
        exclude=(*settings.get("exclude", ()), *settings.get("extend-exclude", ())),
        force_exclude=args.force_exclude,
        respect_gitignore=args.respect_gitignore,
    )
    return [str(c.path) for c in kept] + listed


def settings_from_args(args: argparse.Namespace) -> CheckSettings:
    """check's settings, validated once: what every worker runs with."""
    from preflight._core.settings import make_check_settings

    return make_check_settings(decode=args.decode, measure_quality=args.measure_quality)


def run(args: argparse.Namespace) -> int:
    from preflight._runs.batch import CheckTotals

    display = _common.display_from_args(args, group=True)
    selection = _common.selection_from_args(args)
    files = files_to_check(args)
    images = args.images_per_request
    if args.one_request:
        images = max(images, len(files))
    options = _common.options_from_args(args, images_in_request=images)
    settings = settings_from_args(args)
    reports = list(_reports(files, options, settings, args))
    if args.one_request:
        reports = _with_request_findings(reports, options)
    reporter = make_reporter("check", display, {"options": options.to_dict()})
    kept: list[Report] = []
    for report in reports:
        name = report.path or "<input>"
        # Per file, only what it must: the path relative to the settings'
        # folder matters to per-file ignores alone (docs/speed.md).
        relative = (
            _paths.relative_to(name, args.settings.root) if selection.per_file_ignores else None
        )
        findings = selection.keep(report.findings, relative)
        if findings != report.findings:
            report = replace(report, findings=findings)
        kept.append(report)
        clean = not report.findings and display.verbose
        reporter.add(
            Result(
                name=name,
                findings=report.findings,
                data=_ReportData(report),
                verbose_lines=(f"{name}: ok ({_describe(report)})",) if clean else (),
            )
        )
    totals = CheckTotals.of(kept)
    return reporter.finish(totals.to_dict(), [_summary_line(totals)])


class _ReportData(Mapping[str, object]):
    """A report's JSON object, made when a reporter first reads it: the
    text formats never do, and 20,000 to_dict() calls were a tenth of a
    check's own time (docs/speed.md)."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._made: dict[str, object] | None = None

    def _data(self) -> dict[str, object]:
        if self._made is None:
            self._made = self._report.to_dict()
        return self._made

    def __getitem__(self, key: str) -> object:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


def _reports(
    files: list[str], options: Options, settings: CheckSettings, args: argparse.Namespace
) -> Iterator[Report]:
    """The reports in input order: on a cluster (--scheduler), on threads
    (URLs), over a pool of processes (--jobs, or decoding work worth one), or
    here (parallel.choose_map); the same reports whatever runs them."""
    from preflight._runs.parallel import progress

    shown = progress(len(files), args.progress and args.format == "text", "check")
    if args.scheduler:
        from preflight._runs.distributed import check_on_cluster

        with shown:
            found = check_on_cluster(
                files,
                args.scheduler,
                options,
                settings=settings,
                declared_media_type=args.media_type,
                progress=shown.advance,
            )
        yield from found.reports
        return
    import functools

    from preflight._imaging.inspection import Report
    from preflight._inputs.remote import is_url
    from preflight._runs.batch import check_one
    from preflight._runs.parallel import choose_map

    work = functools.partial(
        check_one, options=options, settings=settings, declared_media_type=args.media_type
    )
    runs = choose_map(
        work,
        files,
        jobs=args.jobs,
        decodes=settings.reads_pixels,
        network=any(is_url(name) for name in files),
        # Header reads are tens of microseconds: big chunks; a decode is milliseconds.
        chunk_size=16 if settings.reads_pixels else 256,
    )
    with shown:
        for report in runs:
            assert isinstance(report, Report)
            shown.advance()
            yield report


def _summary_line(totals: CheckTotals) -> str:
    total = totals.cost_usd
    exact = "" if total is None else f" (exact ${plain_decimal(total)})"
    return (
        f"{_common.plural(totals.files, 'file')}: {totals.rejected} would be rejected, "
        f"{totals.warned} accepted with warnings, {totals.clean} clean; "
        f"accepted images: {totals.tokens} tokens, {format_cost(total)}{exact}"
        + (f"; {totals.fetched_bytes:,} bytes fetched" if totals.fetched_bytes else "")
    )


def _with_request_findings(reports: list[Report], options: Options) -> list[Report]:
    """A request that is too large fails as a whole: each image in it gets
    the finding. (Too many images is already each image's, from check.)"""
    from preflight._core.assessment import request_findings
    from preflight._core.findings import REQUEST_TOO_LARGE

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
