# What prepare returns decodes, and check --decode finds data that does not:
# a header that reads over pixel data that does not (a flipped byte in a
# PNG's IDAT, a JPEG cut inside its scan but given an end marker) is what the
# API answers "Could not process image" for.

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from helpers import FIXTURES
from PIL import Image
from test_prepare import ENGINES, photo

import preflight
from preflight.cli import main


def png_with_bad_idat(width: int = 300, height: int = 200) -> bytes:
    """A PNG whose IDAT payload is damaged, with a CRC that matches the
    damage: the chunk structure is sound, the zlib stream is not."""
    buffer = io.BytesIO()
    photo(width, height).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    payload = bytearray(data[at + 4 : at + 4 + length])
    for offset in range(10, len(payload) - 10, 97):
        payload[offset] ^= 0xFF
    crc = struct.pack(">I", zlib.crc32(b"IDAT" + payload))
    return bytes(data[: at + 4]) + bytes(payload) + crc + bytes(data[at + 8 + length :])


def pillow_decodes(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def test_the_damaged_png_reads_but_does_not_decode() -> None:
    data = png_with_bad_idat()
    info = preflight.probe(data)
    assert (info.width, info.height) == (300, 200)
    assert not pillow_decodes(data)
    assert not [f for f in preflight.check(info) if f.is_error]  # the header alone looks fine


@pytest.mark.parametrize("engine", ENGINES)
def test_prepare_never_passes_damaged_data_through(engine: str) -> None:
    # Before: passed through byte for byte, as "fine". Now: verified, and
    # neither decoder makes pixels of it.
    with pytest.raises(preflight.DecodeError, match="could not be decoded"):
        preflight.prepare(png_with_bad_idat(), engine=engine)


def jpeg_with_damaged_scan() -> bytes:
    """A baseline JPEG cut inside its scan, then given an end marker (so the
    end check sees nothing wrong): libjpeg warns and fills the rest in grey."""
    buffer = io.BytesIO()
    photo(400, 300).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    scan = data.index(b"\xff\xda")
    return data[: scan + (len(data) - scan) * 6 // 10] + b"\xff\xd9"


@pytest.mark.parametrize("engine", ENGINES)
def test_what_prepare_returns_always_decodes(engine: str) -> None:
    for data in (jpeg_with_damaged_scan(), (FIXTURES / "samples" / "baseline.jpg").read_bytes()):
        try:
            result = preflight.prepare(data, engine=engine)
        except preflight.DecodeError:
            continue  # refused: nothing undecodable is returned
        assert pillow_decodes(result.data)
        if not result.passed_through:
            assert result.actions[0].code in ("repaired", "resized", "converted")


@pytest.mark.skipif("vips" not in ENGINES, reason="pyvips is not installed")
def test_libjpeg_warnings_mean_re_encode_with_vips() -> None:
    result = preflight.prepare(jpeg_with_damaged_scan(), engine="vips")
    assert result.actions[0].code == "repaired"
    assert "Premature end" in result.actions[0].detail or "Corrupt" in result.actions[0].detail


@pytest.mark.parametrize("engine", ENGINES)
def test_sound_files_still_pass_through_unchanged(engine: str) -> None:
    path = FIXTURES / "samples" / "photo-800x600.jpg"
    result = preflight.prepare(path, engine=engine)
    assert result.passed_through
    assert result.data == path.read_bytes()


def test_check_decode_finds_what_the_header_hides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(png_with_bad_idat())
    good = tmp_path / "good.jpg"
    good.write_bytes((FIXTURES / "samples" / "photo-800x600.jpg").read_bytes())
    assert main(["check", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path), "--decode"]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: undecodable Could not process image" in out
    assert f"{good}:" not in out  # clean files are not listed (ruff-style output)
    report = preflight.inspect(bad, decode=True)
    assert [f.code for f in report.findings][:1] == ["undecodable"]
    assert preflight.inspect(good, decode=True).findings == ()
    with pytest.raises(preflight.UsageError):
        preflight.inspect(good, decode="yes")  # type: ignore[arg-type]
