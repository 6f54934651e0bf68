"""Every exception preflight raises on purpose.

Rules:
- one root, PreflightError, so callers can catch everything of ours at once;
- two branches: UsageError, the caller's mistakes (a bad size, option, name,
  configuration or output path: fix the call), and DataError, bad data or a
  failing environment (a file that is not a readable image, cannot be
  decoded or read, an engine that fails): the CLI exits 2 for the first
  only, 1 for the second;
- each class also inherits the matching built-in (ValueError for bad values,
  OSError for trouble reading or writing, ImportError for a missing extra),
  so code that knows nothing of preflight still catches it naturally;
- each class carries a stable `code` (kebab-case) that never changes between
  releases: scripts and JSON output key on it, not on the message.

Findings about an image (reject / resize / warn) are data
(preflight._core.findings), never exceptions: these are for calls that
cannot answer at all.
"""

from __future__ import annotations

from collections.abc import Iterable


class PreflightError(Exception):
    """Root of every error preflight raises."""

    code: str = "preflight-error"


class UsageError(PreflightError):
    """The caller's mistake: the call (or command line, or configuration) must change."""

    code = "usage"


class DataError(PreflightError):
    """Bad data or a failing environment: the input (or an engine) must change."""

    code = "data"


# --- the caller's mistakes ----------------------------------------------------


class InvalidSizeError(UsageError, ValueError):
    """A width, height or count that is not a whole number in range."""

    code = "invalid-size"


class InvalidArgumentError(UsageError, ValueError):
    """An argument outside what the function accepts (bad budget, bad policy, ...)."""

    code = "invalid-argument"


class ConfigError(InvalidArgumentError):
    """A configuration file (pyproject.toml, preflight.toml, a models file) that
    cannot be used: unreadable, not TOML, an unknown key or a bad value."""

    code = "bad-config"


class UnknownNameError(UsageError, ValueError):
    """A model, tier, surface or rule name that is not in the tables."""

    code = "unknown-name"

    def __init__(self, kind: str, name: object, known: Iterable[str], hint: str) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        self.hint = hint
        super().__init__(
            f"unknown {kind} {name!r}; known: {', '.join(self.known)}. {hint}".rstrip()
        )


class OutputPathError(UsageError, ValueError):
    """An output path that would overwrite an input (or its manifest)."""

    code = "bad-output-path"


class EngineUnavailableError(UsageError, ImportError):
    """An image engine that was asked for is not installed."""

    code = "engine-unavailable"


class MissingExtraError(UsageError, ImportError):
    """A feature whose optional extra is not installed (fsspec or a cloud
    file system for a URL, dask for a cluster): the message names the extra."""

    code = "missing-extra"


# --- bad data: reading image headers (pure parser) ----------------------------


class HeaderError(DataError, ValueError):
    """The bytes are not a readable image header."""

    code = "bad-header"


class NotAnImageError(HeaderError):
    """No known image signature at the start of the data."""

    code = "not-an-image"


class EmptyInputError(HeaderError):
    """Zero bytes."""

    code = "empty"


class TruncatedError(HeaderError):
    """The data ends before the header does."""

    code = "truncated"


class CorruptHeaderError(HeaderError):
    """A header field is impossible (zero size, bad length, bad marker...)."""

    code = "corrupt"


class HeaderTooLargeError(HeaderError):
    """Reaching the size fields would need more than the read budget."""

    code = "header-too-large"


# --- bad data: reading sources (I/O shell) -------------------------------------


class SourceError(DataError, OSError):
    """A file or stream could not be read (missing, a directory, no permission...)."""

    code = "unreadable"


# --- bad data: transforming pixels ----------------------------------------------


class UnsupportedFormatError(DataError, ValueError):
    """An input format no installed engine can decode."""

    code = "cannot-decode-format"


class DecodeError(DataError, ValueError):
    """An engine could not decode the image data (corrupt or truncated pixels)."""

    code = "decode-failed"


class UnsafeImageError(DataError, ValueError):
    """Declared dimensions over the pixel cap: refused before decoding."""

    code = "over-pixel-cap"


class EngineError(DataError, OSError):
    """An image engine failed for a reason not in the data."""

    code = "engine-failed"


class ByteBudgetError(DataError, ValueError):
    """No encoding of the image fits the byte budget."""

    code = "over-byte-budget"


class ClusterError(DataError, OSError):
    """A Dask cluster that cannot be reached, or cannot run preflight."""

    code = "cluster-failed"


class WriteError(DataError, OSError):
    """An output could not be written (permissions, a full disk, ...)."""

    code = "cannot-write"


class SizesFileError(DataError, ValueError):
    """A file of sizes that cannot be read as one (preflight._inputs.sizes)."""

    code = "bad-sizes-file"


class WorkerCrashError(DataError, OSError):
    """A worker process died while working on this item (preflight._runs.parallel)."""

    code = "worker-crashed"
