# check, prepare and plan on a Dask cluster (preflight._runs.distributed): a real
# LocalCluster of two worker processes, one thread each, started once for
# the module (the machine has 2 CPUs), and every answer compared with the
# single-process run over the fixtures. Bad files must come back as
# findings or error entries, never as a failed task.

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES

import preflight
from preflight._core.geometry import Target
from preflight._core.options import make_options
from preflight._core.planning import plan
from preflight._core.settings import CheckSettings, PrepareSettings
from preflight._runs import batch
from preflight._runs import distributed as fleet
from preflight.errors import (
    InvalidArgumentError,
    MissingExtraError,
    PreflightError,
    UsageError,
)

dask_distributed = pytest.importorskip(
    "distributed", reason="the 'dask' extra (dask[distributed]) is not installed"
)
pytest.importorskip("pandas", reason="the 'dask' extra (dask[dataframe]) is not installed")
# A cluster of worker processes: the fast tier leaves this module out.
pytestmark = pytest.mark.slow

ALL = sorted(
    str(p)
    for folder in ("samples", "hostile", "unsupported")
    for p in (FIXTURES / folder).iterdir()
)
SOURCES = [*ALL, str(FIXTURES / "samples" / "no-such-file.jpg")]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    # The workers are other processes: they must import this preflight (the
    # one under test), wherever it lies.
    root = str(Path(preflight.__file__).resolve().parent.parent)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, before]))
    cluster = dask_distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    running = dask_distributed.Client(cluster)
    try:
        yield running
    finally:
        running.close()
        cluster.close()
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def test_check_equals_the_single_process_run(client: Any) -> None:
    local = [preflight.inspect(path) for path in SOURCES]
    found = fleet.check_on_cluster(SOURCES, client, partition_size=7)
    assert list(found.reports) == local  # in order, findings and Decimal costs included
    assert found.totals == fleet.CheckTotals.of(local)
    assert found.totals.files == len(SOURCES)
    assert found.totals.rejected == sum(r.rejected for r in local) > 0
    assert isinstance(found.totals.cost_usd, Decimal)
    # The address works as well as a Client; options travel to the workers.
    priced = fleet.check_on_cluster(SOURCES[:9], client.scheduler.address, model="opus-4.7")
    assert list(priced.reports) == [preflight.inspect(p, model="opus-4.7") for p in SOURCES[:9]]


def test_check_with_decode_equals_the_single_process_run(client: Any) -> None:
    sources = [str(p) for p in sorted((FIXTURES / "hostile").iterdir())]
    found = fleet.check_on_cluster(sources, client, decode=True, partition_size=4)
    assert list(found.reports) == [preflight.inspect(p, decode=True) for p in sources]


def test_urls_from_a_walk_run_on_the_workers(client: Any) -> None:
    from preflight._inputs.remote import walk_url

    listed = walk_url((FIXTURES / "samples").resolve().as_uri())
    assert len(listed) > 20
    found = fleet.check_on_cluster(listed, client, partition_size=10)
    for report, item in zip(found.reports, listed, strict=True):
        local = preflight.inspect(FIXTURES / "samples" / item.relative)
        assert report.path == item.url
        assert report.estimate == local.estimate
        assert report.findings == local.findings
        assert report.info is not None and local.info is not None
        assert report.info.file_bytes == local.info.file_bytes


def test_the_bag_and_the_frame(client: Any) -> None:
    import pandas as pd

    bag = fleet.reports_bag(SOURCES, partition_size=9, surface="bedrock")
    local = [preflight.inspect(p, surface="bedrock") for p in SOURCES]
    assert bag.npartitions > 2
    assert client.compute(bag).result() == local
    assert client.compute(fleet.totals_of(bag)).result() == fleet.CheckTotals.of(local)
    frame = client.compute(fleet.reports_frame(SOURCES, partition_size=9)).result()
    assert list(frame.columns) == list(fleet.FRAME_COLUMNS)
    expected = pd.DataFrame([fleet.report_row(preflight.inspect(p)) for p in SOURCES])
    expected = expected.astype(fleet.FRAME_COLUMNS)
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected)
    # Exact cost text, summed exactly: the frame never holds float money.
    costs = [Decimal(c) for c in frame[~frame["rejected"]]["cost_usd"].dropna()]
    assert sum(costs) == fleet.CheckTotals.of(preflight.inspect(p) for p in SOURCES).cost_usd
    assert client.compute(fleet.reports_bag([])).result() == []


def _local_prepare(
    jobs: list[fleet.PrepareJob], out: str, settings: PrepareSettings | None = None
) -> fleet.PrepareResult:
    """The single-process run, with the batch engine's naming and writing."""
    options, chosen = make_options(), settings or PrepareSettings()
    names = fleet.OutputNames(out, (job.source for job in jobs))
    entries: list[dict[str, object]] = []
    totals = fleet.PrepareTotals()
    for job in jobs:
        try:
            made = batch.make(job.source, options, chosen)
            where = names.claim_all(job, made.extensions, tiled=chosen.tile)
            entry, share = batch.write_made(job.source, made, where, options)
        except PreflightError as error:
            entry, share = (
                fleet.error_entry(job.source, error),
                fleet.PrepareTotals(files=1, failed=1),
            )
        entries.append(entry)
        totals = totals + share
    return fleet.PrepareResult(tuple(entries), totals)


def test_prepare_equals_the_single_process_run(client: Any, tmp_path: Path) -> None:
    jobs = fleet.prepare_jobs([str(FIXTURES / "samples"), str(FIXTURES / "hostile")])
    assert {"source.jpg", "baseline.jpg"} <= {Path(j.relative).name for j in jobs}
    found = fleet.prepare_on_cluster(jobs, str(tmp_path / "fleet"), client, partition_size=3)
    local = _local_prepare(jobs, str(tmp_path / "local"))
    assert found.totals == local.totals
    assert found.totals.failed > 0 and found.totals.prepared > 0
    assert len(found.entries) == len(jobs)
    for ours, theirs in zip(found.entries, local.entries, strict=True):
        if theirs["status"] == "ok":
            out_ours, out_theirs = Path(str(ours.pop("output"))), Path(str(theirs.pop("output")))
            assert out_ours.relative_to(tmp_path / "fleet") == out_theirs.relative_to(
                tmp_path / "local"
            )
            assert out_ours.read_bytes() == out_theirs.read_bytes()
        assert ours == theirs


@pytest.mark.parametrize(
    "settings",
    [
        PrepareSettings(measure_quality=True, image_format="png"),
        PrepareSettings(tile=True, overlap=16, image_format="jpeg", encoder_quality=40),
        PrepareSettings(target=Target("effective"), engine="pillow", pixel_cap=2_000_000),
    ],
    ids=["measure-quality", "tile", "effective"],
)
def test_prepare_settings_reach_the_workers(
    client: Any, tmp_path: Path, settings: PrepareSettings
) -> None:
    jobs = fleet.prepare_jobs([str(FIXTURES / "samples")])
    found = fleet.prepare_on_cluster(jobs, str(tmp_path / "fleet"), client, settings=settings)
    local = _local_prepare(jobs, str(tmp_path / "local"), settings)
    assert found.totals == local.totals
    assert found.totals.prepared > 0
    for ours, theirs in zip(found.entries, local.entries, strict=True):
        assert _placeless(ours, tmp_path / "fleet") == _placeless(theirs, tmp_path / "local")
    made = [e for e in found.entries if e["status"] == "ok"]
    if settings.tile:
        assert all("outputs" in e for e in made)
    if settings.measure_quality:
        assert any(e["findings"] for e in made)


def _placeless(entry: dict[str, object], out: Path) -> dict[str, object]:
    """An entry with its outputs relative to `out`, their bytes read."""
    kept = dict(entry)
    outputs = kept.pop("outputs", None)
    named = [kept.pop("output")] if "output" in kept else []
    if isinstance(outputs, list):
        named = [o.pop("output") for o in outputs]
        kept["outputs"] = outputs
    kept["written"] = [
        (Path(str(o)).relative_to(out).as_posix(), Path(str(o)).read_bytes()) for o in named
    ]
    return kept


def test_check_settings_reach_the_workers(client: Any) -> None:
    sources = [str(p) for p in sorted((FIXTURES / "samples").iterdir())][:12]
    settings = CheckSettings(decode=True, measure_quality=True)
    found = fleet.check_on_cluster(sources, client, settings=settings, partition_size=5)
    assert list(found.reports) == [preflight.inspect(p, settings=settings) for p in sources]
    assert list(fleet.check_on_cluster(sources, client, measure_quality=True).reports) == [
        preflight.inspect(p, measure_quality=True) for p in sources
    ]


def test_prepare_writes_to_a_url(client: Any, tmp_path: Path) -> None:
    names = ("rgba.png", "wide-2400x600.jpg", "animated.gif", "bilevel.png")
    jobs = [fleet.PrepareJob(str(FIXTURES / "samples" / n), n) for n in names]
    # Two inputs of one stem: the second output takes the whole name.
    jobs.append(fleet.PrepareJob(str(FIXTURES / "samples" / "rgb.png"), "rgba.jpg"))
    out = (tmp_path / "out").as_uri()
    found = fleet.prepare_on_cluster(jobs, out, client, partition_size=2, window=1)
    outputs = [str(e["output"]) for e in found.entries]
    assert all(o.startswith(out + "/") for o in outputs)
    assert len(set(outputs)) == len(outputs)
    for entry, job in zip(found.entries, jobs, strict=True):
        written = (tmp_path / "out" / str(entry["output"])[len(out) + 1 :]).read_bytes()
        assert written == preflight.prepare(job.source).data


def test_plan_equals_the_single_process_plan(client: Any) -> None:
    import numpy as np

    rng = np.random.default_rng(11)
    widths = rng.integers(1, 12_000, 20_000)
    heights = rng.integers(1, 12_000, 20_000)
    counts = rng.integers(0, 1_000, 20_000)
    for keywords in ({}, {"batch": True, "model": "opus-4.7", "images_in_request": 30}):
        expected = plan(widths, heights, counts, **keywords)  # type: ignore[arg-type]
        found = fleet.plan_on_cluster(
            widths,
            heights,
            counts,
            scheduler=client,
            partition_size=3_001,
            **keywords,  # type: ignore[arg-type]
        )
        for name in ("processed_width", "processed_height", "tokens", "resized", "rejected"):
            assert np.array_equal(getattr(found, name), getattr(expected, name)), name
        for name in ("images", "images_resized", "images_rejected", "total_tokens"):
            assert getattr(found, name) == getattr(expected, name), name
        assert found.total_cost_usd == expected.total_cost_usd
        assert isinstance(found.total_cost_usd, Decimal)
        assert (found.model, found.tier, found.price_note) == (
            expected.model,
            expected.tier,
            expected.price_note,
        )


def test_the_callers_mistakes_raise_before_anything_is_sent(client: Any) -> None:
    with pytest.raises(UsageError):
        fleet.check_on_cluster(SOURCES, client, model="no-such-model")
    with pytest.raises(InvalidArgumentError):
        fleet.prepare_on_cluster([], "out", client, image_format="tiff-nope")
    with pytest.raises(InvalidArgumentError):
        fleet.check_on_cluster(SOURCES, client, partition_size=0)
    with pytest.raises(InvalidArgumentError):
        fleet.check_on_cluster(SOURCES, 8786)  # type: ignore[arg-type]
    with pytest.raises(preflight.InvalidSizeError):
        fleet.plan_on_cluster([0], [10], scheduler=client)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("tcp://127.0.0.1:{port}", r"127\.0\.0\.1:\d+: cannot reach a Dask scheduler"),
        ("127.0.0.1:{port}", r"cannot reach a Dask scheduler"),
        ("localhost", r"no port .* did you mean tcp://localhost:8786\?"),
        ("tcp://no-such-host.invalid:8786", r"host 'no-such-host\.invalid' is not known"),
        ("http://127.0.0.1:8786", r"not a scheduler address"),
    ],
)
def test_an_unreachable_scheduler_is_the_callers_to_fix(address: str, said: str) -> None:
    """Refused before any Client is made (a usage error: exit 2 on the
    command line), whatever CONNECT_TIMEOUT says."""
    with pytest.raises(InvalidArgumentError, match=said):
        fleet.check_on_cluster(SOURCES[:1], address.format(port=_free_port()))


def test_a_port_that_is_not_a_scheduler_is_the_callers_to_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Something listens but never speaks (a scheduler sends its handshake
    at once): refused after the probe's wait, never the Client's endless
    handshake read."""
    monkeypatch.setattr(fleet, "CONNECT_PROBE_SECONDS", 0.5)
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen()
        address = f"tcp://127.0.0.1:{mute.getsockname()[1]}"
        with pytest.raises(InvalidArgumentError, match="not a Dask scheduler"):
            fleet.check_on_cluster(SOURCES[:1], address)


def test_check_reports_progress_as_partitions_come_back(client: Any) -> None:
    seen: list[int] = []
    found = fleet.check_on_cluster(SOURCES, client, partition_size=7, progress=seen.append)
    assert sum(seen) == len(SOURCES) == len(found.reports)
    assert len(seen) == -(-len(SOURCES) // 7)  # one call a partition
    assert found.totals == fleet.CheckTotals.of(found.reports)


def test_without_dask_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"preflight\[dask\]"):
        fleet.check_on_cluster(SOURCES[:1], "tcp://127.0.0.1:9")
