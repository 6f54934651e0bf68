"""Every exception preflight raises on purpose: fourteen classes, one root.

Rules:

- one root, PreflightError, so callers can catch everything of ours at once;
- two branches: UsageError, the caller's mistakes (a bad size, option, name,
  configuration, output path or command line: fix the call), and DataError,
  bad data or a failing environment (a file that is not a readable image,
  cannot be decoded, read or written, an engine, worker or cluster that
  fails): the CLI exits 2 for the first only, 1 for the second;
- each class also inherits the matching built-in (ValueError for bad values,
  OSError for trouble reading or writing, ImportError for a missing extra),
  so code that knows nothing of preflight still catches it naturally;
- a class exists only where a caller needs to tell it apart (catch it, or
  fall back on it); finer kinds are carried by the instance's `code`, one of
  its class's `codes` (e.g. a HeaderError's code is "truncated", "corrupt",
  ...). Codes are stable kebab-case strings that never change between
  releases: scripts and JSON output key on them, not on the message or the
  class;
- the classes 0.2 had and 0.3 merged stay importable from here for one
  release, as deprecated aliases of the class they merged into
  (DEPRECATED_NAMES; importing one warns).

Findings about an image (reject / resize / warn) are data
(preflight._core.findings), never exceptions: these are for calls that
cannot answer at all.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from typing import Any, ClassVar


class PreflightError(Exception):
    """Root of every error preflight raises.

    `code` is the instance's stable code: the class's own unless the raiser
    named a finer one (`code=`), which must be one of the class's `codes`.
    """

    code: str = "preflight-error"
    codes: ClassVar[tuple[str, ...]] = ("preflight-error",)

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        if code is not None:
            if code not in type(self).codes:
                # A raiser's typo: loud, so that no unknown code reaches a report.
                raise ValueError(
                    f"{type(self).__name__} has no code {code!r}; "
                    f"its codes: {', '.join(type(self).codes)}"
                )
            self.code = code


class UsageError(PreflightError):
    """The caller's mistake: the call (or command line, or configuration) must change.

    Raised as itself for a bad command line (code "bad-command-line")."""

    code = "usage"
    codes: ClassVar[tuple[str, ...]] = ("usage", "bad-command-line")


class DataError(PreflightError):
    """Bad data or a failing environment: the input (or an engine) must change."""

    code = "data"
    codes: ClassVar[tuple[str, ...]] = ("data",)


# --- the caller's mistakes ----------------------------------------------------


class InvalidArgumentError(UsageError, ValueError):
    """An argument outside what the function accepts: a bad budget, policy,
    price or target ("invalid-argument"), a width, height or count that is
    not a whole number in range ("invalid-size"), an output path that would
    overwrite an input or its manifest ("bad-output-path")."""

    code = "invalid-argument"
    codes: ClassVar[tuple[str, ...]] = ("invalid-argument", "invalid-size", "bad-output-path")


class ConfigError(InvalidArgumentError):
    """A configuration file (pyproject.toml, preflight.toml, a models file) that
    cannot be used: unreadable, not TOML, an unknown key or a bad value."""

    code = "bad-config"
    codes: ClassVar[tuple[str, ...]] = ("bad-config",)


class UnknownNameError(UsageError, ValueError):
    """A model, tier, surface or rule name that is not in the tables."""

    code = "unknown-name"
    codes: ClassVar[tuple[str, ...]] = ("unknown-name",)

    def __init__(self, kind: str, name: object, known: Iterable[str], hint: str) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        self.hint = hint
        # The known name `name` most likely misspells, if one is close.
        lowered = {k.lower(): k for k in self.known}
        close = difflib.get_close_matches(str(name).strip().lower(), list(lowered), n=1)
        self.suggestion: str | None = lowered[close[0]] if close else None
        lead = f"; did you mean {self.suggestion!r}? Known" if self.suggestion else "; known"
        super().__init__(f"unknown {kind} {name!r}{lead}: {', '.join(self.known)}. {hint}".rstrip())

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields (a worker process sends it back pickled).
        return (type(self), (self.kind, self.name, self.known, self.hint))


class MissingExtraError(UsageError, ImportError):
    """A feature whose optional extra is not installed ("missing-extra":
    fsspec or a cloud file system for a URL, dask for a cluster), or an image
    engine that was asked for and is not installed ("engine-unavailable"):
    the message says what to install."""

    code = "missing-extra"
    codes: ClassVar[tuple[str, ...]] = ("missing-extra", "engine-unavailable")


# --- bad data -------------------------------------------------------------------


class HeaderError(DataError, ValueError):
    """The bytes are not a readable image header. The code says why: no known
    image signature ("not-an-image"), zero bytes ("empty"), the data ends
    before the header does ("truncated"), an impossible field ("corrupt"),
    the size fields lie beyond the read budget ("header-too-large")."""

    code = "bad-header"
    codes: ClassVar[tuple[str, ...]] = (
        "bad-header",
        "not-an-image",
        "empty",
        "truncated",
        "corrupt",
        "header-too-large",
    )


class SourceError(DataError, OSError):
    """A file or stream could not be read (missing, a directory, no permission...)."""

    code = "unreadable"
    codes: ClassVar[tuple[str, ...]] = ("unreadable",)


class WriteError(DataError, OSError):
    """An output could not be written (permissions, a full disk, ...)."""

    code = "cannot-write"
    codes: ClassVar[tuple[str, ...]] = ("cannot-write",)


class DecodeError(DataError, ValueError):
    """The pixels cannot be had: an engine could not decode the data
    ("decode-failed"), no installed engine decodes the format
    ("cannot-decode-format"), or the declared dimensions are over the pixel
    cap ("over-pixel-cap") or the decode would need more memory than the
    decode budget ("over-memory-budget"), refused before decoding."""

    code = "decode-failed"
    codes: ClassVar[tuple[str, ...]] = (
        "decode-failed",
        "cannot-decode-format",
        "over-pixel-cap",
        "over-memory-budget",
    )


class EngineError(DataError, OSError):
    """What runs the work failed for a reason not in the data: an image
    engine ("engine-failed"), a worker process that died on this item
    ("worker-crashed", preflight._runs.parallel), a Dask cluster that cannot
    run preflight ("cluster-failed"; an address that leads to no scheduler
    is an InvalidArgumentError)."""

    code = "engine-failed"
    codes: ClassVar[tuple[str, ...]] = ("engine-failed", "worker-crashed", "cluster-failed")


class ByteBudgetError(DataError, ValueError):
    """No encoding of the image fits the byte budget."""

    code = "over-byte-budget"
    codes: ClassVar[tuple[str, ...]] = ("over-byte-budget",)


class SizesFileError(DataError, ValueError):
    """A file of sizes that cannot be read as one (preflight._inputs.sizes)."""

    code = "bad-sizes-file"
    codes: ClassVar[tuple[str, ...]] = ("bad-sizes-file",)


# --- 0.2's names, merged in 0.3 -------------------------------------------------

# name -> (the class it merged into, the code its instances now carry).
DEPRECATED_NAMES: dict[str, tuple[type[PreflightError], str]] = {
    "InvalidSizeError": (InvalidArgumentError, "invalid-size"),
    "OutputPathError": (InvalidArgumentError, "bad-output-path"),
    "EngineUnavailableError": (MissingExtraError, "engine-unavailable"),
    "NotAnImageError": (HeaderError, "not-an-image"),
    "EmptyInputError": (HeaderError, "empty"),
    "TruncatedError": (HeaderError, "truncated"),
    "CorruptHeaderError": (HeaderError, "corrupt"),
    "HeaderTooLargeError": (HeaderError, "header-too-large"),
    "UnsupportedFormatError": (DecodeError, "cannot-decode-format"),
    "UnsafeImageError": (DecodeError, "over-pixel-cap"),
    "ClusterError": (EngineError, "cluster-failed"),
    "WorkerCrashError": (EngineError, "worker-crashed"),
}


def __getattr__(name: str) -> type[PreflightError]:
    if name in DEPRECATED_NAMES:
        merged, code = DEPRECATED_NAMES[name]
        warnings.warn(
            f"preflight.errors.{name} is deprecated and will be removed in 0.4: it is "
            f"{merged.__name__} now (tell it apart by its code, {code!r})",
            DeprecationWarning,
            stacklevel=2,
        )
        return merged
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ByteBudgetError",
    "ConfigError",
    "DataError",
    "DecodeError",
    "EngineError",
    "HeaderError",
    "InvalidArgumentError",
    "MissingExtraError",
    "PreflightError",
    "SizesFileError",
    "SourceError",
    "UnknownNameError",
    "UsageError",
    "WriteError",
]
