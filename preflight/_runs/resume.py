"""Resumable prepare: which inputs a previous run already did.

Rules:
- the previous run's manifest (preflight-manifest.jsonl: a header line,
  one line per input, a summary line) is read as it was left, an
  interrupted run's included: a missing summary or a cut last line is
  fine, a line that is not JSON is skipped;
- an input is done when its manifest line says "ok" and nothing it was
  made from has changed: the same source path, size, mtime_ns and content
  hash, the same options and settings (one hash over everything that
  shapes an output: options_digest), and its outputs (one, or a tiling's
  several) still there with the recorded sizes; anything else, or force,
  means do it again;
- the manifest's name and header mark are defined here, once: the batch
  engine (preflight._runs.batch) writes what this reads;
- cheap checks first (stat), the content hash last: a re-run of a finished
  job reads each source once and decodes nothing;
- the content hash is BLAKE2b (hashlib, 256 bits): in every Python, no
  extra package, faster than SHA-256 where the CPU has no SHA instructions,
  and cryptographic, so two different sources never pass for one.

The manifest fields this needs (the writer adds them):
  header:  "options_hash": options_digest(options, settings)
  entry:   "source_size", "source_mtime_ns", "source_hash": file_digest(path)
           (with "output" and "bytes", which it already has)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from preflight._core.options import Options
from preflight._core.settings import HASH_NAME, PrepareSettings, stable_digest

MANIFEST_NAME = "preflight-manifest.jsonl"  # in the output folder
MANIFEST_MARK = "preflight_manifest"  # a key of the header line: "this is ours"
_READ = 1 << 20


def file_digest(path: str | os.PathLike[str]) -> str:
    """'blake2b-256:<hex>' of the file's bytes."""
    digest = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as handle:
        while block := handle.read(_READ):
            digest.update(block)
    return f"{HASH_NAME}:{digest.hexdigest()}"


def options_digest(options: Options, settings: PrepareSettings | Mapping[str, object]) -> str:
    """One hash over everything that shapes an output: the Options and the
    PrepareSettings (target, image format, encoder quality, engine, pixel
    cap, tiling...), as canonical JSON (the settings' to_dict())."""
    fields = settings.to_dict() if isinstance(settings, PrepareSettings) else dict(settings)
    return stable_digest({"options": options.to_dict(), "settings": fields})


@dataclass(frozen=True)
class PreviousRun:
    options_hash: str | None
    entries: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # by source
    finished: bool = False  # the summary line was written


def read_manifest(path: str | os.PathLike[str]) -> PreviousRun | None:
    """The previous run as its manifest tells it; None when there is none
    (or the file is not a preflight manifest)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except OSError:
        return None
    with handle:
        first = handle.readline()
        header = _json_line(first)
        if header is None or MANIFEST_MARK not in header:
            return None
        entries: dict[str, Mapping[str, object]] = {}
        finished = False
        for line in handle:
            entry = _json_line(line)
            if entry is None:
                continue  # cut short by an interruption
            if "summary" in entry:
                finished = True
            elif isinstance(entry.get("source"), str):
                entries[str(entry["source"])] = entry
    options_hash = header.get("options_hash")
    return PreviousRun(options_hash if isinstance(options_hash, str) else None, entries, finished)


def _json_line(line: bytes) -> dict[str, object] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Decision:
    done: bool
    reason: str  # why it is (not) done, for a log line
    entry: Mapping[str, object] | None = None  # the previous line, when done
    source_hash: str | None = None  # computed on the way, for the new manifest


def decide(
    previous: PreviousRun | None,
    source: str | os.PathLike[str],
    options_hash: str,
    *,
    force: bool = False,
) -> Decision:
    """Whether `source` was already prepared, unchanged, with these options."""
    if force:
        return Decision(False, "forced")
    if previous is None:
        return Decision(False, "no previous manifest")
    if previous.options_hash != options_hash:
        return Decision(False, "options changed")
    entry = previous.entries.get(str(source))
    if entry is None:
        return Decision(False, "not in the previous manifest")
    if entry.get("status") != "ok":
        return Decision(False, "failed before")
    try:
        stat = os.stat(source)
    except OSError:
        return Decision(False, "source unreadable")
    if entry.get("source_size") != stat.st_size or entry.get("source_mtime_ns") != stat.st_mtime_ns:
        return Decision(False, "source changed (size or time)")
    outputs = recorded_outputs(entry)
    if not outputs:
        return Decision(False, "no output recorded")
    for output, size in outputs:
        try:
            if os.stat(output).st_size != size:
                return Decision(False, "output changed")
        except OSError:
            return Decision(False, "output missing")
    try:
        digest = file_digest(source)
    except OSError:
        return Decision(False, "source unreadable")
    if entry.get("source_hash") != digest:
        return Decision(False, "source changed (content)", source_hash=digest)
    return Decision(True, "unchanged", entry, digest)


def recorded_outputs(entry: Mapping[str, object]) -> list[tuple[str, object]]:
    """(output, recorded size) of every file a manifest line names: its
    `output`, or each of a tiling's `outputs`."""
    outputs = entry.get("outputs")
    if isinstance(outputs, list):
        found = [(o.get("output"), o.get("bytes")) for o in outputs if isinstance(o, dict)]
        if len(found) != len(outputs) or not all(isinstance(o, str) for o, _ in found):
            return []
        return [(str(o), size) for o, size in found]
    output = entry.get("output")
    return [(output, entry.get("bytes"))] if isinstance(output, str) else []


def source_fields(path: str | os.PathLike[str]) -> dict[str, object]:
    """The manifest fields for a source, as decide() reads them back."""
    stat = os.stat(path)
    return {
        "source_size": stat.st_size,
        "source_mtime_ns": stat.st_mtime_ns,
        "source_hash": file_digest(Path(path)),
    }
