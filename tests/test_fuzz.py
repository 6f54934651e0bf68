# A seeded mutation fuzz over the fixtures (samples and hostile): byte
# flips, truncations, insertions and duplicated chunks. It checks the
# promises preflight makes about bad input:
# - inspect never raises;
# - probe raises only HeaderError or SourceError;
# - prepare raises only PreflightError;
# - every image prepare returns decodes with Pillow to exactly its stated
#   width x height.
# The number of cases comes from PREFLIGHT_FUZZ_CASES (default 300; CI
# keeps the default, a long local run may set thousands); the seed from
# PREFLIGHT_FUZZ_SEED, so a failure names the seed and case to replay.

from __future__ import annotations

import io
import os
import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from helpers import FIXTURES
from PIL import Image
from test_prepare import ENGINES

import preflight
from preflight.errors import HeaderError, PreflightError, SourceError

CASES = int(os.environ.get("PREFLIGHT_FUZZ_CASES", "300"))
SEED = int(os.environ.get("PREFLIGHT_FUZZ_SEED", "20240608"))
# Small: a mutated header may declare a large size, and a decoder allocates
# the whole image before it finds the data missing.
FUZZ_PIXEL_CAP = 4_000_000
SOURCES = sorted(
    path
    for folder in ("samples", "hostile")
    for path in (FIXTURES / folder).iterdir()
    if path.is_file() and path.stat().st_size < 200_000
)


@dataclass(frozen=True)
class Case:
    index: int
    source: str
    mutation: str
    data: bytes
    engine: str

    def __str__(self) -> str:
        return f"case {self.index} (seed {SEED}): {self.mutation} of {self.source}, {self.engine}"


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["flip", "flips", "truncate", "insert", "duplicate", "zero-run"])
    size = len(data)
    if size == 0:
        return "insert", bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    if kind == "flip":
        at = rng.randrange(min(size, 512)) if rng.random() < 0.7 else rng.randrange(size)
        return f"flip@{at}", data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[
            at + 1 :
        ]
    if kind == "flips":
        out = bytearray(data)
        for _ in range(rng.randint(2, 12)):
            out[rng.randrange(size)] = rng.randrange(256)
        return "flips", bytes(out)
    if kind == "truncate":
        at = rng.randrange(size)
        return f"truncate@{at}", data[:at]
    if kind == "insert":
        at = rng.randrange(size + 1)
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        return f"insert@{at}", data[:at] + junk + data[at:]
    if kind == "duplicate":  # a stretch repeated: a chunk, segment or frame twice
        start = rng.randrange(size)
        end = min(size, start + rng.randint(4, 2048))
        return f"duplicate@{start}:{end}", data[:end] + data[start:end] + data[end:]
    at = rng.randrange(size)
    return f"zero-run@{at}", data[:at] + bytes(min(64, size - at)) + data[at + 64 :]


def cases() -> Iterator[Case]:
    rng = random.Random(SEED)
    originals = {path.name: path.read_bytes() for path in SOURCES}
    names = sorted(originals)
    for index in range(CASES):
        name = rng.choice(names)
        mutation, data = mutate(originals[name], rng)
        yield Case(index, name, mutation, data, ENGINES[index % len(ENGINES)])


def test_inspect_never_raises_and_probe_raises_only_header_or_source_errors() -> None:
    for case in cases():
        try:
            preflight.inspect(case.data)
        except Exception as error:  # pragma: no cover - the failure report
            pytest.fail(f"{case}: inspect raised {error!r}")
        try:
            preflight.probe(case.data)
        except (HeaderError, SourceError):
            pass
        except Exception as error:  # pragma: no cover
            pytest.fail(f"{case}: probe raised {error!r}")


def prepared(case: Case) -> preflight.PreparedImage | None:
    try:
        return preflight.prepare(case.data, engine=case.engine, pixel_cap=FUZZ_PIXEL_CAP)
    except PreflightError:
        return None
    except Exception as error:  # pragma: no cover
        pytest.fail(f"{case}: prepare raised {error!r}")


def decodes_to_its_size(result: preflight.PreparedImage) -> str | None:
    """None when Pillow decodes the data to exactly the stated size, else why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(result.data)) as image:
                image.load()
                size = image.size
    except Exception as error:
        return f"does not decode: {error!r}"
    if size != (result.width, result.height):
        return f"decodes to {size}, stated {result.width}x{result.height}"
    return None


def test_prepare_raises_only_preflight_errors_and_re_encodes_decodable_data() -> None:
    failures = []
    for case in cases():
        result = prepared(case)
        if result is None or result.passed_through:
            continue
        problem = decodes_to_its_size(result)
        if problem is not None:
            failures.append(f"{case}: {problem}")
    assert not failures, "\n".join(failures[:20])


def test_passed_through_data_decodes_to_its_size() -> None:
    failures = []
    for case in cases():
        result = prepared(case)
        if result is not None and result.passed_through:
            problem = decodes_to_its_size(result)
            if problem is not None:
                failures.append(f"{case}: {problem}")
    assert not failures, "\n".join(failures[:20])


def _verdict(case: Case, engine: str) -> str:
    try:
        result = preflight.prepare(case.data, engine=engine, pixel_cap=FUZZ_PIXEL_CAP)
    except PreflightError as error:
        return f"refused ({error.code})"
    if result.passed_through:
        return "passed through"
    return "repaired" if result.actions[0].code == "repaired" else "converted"


@pytest.mark.skipif(len(ENGINES) < 2, reason="one engine installed: nothing to compare")
def test_engines_give_one_verdict_on_damaged_data() -> None:
    # Whether data decodes cleanly, and whether damaged data is repaired or
    # refused, never depends on the engine (engines.verification). A file
    # converted anyway (resized, turned, a first frame taken) is decoded by
    # the engine's own decoder only, so there the verdicts may differ.
    from preflight._imaging.engines import readers
    from preflight._imaging.preparation import decode_failure

    disagree = []
    for case in cases():
        try:
            info = preflight.probe(case.data)
        except PreflightError:
            continue
        if len(readers(info.format)) < 2:
            continue
        if info.media_type is not None and info.width is not None:
            clean = {decode_failure(case.data, info, engine=e) is None for e in ENGINES}
            if len(clean) > 1:
                disagree.append(f"{case}: decode_failure differs")
        verdicts = {engine: _verdict(case, engine) for engine in ENGINES}
        kinds = {v.split(" (")[0] for v in verdicts.values()}
        if len(kinds) > 1 and "converted" not in kinds:
            disagree.append(f"{case}: {verdicts}")
    assert not disagree, "\n".join(disagree[:20])
