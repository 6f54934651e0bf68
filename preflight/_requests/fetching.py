"""URL image sources measured: a resolver reading their headers by range; check_request(fetch=).

The pure check_request (preflight._core.bodies) reads a `url` or `file`
image only through a resolver; this module is the one that goes to the
network. Rules:
- only http(s) URLs are read (the API fetches images from the web; a
  `file` source needs the Files API and is left to the caller's resolver);
  each is probed as any URL is (preflight._inputs.probing: ranged reads of
  the header and the last bytes, never the whole image), so the resolver
  returns header facts (an ImageInfo), not bytes;
- what goes wrong becomes a finding at the image's `...source.url`, never
  an exception: an object that is not there (HTTP 404, 410) is one the API
  cannot download either (url-unreachable, an error); a failure that may be
  this machine's own (a timeout, a refused connection, another status) is
  a warning that the image was not checked; data that is no image is the
  API's "Could not process image";
- each URL is read once per resolver (prepare_request checks a body two or
  three times), and the URLs of a body are read FETCH_WORKERS at a time
  before the check walks it in order.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from preflight._core.bodies import Refusal, RequestReport, Resolver
from preflight._core.bodies import check_request as check_request_offline
from preflight._core.budgets import NETWORK_TIMEOUT
from preflight._core.info import ImageInfo
from preflight._core.options import Options
from preflight._inputs.http import HttpInput, is_http
from preflight._inputs.probing import probe_input
from preflight.errors import HeaderError, SourceError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from preflight._core.options import OptionKeywords

# How many URLs of one body are read at the same time: the work is waiting
# on the network, not the CPU, and 8 keeps a host from seeing a burst.
FETCH_WORKERS = 8

# Statuses that mean the object is not there for anyone, the API included.
GONE_STATUSES = (404, 410)
# preflight._inputs.http words a status as "(HTTP 404)" or "HTTP 503 ...".
_STATUS = re.compile(r"\bHTTP (\d{3})\b")


class UrlResolver:
    """A check_request resolver for `url` sources (module docstring):
    `resolver("url", URL)` returns the image's ImageInfo or a Refusal, or
    raises HeaderError (not an image) or SourceError (not fetched); None for
    what it does not read (`file` sources, other schemes), or what `then`
    (another resolver, asked first) says."""

    def __init__(self, then: Resolver | None = None, *, timeout: float = NETWORK_TIMEOUT):
        self.then = then
        self.timeout = timeout
        self._done: dict[str, ImageInfo | Refusal | Exception] = {}
        self._lock = threading.Lock()

    def __call__(self, kind: str, reference: str) -> bytes | ImageInfo | Refusal | None:
        if self.then is not None:
            given = self.then(kind, reference)
            if given is not None:
                return given
        if kind != "url":
            return None
        if not is_http(reference):
            raise SourceError(
                f"{reference[:200]}: only http(s) URLs are fetched (the API fetches from the web)"
            )
        with self._lock:
            known = self._done.get(reference)
        if known is None:
            known = self._fetch(reference)
            with self._lock:
                self._done[reference] = known
        if isinstance(known, (HeaderError, SourceError)):
            # A new exception each time: one raised twice grows its traceback.
            raise type(known)(*known.args, code=known.code)
        if isinstance(known, Exception):  # cannot happen: _fetch keeps only those two
            raise SourceError(str(known))
        return known

    def prefetch_body(self, body: object) -> object:
        """Read the url images of a body (a dict, or JSON text or bytes)
        FETCH_WORKERS at a time, into the cache; returns the body parsed."""
        parsed = _parsed(body)
        self.prefetch(list(_image_urls(parsed)))
        return parsed

    def prefetch(self, urls: list[str]) -> None:
        """Read these URLs FETCH_WORKERS at a time, into the cache."""
        wanted = [u for u in dict.fromkeys(urls) if is_http(u) and u not in self._done]
        if len(wanted) < 2:
            return  # one URL is read when it is asked for
        from concurrent.futures import ThreadPoolExecutor  # only when there is something to read

        with ThreadPoolExecutor(min(FETCH_WORKERS, len(wanted))) as pool:
            for url, result in zip(wanted, pool.map(self._fetch, wanted), strict=True):
                with self._lock:
                    self._done[url] = result

    def _fetch(self, url: str) -> ImageInfo | Refusal | Exception:
        opened = HttpInput(url, timeout=self.timeout)
        try:
            return probe_input(opened)
        except HeaderError as error:
            return error
        except SourceError as error:
            status = _STATUS.search(str(error))
            if status is not None and int(status.group(1)) in GONE_STATUSES:
                return Refusal("download", f"HTTP {status.group(1)}")
            return error
        finally:
            opened.close()


def url_resolver(then: Resolver | None = None, *, timeout: float = NETWORK_TIMEOUT) -> UrlResolver:
    """A resolver that measures `url` image sources by ranged reads;
    `then` is asked first (for `file` sources, say). `timeout`: seconds for
    each connect and read."""
    return UrlResolver(then, timeout=timeout)


def check_request(
    body: object,
    options: Options | None = None,
    *,
    resolver: Resolver | None = None,
    fetch: bool = False,
    timeout: float = NETWORK_TIMEOUT,
    **keywords: Unpack[OptionKeywords],
) -> RequestReport:
    """Everything the API would say about a Messages request body
    (preflight._core.bodies.check_request). With `fetch=True`, `url` image
    sources are read by range (their headers only) and checked like base64
    images; without it they are counted, not checked. `resolver` is asked
    first for every `url` and `file` source."""
    if fetch:
        fetcher = url_resolver(resolver, timeout=timeout)
        # With a resolver of the caller's, asked first, nothing is read ahead.
        body = fetcher.prefetch_body(body) if resolver is None else body
        resolver = fetcher
    return check_request_offline(body, options, resolver=resolver, **keywords)


def _parsed(body: object) -> object:
    """JSON text or bytes parsed once (the check would parse it again);
    anything that does not parse is passed on for the check to report."""
    if not isinstance(body, (bytes, bytearray, memoryview, str)):
        return body
    try:
        # UTF-8 only, as the check reads it (json.loads would take UTF-16 too).
        text = body if isinstance(body, str) else bytes(body).decode("utf-8")
        return json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return body


def _image_urls(body: object) -> Iterator[str]:
    """The URLs of url image sources in a body, in order: the messages'
    blocks and the blocks inside their tool results (as check_request walks)."""
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            yield from _block_urls(block)
            inner = block.get("content") if isinstance(block, dict) else None
            for item in inner if isinstance(inner, list) else ():
                yield from _block_urls(item)


def _block_urls(block: Any) -> Iterator[str]:
    if not isinstance(block, dict) or block.get("type") != "image":
        return
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "url":
        url = source.get("url")
        if isinstance(url, str):
            yield url
