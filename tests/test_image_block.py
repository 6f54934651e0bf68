# preflight.image_block: a typed block from a path, bytes, a file or a URL,
# its media type from the data, never from the name.

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import preflight
from preflight.errors import DataError


def picture(fmt: str, size: tuple[int, int] = (320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 30)).save(out, fmt)
    return out.getvalue()


def decoded(block: Any) -> Image.Image:
    source = block["source"]
    assert source["type"] == "base64"
    return Image.open(io.BytesIO(base64.b64decode(source["data"])))


def test_the_media_type_comes_from_the_data_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(picture("PNG"))  # a PNG saved as .jpg
    block = preflight.image_block(path, prepared=False)
    assert block["source"]["media_type"] == "image/png"
    assert decoded(block).format == "PNG"


def test_as_is_keeps_the_bytes_and_prepared_makes_what_the_api_keeps(tmp_path: Path) -> None:
    data = picture("JPEG", (3000, 2000))
    as_is = preflight.image_block(data, prepared=False)
    assert base64.b64decode(as_is["source"]["data"]) == data
    haiku = preflight.make_options(model="claude-haiku-4-5")
    made = preflight.image_block(data, haiku)
    width, height = decoded(made).size
    assert preflight.api_size(width, height, options=haiku) == (width, height)  # kept as is
    assert max(width, height) < 3000


def test_a_format_the_api_refuses_is_converted_or_refused(tmp_path: Path) -> None:
    bmp = picture("BMP")
    with pytest.raises(DataError, match="not a format the API takes"):
        preflight.image_block(bmp, prepared=False)
    block = preflight.image_block(bmp)
    assert block["source"]["media_type"] in ("image/png", "image/jpeg")


def test_cache_control_and_transformations_are_carried(tmp_path: Path) -> None:
    block = preflight.image_block(
        io.BytesIO(picture("PNG")),
        cache_control={"type": "ephemeral", "ttl": "1h"},
        transformations={"oversized_image": "error"},
    )
    assert block["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert block["transformations"] == {"oversized_image": "error"}


@pytest.fixture
def server() -> Iterator[str]:
    data = picture("PNG")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    served = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.daemon_threads = True
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{served.server_address[1]}/shot.jpg"
    finally:
        served.shutdown()
        served.server_close()
        thread.join(timeout=10)


def test_a_url_is_a_url_block_as_is_and_read_when_prepared(server: str) -> None:
    assert preflight.image_block(server, prepared=False) == {
        "type": "image",
        "source": {"type": "url", "url": server},
    }
    block = preflight.image_block(server)
    assert block["source"]["type"] == "base64"
    assert decoded(block).size == (320, 200)
