"""pack_images' sources: a str or path naming a directory is walked, any
other str or path is one image, as are bytes and a stream; anything else
iterable is the list. A str is never read as a list of one-letter paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

import preflight

PHOTO = FIXTURES / "samples" / "photo-800x600.jpg"
SMALL = FIXTURES / "samples" / "rgb.png"


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(SMALL, folder / "b.png")
    shutil.copy(PHOTO, folder / "sub" / "a.jpg")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_pack_images_walks_a_directory_str_or_path(images: Path) -> None:
    for given in (str(images), images):
        pack = preflight.pack_images(given, prompt="hi", model="claude-sonnet-4-5")
        assert pack.failures == ()  # not the characters of the name
        assert pack.images == 2  # the two images, the text file left out
        assert pack.requests[0].images == (0, 1)


def test_pack_images_takes_a_file_str_or_path_as_one_image(images: Path) -> None:
    for given in (str(images / "b.png"), images / "b.png"):
        pack = preflight.pack_images(given, model="claude-sonnet-4-5")
        assert (pack.images, pack.failures) == (1, ())


def test_pack_images_takes_bytes_or_a_stream_as_one_image(images: Path) -> None:
    data = (images / "b.png").read_bytes()
    assert preflight.pack_images(data, model="claude-sonnet-4-5").images == 1
    with (images / "b.png").open("rb") as stream:
        assert preflight.pack_images(stream, model="claude-sonnet-4-5").images == 1


def test_pack_images_takes_any_other_iterable_as_the_list(images: Path) -> None:
    names = [str(images / "b.png"), str(images / "sub" / "a.jpg")]
    for given in (names, tuple(names), iter(names)):
        pack = preflight.pack_images(given, model="claude-sonnet-4-5")
        assert (pack.images, pack.failures) == (2, ())


def test_pack_images_of_a_missing_str_is_one_failure(images: Path) -> None:
    pack = preflight.pack_images(str(images / "gone"), model="claude-sonnet-4-5")
    assert pack.images == 0
    (failure,) = pack.failures
    assert failure.source == str(images / "gone") and failure.finding.code == "unreadable"
