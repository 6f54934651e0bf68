# Every exception preflight raises on purpose. Rules:
# - one root, PreflightError, so callers can catch everything of ours at once;
# - each subclass also inherits the matching built-in (ValueError for bad input,
#   OSError for trouble reading or writing files and running engines), so code
#   that knows nothing of preflight still catches it naturally;
# - each class carries a stable `code` (kebab-case) that never changes between
#   releases: scripts and JSON output key on it, not on the message.
# Findings about an image (reject / resize / warn) are data (preflight.core.findings),
# never exceptions: these are for calls that cannot produce an answer at all.

from __future__ import annotations

from collections.abc import Iterable


class PreflightError(Exception):
    """Root of every error preflight raises."""

    code: str = "preflight-error"


class InvalidSizeError(PreflightError, ValueError):
    """A width or height that is not a positive integer."""

    code = "invalid-size"


class InvalidArgumentError(PreflightError, ValueError):
    """An argument outside what the function accepts (bad budget, bad policy, ...)."""

    code = "invalid-argument"


class UnknownNameError(PreflightError, ValueError):
    """A model, tier, surface or rule name that is not in the tables."""

    code = "unknown-name"

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        self.hint = hint
        super().__init__(
            f"unknown {kind} {name!r}; known: {', '.join(self.known)}. {hint}".rstrip()
        )


# --- reading image headers (pure parser) -------------------------------------


class HeaderError(PreflightError, ValueError):
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


# --- reading sources (I/O shell) ---------------------------------------------


class SourceError(PreflightError, OSError):
    """A file or stream could not be read (missing, a directory, no permission...)."""

    code = "unreadable"


# --- transforming pixels -----------------------------------------------------


class UnsupportedFormatError(PreflightError, ValueError):
    """An input format no installed engine can decode."""

    code = "cannot-decode-format"


class DecodeError(PreflightError, ValueError):
    """An engine could not decode the image data (corrupt or truncated pixels)."""

    code = "decode-failed"


class UnsafeImageError(PreflightError, ValueError):
    """Declared dimensions over the pixel cap: refused before decoding."""

    code = "over-pixel-cap"


class EngineError(PreflightError, OSError):
    """An image engine is unavailable or failed for a reason not in the data."""

    code = "engine-failed"


class ByteBudgetError(PreflightError, ValueError):
    """No encoding of the image fits the byte budget."""

    code = "over-byte-budget"


class OutputPathError(PreflightError, OSError):
    """An output path that would overwrite an input or cannot be written."""

    code = "bad-output-path"
