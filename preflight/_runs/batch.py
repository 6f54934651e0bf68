"""The batch engine: checking and preparing many sources, for every runner alike.

The command line (here, or over a process pool), and the Dask runner (on its
workers) run the same units of work and commit them the same way; only who
runs them differs.

Rules:
- one unit of work per source, module-level and picklable: check_one() (a
  Report) and make() (a prepared image or a tiling, with the facts resume
  needs); the Options and the settings object (CheckSettings,
  PrepareSettings) travel with it whole, validated once by the caller;
- jobs: each folder or URL prefix walked (its files relative to it), each
  file on its own (its name); the output folder, and the manifest in it,
  are never inputs;
- output names are claimed in input order on the side that commits, so they
  never depend on which worker ends first: the source's relative path with
  the output's extension, then the whole name with the extension added,
  then name-2, name-3...; a tiling's images are NAME_01, NAME_02...; two
  inputs never claim one output; no output is an input or the manifest
  (case-folded: on a case-insensitive disk A.jpg and a.jpg are one file);
- the manifest (preflight-manifest.jsonl, read back by resume.py): a header
  line (the options, the settings, one digest of both), one line per input
  as it is committed, flushed at once, then a summary line; a file at its
  place that is not a manifest of ours is never replaced;
- an output and its manifest line are committed together with Ctrl-C and
  SIGTERM held (interrupts.deferred), so an interrupted run leaves only
  complete outputs and a manifest that lists exactly them; outputs are not
  held once written;
- an input the last run already did, unchanged and with the same options
  and settings (resume.decide), keeps its output and its line;
- a bad input is an error line, never the end of the run; the caller's
  mistakes (a bad output folder, a foreign manifest) raise before anything
  is written;
- totals are exact (ints and Decimals), one type for prepare
  (PrepareTotals) and one for check (CheckTotals), summed the same way by
  every runner.
"""

from __future__ import annotations

import itertools
import json
import os
import posixpath
import stat
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from preflight._core.cost import exact_cost, total_cost
from preflight._core.findings import WARNING
from preflight._core.formats import FORMATS
from preflight._core.options import Options
from preflight._core.settings import CheckSettings, PrepareSettings
from preflight._imaging import interrupts
from preflight._imaging.inspection import Report, inspect
from preflight._inputs.remote import RemoteFile, is_url, walk_url, write_url
from preflight._inputs.walking import FileId, file_id, walk_files
from preflight._inputs.writing import write_atomically
from preflight._runs.resume import (
    MANIFEST_MARK,
    MANIFEST_NAME,
    Decision,
    decide,
    options_digest,
    read_manifest,
    recorded_outputs,
    source_fields,
)
from preflight.errors import InvalidArgumentError, PreflightError, WriteError

if TYPE_CHECKING:
    # prepare's and tiling's modules load with the first prepare work: a
    # check (and the command line's start-up) does without them.
    from preflight._imaging.preparation import PreparedImage
    from preflight._imaging.tiling import Tiling

Item = str | RemoteFile

# --- check ------------------------------------------------------------------------


def check_one(
    item: Item,
    options: Options,
    settings: CheckSettings,
    declared_media_type: str | None = None,
) -> Report:
    """One source's report (the unit of work a pool or a cluster runs): a
    path, a URL, or a listed RemoteFile (its size saves a request)."""
    if isinstance(item, RemoteFile):
        return inspect(
            item.url,
            options,
            settings=settings,
            size=item.size,
            declared_media_type=declared_media_type,
        )
    return inspect(item, options, settings=settings, declared_media_type=declared_media_type)


def check_many(
    items: Iterable[Item],
    options: Options,
    settings: CheckSettings,
    declared_media_type: str | None = None,
) -> list[Report]:
    """check_one() for each item, in order (a Dask partition's work)."""
    return [check_one(item, options, settings, declared_media_type) for item in items]


@dataclass(frozen=True)
class CheckTotals:
    """check's summary, exactly: the accepted images' tokens and cost, and
    the bytes the run received over the network (Report.fetched_bytes)."""

    files: int = 0
    rejected: int = 0
    warned: int = 0  # accepted, with a warning
    tokens: int = 0  # of the accepted images
    cost_usd: Decimal | None = Decimal(0)  # None when a model has no price
    fetched_bytes: int = 0  # of every report, rejected ones too

    @property
    def clean(self) -> int:
        return self.files - self.rejected - self.warned

    def __add__(self, other: CheckTotals) -> CheckTotals:
        return CheckTotals(
            self.files + other.files,
            self.rejected + other.rejected,
            self.warned + other.warned,
            self.tokens + other.tokens,
            total_cost([self.cost_usd, other.cost_usd]),
            self.fetched_bytes + other.fetched_bytes,
        )

    @classmethod
    def of(cls, reports: Iterable[Report]) -> CheckTotals:
        files = rejected = warned = tokens = fetched = 0
        costs: list[Decimal | None] = []
        for report in reports:
            files += 1
            fetched += report.fetched_bytes
            if report.rejected:
                rejected += 1
                continue
            warned += any(f.severity == WARNING for f in report.findings)
            if report.estimate is not None:
                tokens += report.estimate.tokens
                costs.append(report.estimate.cost_usd)
        return cls(files, rejected, warned, tokens, total_cost(costs), fetched)

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "rejected": self.rejected,
            "warned": self.warned,
            "clean": self.clean,
            "tokens": self.tokens,
            "cost_usd": exact_cost(self.cost_usd),
            "fetched_bytes": self.fetched_bytes,
        }


def sum_check_totals(parts: Iterable[CheckTotals]) -> CheckTotals:
    total = CheckTotals()
    for part in parts:
        total = total + part
    return total


# --- prepare: jobs and names ------------------------------------------------------


@dataclass(frozen=True)
class PrepareJob:
    """One source and its path under the output folder (where its output
    goes, before the extension is set)."""

    source: str  # a local path or a URL
    relative: str  # '/'-separated
    size: int | None = None  # from a listing
    root: str | None = None  # the folder or prefix walked to find it (None: named outright)


def prepare_jobs(
    paths: Iterable[str], *, every_file: bool = False, out: str | os.PathLike[str] | None = None
) -> list[PrepareJob]:
    """The jobs for `paths`: each folder or URL prefix walked (its files
    relative to it), each file on its own (its name). The output folder `out`
    is left out of a walk it lies in (a re-run must not prepare its own
    outputs), and so is its manifest."""
    target = None if out is None else os.fspath(out)
    local_out = None if target is None or is_url(target) else file_id(target)
    manifest = (
        None if target is None or is_url(target) else file_id(os.path.join(target, MANIFEST_NAME))
    )
    url_out = target.rstrip("/") + "/" if target is not None and is_url(target) else None
    jobs: list[PrepareJob] = []
    for text in paths:
        if is_url(text):
            for found in walk_url(text, every_file=every_file):
                if url_out is None or not found.url.startswith(url_out):
                    jobs.append(PrepareJob(found.url, found.relative, found.size, text))
        elif os.path.isdir(text):
            root = Path(text)
            for path in walk_files(root, every_file, local_out):
                own_manifest = path.name == MANIFEST_NAME and manifest is not None
                if own_manifest and file_id(path) == manifest:
                    continue
                jobs.append(
                    PrepareJob(str(path), path.relative_to(root).as_posix(), root=str(root))
                )
        else:
            path = Path(text)
            jobs.append(PrepareJob(str(path), path.name or "stdin"))
    return jobs


def _tile_job(job: PrepareJob, number: int) -> PrepareJob:
    """Where a tiling's image `number` goes: NAME_01 (no dot: the number must
    not read as an extension)."""
    folder, name = posixpath.split(job.relative)
    stem = posixpath.splitext(name)[0] or name
    return PrepareJob(job.source, posixpath.join(folder, f"{stem}_{number:02d}"), job.size)


class OutputNames:
    """Unique output names under `out` (a folder or a URL), claimed in input
    order (see the module docstring). An input is recognised by its name and,
    on a local disk, by its file identity (a link, another spelling)."""

    def __init__(self, out: str | os.PathLike[str], inputs: Iterable[str]) -> None:
        self.out = os.fspath(out)
        self.remote = is_url(self.out)
        self.manifest = self._join(MANIFEST_NAME)
        self.input_keys: set[str] = set()
        self.input_ids: set[FileId] = set()
        for source in inputs:
            self.input_keys.add(self._key(source))
            if not is_url(source):
                found = file_id(source)
                if found is not None:
                    self.input_ids.add(found)
        self.taken = {self._key(self.manifest)}

    def _join(self, relative: str) -> str:
        if self.remote:
            return f"{self.out.rstrip('/')}/{relative}"
        return str(Path(self.out, *relative.split("/")))

    @staticmethod
    def _key(where: str) -> str:
        return (where if is_url(where) else os.path.abspath(where)).casefold()

    def reserve(self, output: str) -> None:
        """An output already there to keep (a resumed input's)."""
        self.taken.add(self._key(output))

    def claim(self, job: PrepareJob, extension: str) -> str:
        """The next free name for `job`'s output with `extension`."""
        folder, name = posixpath.split(job.relative)
        stem, suffix = posixpath.splitext(name)
        stem = stem or name
        first = [stem + extension]
        if suffix.lower() != extension:
            first.append(name + extension)
        # Made as they are tried: building all 10,000 up front took 1.4 ms
        # an input (a quarter of prepare's time on small images).
        numbered = (f"{stem}-{n}{extension}" for n in range(2, 10_000))
        for candidate in itertools.chain(first, numbered):
            destination = self._join(posixpath.join(folder, candidate))
            key = self._key(destination)
            if key in self.taken:
                continue
            existing = None if self.remote else file_id(destination)
            if key in self.input_keys or (existing is not None and existing in self.input_ids):
                own = key == self._key(job.source) or (
                    existing is not None and existing == file_id(job.source)
                )
                which = "the source image" if own else "another input"
                raise InvalidArgumentError(
                    f"{destination}: refusing to overwrite {which}", code="bad-output-path"
                )
            self.taken.add(key)
            return destination
        raise InvalidArgumentError(
            f"{self._join(job.relative)}: no free output name", code="bad-output-path"
        )

    def claim_all(self, job: PrepareJob, extensions: Sequence[str], *, tiled: bool) -> list[str]:
        """The names of every output of `job`: one image, or a tiling's."""
        if not tiled:
            (extension,) = extensions
            return [self.claim(job, extension)]
        return [
            self.claim(_tile_job(job, number), extension)
            for number, extension in enumerate(extensions, start=1)
        ]


# --- prepare: the work ------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """What the work made for one source: the image (or tiling) to write, and
    the source's facts for a later resume."""

    made: PreparedImage | Tiling
    source_facts: Mapping[str, object] = field(default_factory=dict)

    @property
    def extensions(self) -> list[str]:
        """The extension of each output file, in order."""
        from preflight._imaging.tiling import Tiling

        if isinstance(self.made, Tiling):
            return [
                FORMATS[image.media_type.split("/", 1)[1]].extensions[0]
                for image in self.made.images
            ]
        return [self.made.extension]


def make(source: str, options: Options, settings: PrepareSettings) -> Made:
    """The work for one source (in a worker): prepare() it, or tile() it
    with settings.tile. Raises a PreflightError for a source that cannot be
    prepared."""
    if settings.tile:
        from preflight._imaging.tiling import tile

        made: PreparedImage | Tiling = tile(source, options, settings=settings)
    else:
        from preflight._imaging.preparation import prepare

        made = prepare(source, options, settings=settings)
    return Made(made, _source_facts(source))


def _source_facts(source: str) -> dict[str, object]:
    """size, mtime and content hash of a regular local file (what resume
    compares); nothing for a URL or a pipe (which cannot be read twice)."""
    if is_url(source):
        return {}
    try:
        if stat.S_ISREG(os.stat(source).st_mode):
            return source_fields(source)
    except OSError:
        pass  # a vanished file: nothing to resume from
    return {}


def error_entry(source: str, error: PreflightError) -> dict[str, object]:
    """A manifest line for a source that could not be prepared."""
    return {
        "source": source,
        "status": "error",
        "error": {"code": error.code, "message": str(error)},
    }


def image_entry(source: str, result: PreparedImage, destination: str) -> dict[str, object]:
    """A manifest line for a prepared image written to `destination`."""
    return {"source": source, **result.manifest_fields(destination)}


def tiling_entry(source: str, tiling: Tiling, destinations: Sequence[str]) -> dict[str, object]:
    """A manifest line for a tiling: every image written, with its place."""
    return {
        "source": source,
        "status": "ok",
        "outputs": [
            {
                "output": destination,
                "label": image.label,
                "role": image.role,
                "box": list(image.box),
                "width": image.width,
                "height": image.height,
                "media_type": image.media_type,
                "tokens": image.tokens,
                "bytes": len(image.data),
            }
            for destination, image in zip(destinations, tiling.images, strict=True)
        ],
        "tokens_tiled": tiling.tokens,
        "tokens_whole": tiling.whole_tokens,
        "source_bytes": tiling.source_bytes,
    }


def _write(destination: str, data: bytes, out: str | None = None) -> None:
    if is_url(destination):
        write_url(destination, data)
    else:
        if out is not None:
            inside(out, destination)
        write_atomically(Path(destination), data)


def inside(out: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
    """Refuse an output that a symbolic link inside `out` would put outside
    it: the real path of its folder (its existing part) must be in the real
    path of `out`."""
    root = os.path.realpath(out)
    folder = os.path.realpath(os.path.dirname(os.path.abspath(destination)))
    if folder != root and not folder.startswith(root.rstrip(os.sep) + os.sep):
        raise WriteError(
            f"{destination}: a symbolic link inside the output folder points outside it "
            f"(to {folder}); not writing there"
        )


def write_made(
    source: str,
    made: Made,
    destinations: Sequence[str],
    options: Options,
    out: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, object], PrepareTotals]:
    """Write what was made to `destinations` (claimed by OutputNames under
    `out`, never outside it): its manifest line and its share of the totals.
    Raises a PreflightError when an output cannot be written."""
    from preflight._imaging.tiling import Tiling

    root = None if out is None else os.fspath(out)
    if isinstance(made.made, Tiling):
        tiling = made.made
        for destination, image in zip(destinations, tiling.images, strict=True):
            _write(destination, image.data, root)
        entry = tiling_entry(source, tiling, destinations)
        share = PrepareTotals.of_tiling(tiling, options)
    else:
        (destination,) = destinations
        if root is not None and not is_url(destination):
            inside(root, destination)
        made.made.save(destination)
        entry = image_entry(source, made.made, destination)
        share = PrepareTotals.of(made.made)
    entry.update(made.source_facts)
    return entry, share


# --- prepare: totals --------------------------------------------------------------


@dataclass(frozen=True)
class PrepareTotals:
    """prepare's summary, exactly (the manifest's summary line)."""

    files: int = 0
    prepared: int = 0
    unchanged: int = 0
    failed: int = 0
    resumed: int = 0  # done by an earlier run, unchanged since
    priced: int = 0  # prepared images the API accepted as they were
    bytes_before: int = 0
    bytes_after: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    cost_before: Decimal | None = Decimal(0)
    cost_after: Decimal | None = Decimal(0)

    def __add__(self, other: PrepareTotals) -> PrepareTotals:
        return PrepareTotals(
            self.files + other.files,
            self.prepared + other.prepared,
            self.unchanged + other.unchanged,
            self.failed + other.failed,
            self.resumed + other.resumed,
            self.priced + other.priced,
            self.bytes_before + other.bytes_before,
            self.bytes_after + other.bytes_after,
            self.tokens_before + other.tokens_before,
            self.tokens_after + other.tokens_after,
            total_cost([self.cost_before, other.cost_before]),
            total_cost([self.cost_after, other.cost_after]),
        )

    @classmethod
    def of(cls, result: PreparedImage) -> PrepareTotals:
        """One prepared image's share."""
        before = result.source_estimate
        return cls(
            files=1,
            prepared=1,
            unchanged=int(result.passed_through),
            priced=int(before is not None),
            bytes_before=result.source.file_bytes,
            bytes_after=len(result.data),
            tokens_before=before.tokens if before else 0,
            tokens_after=result.tokens if before else 0,
            cost_before=before.cost_usd if before else Decimal(0),
            cost_after=result.cost_usd if before else Decimal(0),
        )

    @classmethod
    def of_tiling(cls, tiling: Tiling, options: Options) -> PrepareTotals:
        """One tiling's share: its images against the whole image sent once."""
        return cls(
            files=1,
            prepared=1,
            priced=1,
            bytes_before=tiling.source_bytes,
            bytes_after=sum(len(image.data) for image in tiling.images),
            tokens_before=tiling.whole_tokens,
            tokens_after=tiling.tokens,
            cost_before=options.cost(tiling.whole_tokens),
            cost_after=options.cost(tiling.tokens),
        )

    @classmethod
    def of_entry(cls, entry: Mapping[str, object], options: Options) -> PrepareTotals:
        """A line an earlier run wrote (resumed), counted as when it was done
        (under the same options: resume asks for them)."""
        outputs = [o for o in _as_list(entry.get("outputs")) if isinstance(o, dict)]
        written = _as_int(entry.get("bytes")) + sum(_as_int(o.get("bytes")) for o in outputs)
        base = cls(
            files=1,
            prepared=1,
            resumed=1,
            bytes_before=_as_int(entry.get("source_bytes")),
            bytes_after=written,
        )
        if "outputs" in entry:  # a tiling: priced as of_tiling prices it
            whole, tiled = _as_int(entry.get("tokens_whole")), _as_int(entry.get("tokens_tiled"))
            return replace(
                base,
                priced=1,
                tokens_before=whole,
                tokens_after=tiled,
                cost_before=options.cost(whole),
                cost_after=options.cost(tiled),
            )
        unchanged = any(
            isinstance(a, dict) and a.get("code") == "passthrough"
            for a in _as_list(entry.get("actions"))
        )
        base = replace(base, unchanged=int(unchanged))
        before, after = entry.get("tokens_before"), entry.get("tokens_after")
        if not (isinstance(before, int) and isinstance(after, int)):
            return base
        return replace(
            base,
            priced=1,
            tokens_before=before,
            tokens_after=after,
            cost_before=_as_cost(entry.get("cost_before_usd")),
            cost_after=_as_cost(entry.get("cost_after_usd")),
        )

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


FAILED = PrepareTotals(files=1, failed=1)


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _as_int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _as_cost(value: object) -> Decimal | None:
    return Decimal(value) if isinstance(value, str) else None


# --- prepare: the manifest and the run ---------------------------------------------


def refuse_foreign_manifest(path: Path) -> None:
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
        raise InvalidArgumentError(
            f"{path}: exists and is not a preflight manifest; not replacing it",
            code="bad-output-path",
        )


def _resolved(settings: PrepareSettings) -> PrepareSettings:
    """The settings as they decide the outputs: the default engine (None)
    named as the engine it is here, so asking for it by name changes
    nothing a resumed run depends on (and installing another engine does)."""
    if settings.engine is not None:
        return settings
    from preflight._imaging.engines import get_engine

    return replace(settings, engine=get_engine(None).name)


class Manifest:
    """preflight-manifest.jsonl, written as a run goes. It is first made
    whole beside its place and renamed over it: the header line and every
    line carried forward from the last run (what stays done). Then it is
    appended a line per input as it is committed (flushed at once), and the
    summary line at the end. So an interrupted run leaves a manifest that
    lists every complete output, the earlier runs' included; and a symbolic
    link at the manifest's place is replaced, never written through."""

    def __init__(
        self,
        path: Path,
        header: Mapping[str, object],
        carried: Iterable[Mapping[str, object]] = (),
    ) -> None:
        self.path = path
        lines = [{MANIFEST_MARK: 1, **header}, *carried]
        text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        write_atomically(path, text.encode("utf-8"))
        try:
            flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            self._handle: TextIO = os.fdopen(os.open(path, flags), "w", encoding="utf-8")
        except OSError as error:
            raise WriteError(f"{path}: cannot write ({error.strerror or error})") from None

    def write(self, entry: Mapping[str, object]) -> None:
        self._handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._handle.flush()

    def finish(self, totals: PrepareTotals) -> None:
        self.write({"summary": totals.to_dict()})

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class PrepareBatch:
    """One prepare run of many jobs into a local folder: output names,
    resume, the manifest, deferred commits and the totals. The work itself
    (make() for each of `fresh`) is run by the caller, here, over a pool or
    on a cluster, and handed to run() in input order."""

    def __init__(
        self,
        jobs: Sequence[PrepareJob],
        out: str | os.PathLike[str],
        options: Options,
        settings: PrepareSettings,
        *,
        force: bool = False,
    ) -> None:
        self.jobs = list(jobs)
        self.out = Path(out)
        self.options = options
        self.settings = settings
        if self.out.exists() and not self.out.is_dir():
            raise InvalidArgumentError(
                f"{self.out}: exists and is not a directory", code="bad-output-path"
            )
        self.names = OutputNames(self.out, (job.source for job in self.jobs))
        self.manifest_path = self.out / MANIFEST_NAME
        if file_id(self.manifest_path) in self.names.input_ids:
            raise InvalidArgumentError(
                f"{self.manifest_path}: the manifest would overwrite an input",
                code="bad-output-path",
            )
        refuse_foreign_manifest(self.manifest_path)
        self.options_hash = options_digest(options, _resolved(settings))
        previous = read_manifest(self.manifest_path)
        self.decisions: list[Decision] = [
            decide(None if force else previous, job.source, self.options_hash) for job in self.jobs
        ]
        # Earlier outputs this run keeps are reserved before any new work, so
        # a new input never claims (and overwrites) one of them: those of
        # inputs still done, and those of the last run's inputs that are not
        # inputs now (carried forward in the manifest when the options are
        # the same; kept on disk, never replaced, either way).
        sources = {job.source for job in self.jobs}
        self.carried: list[Mapping[str, object]] = []
        for decision in self.decisions:
            if decision.done and decision.entry is not None:
                self.carried.append({**decision.entry, "resumed": True})
        if previous is not None:
            for source, entry in previous.entries.items():
                if source in sources or entry.get("status") != "ok":
                    continue
                if previous.options_hash == self.options_hash:
                    self.carried.append(entry)
                for output, _ in recorded_outputs(entry):
                    self.names.reserve(output)
        for entry in self.carried:
            for output, _ in recorded_outputs(entry):
                self.names.reserve(output)
        self.totals = PrepareTotals()

    @property
    def fresh(self) -> list[PrepareJob]:
        """The jobs to make, in input order (the others are resumed)."""
        return [job for job, d in zip(self.jobs, self.decisions, strict=True) if not d.done]

    def header(self) -> dict[str, object]:
        return {
            "options": self.options.to_dict(),
            "options_hash": self.options_hash,
            "settings": self.settings.to_dict(),
        }

    def run(
        self, made: Iterator[Made | BaseException]
    ) -> Generator[tuple[PrepareJob, dict[str, object]], None, None]:
        """Commit every job in input order, `made` giving the fresh jobs'
        results (or their exceptions) in order: each job with its manifest
        line. self.totals grows as it goes."""
        with Manifest(self.manifest_path, self.header(), self.carried) as manifest:
            for job, decision in zip(self.jobs, self.decisions, strict=True):
                interrupts.checkpoint()
                if decision.done:
                    assert decision.entry is not None
                    entry, share = self._resumed(decision.entry)
                else:
                    entry, share = self._commit(job, next(made), manifest)
                self.totals = self.totals + share
                yield job, entry
            manifest.finish(self.totals)

    def _resumed(self, earlier: Mapping[str, object]) -> tuple[dict[str, object], PrepareTotals]:
        """An input the last run already did: its outputs kept, its line
        carried forward when the manifest was opened."""
        entry = {**earlier, "resumed": True}
        return entry, PrepareTotals.of_entry(entry, self.options)

    def _commit(
        self, job: PrepareJob, outcome: Made | BaseException, manifest: Manifest
    ) -> tuple[dict[str, object], PrepareTotals]:
        """Write what the work made, and its manifest line, together."""
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            destinations = self.names.claim_all(job, outcome.extensions, tiled=self.settings.tile)
            # The outputs and their manifest line go together, or neither does.
            with interrupts.deferred():
                entry, share = write_made(job.source, outcome, destinations, self.options, self.out)
                manifest.write(entry)
        except PreflightError as error:
            entry, share = error_entry(job.source, error), FAILED
            manifest.write(entry)
        return entry, share
