# A cluster worker that dies (a decoder's crash, the OOM killer) costs the
# source it was working on, as that source's error, and the run goes on: a
# real LocalCluster of worker processes, where a worker plugin makes any
# worker exit hard when it reaches a source named "crash" (0.2 lost the
# whole run to a traceback).

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES

import preflight
from preflight._core.options import make_options
from preflight._core.settings import PrepareSettings
from preflight._runs import distributed as fleet

dask_distributed = pytest.importorskip(
    "distributed", reason="the 'dask' extra (dask[distributed]) is not installed"
)
pytestmark = pytest.mark.slow


class CrashOnName(dask_distributed.WorkerPlugin):  # type: ignore[misc]
    """Installed in every worker (and again in a restarted one): a source
    whose name contains "crash" ends the worker's process at once."""

    name = "crash-on-name"

    def setup(self, worker: Any) -> None:
        from preflight._runs import batch

        real_check, real_make = batch.check_one, batch.make

        def check_one(item: Any, *args: Any, **kwargs: Any) -> Any:
            if "crash" in str(getattr(item, "url", item)):
                os._exit(70)
            return real_check(item, *args, **kwargs)

        def make(source: str, *args: Any, **kwargs: Any) -> Any:
            if "crash" in source:
                os._exit(70)
            return real_make(source, *args, **kwargs)

        batch.check_one = check_one  # type: ignore[assignment]
        batch.make = make  # type: ignore[assignment]
        from preflight._runs import distributed

        distributed.check_one = check_one  # type: ignore[assignment]
        distributed.make = make  # type: ignore[assignment]

    def teardown(self, worker: Any) -> None:
        pass


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    root = str(Path(preflight.__file__).resolve().parent.parent)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, before]))
    import dask

    # A task whose worker dies fails at once (the default retries it on 3
    # more workers, each of which it would kill).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = dask_distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        )
        running = dask_distributed.Client(cluster)
        running.register_plugin(CrashOnName())
        try:
            yield running
        finally:
            running.close()
            cluster.close()
            if before is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = before


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    names = ["a.jpg", "b.png", "crash.jpg", "c.gif", "d.jpg"]
    kinds = ["photo-800x600.jpg", "rgb.png", "photo-800x600.jpg", "still.gif", "baseline.jpg"]
    made = []
    for name, kind in zip(names, kinds, strict=True):
        shutil.copy(FIXTURES / "samples" / kind, tmp_path / name)
        made.append(str(tmp_path / name))
    return made


def test_check_loses_only_the_source_that_killed_a_worker(client: Any, sources: list[str]) -> None:
    found = fleet.check_on_cluster(sources, client, partition_size=5)
    assert [r.path for r in found.reports] == sources  # every source, in order
    crashed = [r for r in found.reports if r.path.endswith("crash.jpg")]
    assert [f.code for f in crashed[0].findings] == ["worker-crashed"]
    others = [r for r in found.reports if not r.path.endswith("crash.jpg")]
    assert others == [preflight.inspect(path) for path in sources if "crash" not in path]
    assert found.totals.files == 5


def test_prepare_loses_only_the_job_that_killed_a_worker(
    client: Any, sources: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    jobs = fleet.prepare_jobs(sources, out=out)
    result = fleet.prepare_on_cluster(
        jobs,
        str(out),
        client,
        make_options(model="claude-haiku-4-5"),
        settings=PrepareSettings(),
        partition_size=5,
    )
    statuses = {entry["source"]: entry["status"] for entry in result.entries}
    assert list(statuses) == sources
    assert statuses.pop(sources[2]) == "error"
    assert set(statuses.values()) == {"ok"}
    (crash,) = [e for e in result.entries if e["status"] == "error"]
    assert crash["error"]["code"] == "worker-crashed"  # type: ignore[index]
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "b.png", "c.gif", "d.jpg"]
