# Cost plans from files of sizes: the readers agree and refuse bad files in
# one line; the plan's exact totals match the scalar core.

from __future__ import annotations

import importlib.util
import io
import itertools
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import any_sizes

import preflight
from preflight._core.planning import target_sizes
from preflight._inputs.sizes import SizesFileError, read_sizes
from preflight._runs.costplan import HISTOGRAM_ROWS, cost_plan, histogram_edges
from preflight.errors import DataError, InvalidArgumentError

# Arithmetic and file readers: no image engine is loaded (conftest checks), so tox's
# nopyvips env leaves this module to the py env.
pytestmark = pytest.mark.noengine

READERS = ["numpy"] + [r for r in ("pyarrow", "pandas") if importlib.util.find_spec(r)]


@pytest.mark.parametrize("reader", READERS)
def test_readers_agree(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text("count,Height,width,note\n3,200,100,a\n\n1,3000,4000,b\n")
    sizes = read_sizes(path, reader=reader)
    assert sizes.widths.tolist() == [100, 4000]
    assert sizes.heights.tolist() == [200, 3000]
    assert sizes.counts is not None
    assert sizes.counts.tolist() == [3, 1]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("w,h\n1,2\n", "line 1: no column 'width' or 'height'"),
        ("width,height\n", "no rows"),
        ("width,height\n100,200\n5,x\n", "line 3: height 'x' is not a whole number"),
        ("width,height\n100,200\n5,\n", "line 3: height '' is not a whole number"),
        ("width,height\n100,200\n5,2.5\n", "line 3: height '2.5' is not a whole number"),
        ("width,height\n100,200\n-5,3\n", "line 3: width -5 is under 1"),
        ("width,height\n100,200\n\n0,3\n", "line 4: width 0 is under 1"),
        ("width,height,count\n1,1,-1\n", "line 2: count -1 is under 0"),
        ("width,height\n100,200\n5,3,4\n", "line 3: 3 fields, the header has 2"),
        ("width,height\n1,99999999999999999999\n", "line 2: height is past 2**62"),
        ("width,height\n1,4611686018427387905\n", "line 2: height is past 2**62"),
    ],
)
def test_bad_files_are_one_line_errors(
    tmp_path: Path, reader: str, text: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(SizesFileError) as caught:
        read_sizes(path, reader=reader)
    assert isinstance(caught.value, DataError)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_stream_and_parquet(tmp_path: Path) -> None:
    sizes = read_sizes(io.BytesIO(b"width,height\n1920,1080\n"))
    assert (sizes.widths.tolist(), sizes.counts) == ([1920], None)
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"width": [1920, 5], "height": [1080, 7], "count": [2, 0]}), path)
    sizes = read_sizes(path)
    assert sizes.widths.tolist() == [1920, 5]
    assert sizes.counts is not None
    assert sizes.counts.tolist() == [2, 0]
    pq.write_table(pa.table({"width": [1.5], "height": [2]}), path)
    with pytest.raises(SizesFileError, match="whole numbers"):
        read_sizes(path)


@settings(max_examples=60)
@given(
    st.lists(st.tuples(any_sizes, st.integers(0, 50)), min_size=1, max_size=60),
    st.sampled_from([None, "api", "guide", "tokens=700", "box=1000x500"]),
    st.booleans(),
)
def test_cost_plan_matches_the_scalar_core(
    rows: list[tuple[tuple[int, int], int]], target: str | None, batch: bool
) -> None:
    widths = [w for (w, _), _ in rows]
    heights = [h for (_, h), _ in rows]
    counts = [c for _, c in rows]
    models = ["claude-sonnet-4-6", "claude-opus-4-7"]  # served: estimate() prices them
    result = cost_plan(widths, heights, counts, models=models, target=target, batch=batch)
    for model, priced in zip(models, result.models, strict=True):
        tier = preflight.make_options(model=model).tier
        tokens = 0
        cost = Decimal(0)
        for (w, h), c in rows:
            if target is not None:
                w, h = preflight.target_size(w, h, target, tier=tier)
            e = preflight.estimate(w, h, model=model, batch=batch)
            tokens += e.tokens * c
            assert e.cost_usd is not None
            cost += e.cost_usd * c
        assert priced.tokens == tokens
        assert priced.cost_usd == cost
        assert sum(b.images for b in priced.histogram) == sum(counts)
        assert sum(b.tokens for b in priced.histogram) == tokens
        assert sum((b.cost_usd or 0 for b in priced.histogram), Decimal(0)) == cost
    assert result.images == sum(counts)
    assert result.to_dict()["images"] == sum(counts)


def test_exact_totals_past_float_precision() -> None:
    counts = np.array([2**60, 3], dtype=np.int64)
    result = cost_plan([1000, 1000], [1000, 1000], counts, models=["claude-sonnet-4-6"])
    assert result.models[0].tokens == 1296 * (2**60 + 3)  # 36 x 36 patches
    (bucket,) = result.models[0].histogram  # one distinct value: one bucket
    assert (bucket.low, bucket.high, bucket.images) == (1296, 1296, 2**60 + 3)
    assert result.to_dict()["images"] == 2**60 + 3  # a JSON integer, exact


@given(st.lists(any_sizes, min_size=1, max_size=100), st.sampled_from(["standard", "high-res"]))
def test_target_sizes_match_target_size(sizes: list[tuple[int, int]], tier: str) -> None:
    w = np.array([s[0] for s in sizes])
    h = np.array([s[1] for s in sizes])
    for target in ("guide", "tokens=300", "box=640x480", "api"):
        out_w, out_h = target_sizes(w, h, target, tier=tier)
        assert list(zip(out_w.tolist(), out_h.tolist(), strict=True)) == [
            preflight.target_size(a, b, target, tier=tier) for a, b in sizes
        ]


# --- files as spreadsheets save them ------------------------------------------


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    ("data", "separator"),
    [
        (b"\xef\xbb\xbfwidth,height,count\r\n100,200,3\r\n4000,3000,1\r\n", None),  # CSV UTF-8
        (b"width;height;count\n100;200;3\n4000;3000;1\n", None),  # a decimal-comma locale
        (b"width\theight\tcount\n100\t200\t3\n4000\t3000\t1\n", None),
        (b"width|height|count\n100|200|3\n4000|3000|1\n", None),
        (b'\xef\xbb\xbf"width";"height";"count"\n100;200;3\n4000;3000;1\n', None),
        ("width\theight\tcount\r\n100\t200\t3\r\n4000\t3000\t1\r\n".encode("utf-16"), None),
        (b"width;height;count\n100;200;3\n4000;3000;1\n", ";"),  # given, not sniffed
    ],
)
def test_spreadsheet_csv(tmp_path: Path, reader: str, data: bytes, separator: str | None) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    sizes = read_sizes(path, reader=reader, separator=separator)
    assert sizes.widths.tolist() == [100, 4000]
    assert sizes.heights.tolist() == [200, 3000]
    assert sizes.counts is not None
    assert sizes.counts.tolist() == [3, 1]


@pytest.mark.parametrize("reader", READERS)
def test_named_columns(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"file;W;H;N\na.png;100;200;3\nb.png;4000;3000;1\n")
    names = {"width": "w", "height": "H", "count": "n"}  # case-insensitive
    sizes = read_sizes(path, reader=reader, columns=names)
    assert (sizes.widths.tolist(), sizes.heights.tolist()) == ([100, 4000], [200, 3000])
    assert sizes.counts is not None
    assert sizes.counts.tolist() == [3, 1]
    # Without count named, a column called count is still taken; W and H are not.
    with pytest.raises(SizesFileError) as caught:
        read_sizes(path, reader=reader)
    message = str(caught.value)
    assert "line 1: no column 'width' or 'height'" in message
    assert "the header has 'file', 'w', 'h', 'n' (split at each semicolon)" in message
    assert "--columns width=W,height=H" in message
    # A named count the file lacks is an error (it was asked for).
    with pytest.raises(SizesFileError, match="no column 'images'"):
        read_sizes(path, reader=reader, columns={"width": "w", "height": "h", "count": "images"})


def test_a_separator_given_overrides_the_sniffed_one(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    # As many commas as pipes in the header: the comma wins the tie, wrongly here.
    path.write_bytes(b"width|height|a, b, c\n100|200|x\n")
    with pytest.raises(SizesFileError, match="split at each comma"):
        read_sizes(path)
    assert read_sizes(path, separator="|").widths.tolist() == [100]


def test_bad_separator_and_columns_are_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"width,height\n1,2\n")
    with pytest.raises(InvalidArgumentError, match="unknown separator"):
        read_sizes(path, separator=":")
    with pytest.raises(InvalidArgumentError, match="unknown column 'depth'"):
        read_sizes(path, columns={"depth": "d"})


def test_parquet_with_named_columns(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"W": [1920, 5], "H": [1080, 7], "N": [2, 0]}), path)
    sizes = read_sizes(path, columns={"width": "W", "height": "H", "count": "N"})
    assert (sizes.widths.tolist(), sizes.heights.tolist()) == ([1920, 5], [1080, 7])
    assert sizes.counts is not None
    assert sizes.counts.tolist() == [2, 0]
    with pytest.raises(SizesFileError, match="the header has 'w', 'h', 'n'"):
        read_sizes(path)


# --- the histogram --------------------------------------------------------------


def test_few_values_get_a_bucket_each() -> None:
    result = cost_plan([200, 1000, 1000, 9000], [200, 1000, 1000, 10], models=["claude-sonnet-4-6"])
    buckets = result.models[0].histogram
    assert [(b.label, b.images) for b in buckets] == [("rejected", 1), ("64", 1), ("1,296", 2)]
    assert buckets[0].rejected and buckets[0].tokens == 0


def test_many_values_get_fitted_buckets() -> None:
    # A realistic mix: most images at the standard tier's cap, a tail of smaller ones.
    rng = np.random.default_rng(3)
    widths = np.concatenate([np.full(6000, 4032), rng.integers(50, 1500, 4000)])
    heights = np.concatenate([np.full(6000, 3024), rng.integers(50, 1500, 4000)])
    buckets = cost_plan(widths, heights, models=["claude-sonnet-4-6"]).models[0].histogram
    assert 3 <= len(buckets) <= HISTOGRAM_ROWS
    assert all(b.images for b in buckets)
    assert sum(b.images for b in buckets) == 10_000
    # The cap's images are a bucket of their own, not lumped with the tail.
    assert buckets[-1].images >= 6000
    assert buckets[-1].images < 7000
    for before, after in itertools.pairwise(buckets):
        assert after.low == before.high + 1
        assert after.low % 10 ** max(len(str(after.low)) - 2, 0) == 0  # a round number


@given(st.dictionaries(st.integers(1, 20_000), st.integers(1, 10**12), min_size=1, max_size=300))
def test_histogram_edges_are_bounded_and_never_empty(per_value: dict[int, int]) -> None:
    billed = sorted(per_value.items())
    edges = histogram_edges(billed)
    assert 1 <= len(edges) <= HISTOGRAM_ROWS
    assert edges[0] == billed[0][0]
    assert edges == sorted(set(edges))
    for low, high in zip(edges, [*edges[1:], None], strict=True):
        assert any(low <= v and (high is None or v < high) for v, _ in billed)
    if len(billed) <= HISTOGRAM_ROWS:
        assert edges == [v for v, _ in billed]
