# The pixel cap is enforced on what the decoder is about to decode, in both
# engines: after the library has read the header and before any pixel is
# decoded, its own width x height is checked against the cap, and against
# the probed size (a file replaced between probe and decode, or a container
# that lies). Every test here fails when an engine trusts the probe alone.

from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path
from typing import Any

import pytest
from crafted import bilevel_png, ico
from PIL import Image, ImageFile
from test_prepare import ENGINES, encode, photo

import preflight
from preflight._imaging.engines import get_engine
from preflight.errors import DecodeError, UnsafeImageError

PREPARE_MODULE = sys.modules["preflight._inputs.probing"]  # where prepare opens its source


def png(width: int, height: int) -> bytes:
    return encode(photo(width, height), "PNG")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("as_path", [True, False])
def test_info_of_another_file_is_a_decode_error(engine: str, as_path: bool, tmp_path: Path) -> None:
    small, large = png(40, 30), png(400, 300)
    info = preflight.probe(small)
    source: Path | bytes = large
    if as_path:
        source = tmp_path / "large.png"
        source.write_bytes(large)
    with pytest.raises(DecodeError, match="changed since it was probed, or it lies"):
        get_engine(engine).load(source, info, 40, 30, pixel_cap=10**9)


@pytest.mark.parametrize("engine", ENGINES)
def test_cap_is_checked_on_the_size_the_library_reads(engine: str, tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png(40, 30))
    info = preflight.probe(path)  # 1,200 px: within the cap
    path.write_bytes(bilevel_png(3000, 3000))  # replaced: 9 Mpx
    with pytest.raises(UnsafeImageError, match="3000x3000"):
        get_engine(engine).load(path, info, 40, 30, pixel_cap=1_000_000)


@pytest.mark.parametrize("engine", ENGINES)
def test_file_replaced_between_probe_and_decode_in_prepare(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(photo(300, 200), "JPEG"))
    real_probe = PREPARE_MODULE.probe_input

    def probe_then_swap(source: Any) -> Any:
        info = real_probe(source)
        replacement = tmp_path / "swap.jpg"
        replacement.write_bytes(encode(photo(3000, 2000), "JPEG"))
        replacement.replace(path)  # atomically, as an attacker (or a sync tool) would
        return info

    monkeypatch.setattr(PREPARE_MODULE, "probe_input", probe_then_swap)
    with pytest.raises(UnsafeImageError, match="3000x2000"):
        preflight.prepare(path, engine=engine, target="box:100x100", pixel_cap=1_000_000)


def test_ico_bomb_is_refused_before_pillow_decodes_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Image.open decodes an ICO at once: the engine must read the embedded
    # image's header before calling it. Here the probe is made to believe
    # the directory (16x16), as an older parser did.
    bomb = ico([((16, 16), bilevel_png(13000, 13000))])
    info = dataclasses.replace(preflight.probe(bomb), width=16, height=16)
    loads: list[object] = []
    original = ImageFile.ImageFile.load

    def counting_load(self: Any) -> Any:
        loads.append(self)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    with pytest.raises(UnsafeImageError, match="13000x13000"):
        get_engine("pillow").load(bomb, info, 16, 16, pixel_cap=1_000_000)
    assert loads == []


def test_ico_decodes_at_the_size_its_header_reads() -> None:
    data = ico([((16, 16), bilevel_png(64, 48))])
    result = preflight.prepare(data, engine="pillow", image_format="png")
    assert (result.width, result.height) == (64, 48)
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == (64, 48)
