"""Images over HTTP(S): ranged reads that stop where they should, with timeouts.

fsspec's HTTP file system reads a whole response when a server ignores
`Range` (and then again for the tail), and asks for the size with a HEAD
first; so objects behind http(s):// URLs are read here, with the standard
library, and fsspec serves only their folder listings (remote.walk_url).
Rules:
- every request asks for a byte range; a 206 answer's Content-Range gives
  the object's size, so no metadata request is needed (a size from a
  listing is used as is);
- a server that ignores Range (a 200 answer) is read front to back, held,
  only as far as the header parser asks (at most its budget), and the
  connection is closed; the tail is then not fetched (it would mean the
  whole object), so the end-of-file checks are skipped for that object;
- no Accept-Encoding is sent: a body the server compresses anyway is read
  as the raw bytes it is (not an image), never inflated;
- every request has a timeout (connect, and each read; NETWORK_TIMEOUT,
  PREFLIGHT_TIMEOUT or `timeout=`), reported as such;
- whole reads (decode, prepare) are refused past their bound before
  reading when the server says the length, and as soon as it is passed
  when it does not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from preflight._core.budgets import MAX_STREAM_BYTES, NETWORK_TIMEOUT
from preflight._inputs.input import Input, StreamInput
from preflight.errors import InvalidArgumentError, PreflightError, SourceError

if TYPE_CHECKING:  # urllib and http.client load on the first request: start-up stays light
    from http.client import HTTPResponse

T = TypeVar("T")

_CONTENT_RANGE = re.compile(r"bytes\s+(?:\d+-\d+|\*)/(\d+)")
_USER_AGENT = "preflight (image checks for Claude's vision API)"


TIMEOUT_VARIABLE = "PREFLIGHT_TIMEOUT"


def network_timeout() -> float:
    """Seconds to wait to connect, and for each read: NETWORK_TIMEOUT, or
    the environment variable PREFLIGHT_TIMEOUT (seconds, more than 0), read
    at each use so that worker processes see what their parent set
    (`--timeout` sets it)."""
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return NETWORK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise InvalidArgumentError(
            f"{TIMEOUT_VARIABLE}={text!r}: a number of seconds over 0, such as 30 or 2.5"
        )
    return seconds


def is_http(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


class HttpInput(Input):
    """An object behind an http(s):// URL (module docstring)."""

    whole_read = 8192  # one round trip for a small object, whole

    def __init__(self, url: str, size: int | None = None, timeout: float | None = None):
        self.name = url
        self._size = size
        self.timeout = network_timeout() if timeout is None else timeout
        self._stream: StreamInput | None = None  # a server that ignores Range
        self.fetched = 0  # body bytes received, for the run's totals

    @property
    def size(self) -> int | None:
        return self._size

    def read(self, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        if self._stream is not None:
            return self._stream.read(start, end)
        if self._size is not None:
            end = min(end, self._size)
            if end <= start:
                return b""
        response = self._open({"Range": f"bytes={start}-{end - 1}"})
        if response is None:
            return b""
        try:
            if response.status == 206:
                total = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                if total is not None and self._size is None:
                    self._size = int(total.group(1))
                data = self._body(response, end - start)
            # 200: the server sends the whole object, whatever was asked.
            else:
                if self._size is None:
                    self._size = _length(response)
                self._stream = StreamInput(self._counted(response.read), self.name, response.close)
        except BaseException:
            response.close()
            raise
        if self._stream is None:
            response.close()
            return data
        return self._stream.read(start, end)

    def tail(self, n: int) -> bytes | None:
        if self._stream is not None:
            # Without Range, the tail is the whole object away: not fetched.
            size = self._stream.size
            return None if size is None else self._stream.read(max(0, size - n), size)
        if self._size is None:
            self.read(0, 1)  # learns the size (or that Range is ignored)
            return self.tail(n)
        start = max(0, self._size - n)
        self.held_tail = (start, self.read(start, self._size))
        return self.held_tail[1]

    def whole(self, limit: int = MAX_STREAM_BYTES) -> bytes:
        if self._stream is not None:
            return self._stream.whole(limit)
        if self._size is not None and self._size > limit:
            raise SourceError(
                f"{self.name}: {self._size:,} bytes, over the {limit >> 20} MiB "
                "preflight reads into memory"
            )
        response = self._open({})
        if response is None:
            return b""
        try:
            length = _length(response)
            if length is not None and length > limit:
                raise SourceError(
                    f"{self.name}: {length:,} bytes, over the {limit >> 20} MiB "
                    "preflight reads into memory"
                )
            stream = StreamInput(self._counted(response.read), self.name)
            data = stream.whole(limit)
        finally:
            response.close()
        self._size = len(data)
        return data

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _counted(self, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
        def counted(n: int) -> bytes:
            got = self._guard(lambda: read(n))
            self.fetched += len(got)
            return got

        return counted

    def _body(self, response: HTTPResponse, n: int) -> bytes:
        data = self._guard(lambda: response.read(n))
        self.fetched += len(data)
        return data

    def _open(self, headers: dict[str, str]) -> HTTPResponse | None:
        """The answer to a GET, or None for an empty object (416 to a range)."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            self.name, headers={"User-Agent": _USER_AGENT, **headers}, method="GET"
        )

        def go() -> HTTPResponse:
            try:
                response: HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)
            except urllib.error.HTTPError as error:
                error.close()
                if error.code == 416:  # nothing in that range: an empty object
                    raise _Empty from None
                if error.code == 404:
                    raise SourceError(f"{self.name}: no such object (HTTP 404)") from None
                if error.code in (401, 403):
                    raise SourceError(
                        f"{self.name}: permission denied (HTTP {error.code})"
                    ) from None
                raise SourceError(f"{self.name}: HTTP {error.code} {error.reason}") from None
            return response

        try:
            return self._guard(go)
        except _Empty:
            self._size = 0
            return None

    def _guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except (PreflightError, _Empty):
            raise
        except Exception as error:
            from urllib.error import URLError

            reason = error.reason if isinstance(error, URLError) else error
            if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
                raise SourceError(
                    f"{self.name}: timed out (no answer within {self.timeout:g} s)"
                ) from None
            if isinstance(error, URLError):
                raise SourceError(f"{self.name}: cannot connect ({reason})") from None
            # OSError, http.client.HTTPException (a broken answer), ValueError
            # (a malformed URL): all about the source.
            detail = str(error) or type(error).__name__
            raise SourceError(f"{self.name}: cannot read ({detail})") from None


class _Empty(Exception):
    """A 416 answer: the object has no byte in the range asked."""


def _length(response: HTTPResponse) -> int | None:
    text = response.headers.get("Content-Length")
    if text is None or not text.strip().isdigit():
        return None
    return int(text)
