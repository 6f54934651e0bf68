"""Every core of one machine (issue 11), ratios measured in one run:

- check: preflight.inspect over 10,000 small files through ordered_map with
  jobs 1 and 2, against a single-threaded imagesize.get loop over the same
  files (goal: jobs 2 at least as fast as the imagesize loop);
- prepare: jobs 1 vs 2 over the same files (goal: 1.8x or more);
- resume: a re-run of the finished prepare, decided by preflight._runs.resume
  from its manifest, as a fraction of the first run;
- the content hash: BLAKE2b against SHA-256 and MD5 on this machine.

Run: python benchmarks/bench_scale.py [--files 10000] [--prepare-files 2000]
Files are generated once into benchmarks/.data/ (gitignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def best_of(repeats: int, call: Callable[[], object]) -> float:
    return min(timed(call) for _ in range(repeats))


def make_tree(count: int) -> list[str]:
    """Small JPEGs and PNGs (thumbnails, icons), a few bigger photos."""
    folder = DATA / f"small-{count}"
    marker = folder / ".done"
    if not marker.exists():
        from PIL import Image

        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for i in range(count):
            size = (64 + i % 200, 48 + (i * 7) % 150) if i % 50 else (2400, 1600)
            image = Image.new("RGB", size, ((i * 37) % 256, (i * 91) % 256, 120))
            kind = "png" if i % 3 == 0 else "jpg"
            sub = folder / f"d{i % 20:02d}"
            sub.mkdir(exist_ok=True)
            image.save(sub / f"img{i:05d}.{kind}", "PNG" if kind == "png" else "JPEG")
        marker.touch()
    return sorted(str(p) for p in folder.rglob("img*"))


def inspect_one(path: str) -> tuple[int | None, int | None, int]:
    from preflight import inspect

    report = inspect(path)
    estimate = report.estimate
    return (
        report.info.width if report.info else None,
        report.info.height if report.info else None,
        estimate.tokens if estimate else 0,
    )


OUT = DATA / "prepared"


def prepare_one(job: tuple[str, str]) -> dict[str, object]:
    from preflight import prepare
    from preflight._runs.resume import source_fields

    source, relative = job
    result = prepare(source)
    destination = OUT / (relative + result.extension)
    result.save(destination)
    return {
        "source": source,
        "status": "ok",
        "output": str(destination),
        "bytes": len(result.data),
        **source_fields(source),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--prepare-files", type=int, default=2_000)
    args = parser.parse_args()
    import imagesize

    from preflight._core.options import make_options
    from preflight._runs.parallel import ordered_map
    from preflight._runs.resume import decide, options_digest, read_manifest

    paths = make_tree(args.files)
    print(f"check over {len(paths):,} small files (2 CPUs here: {os.cpu_count()})")

    def imagesize_loop() -> None:
        for path in paths:
            imagesize.get(path)

    def check(jobs: int) -> Callable[[], object]:
        return lambda: list(ordered_map(inspect_one, paths, jobs=jobs, chunk_size=64))

    imagesize_s = best_of(3, imagesize_loop)
    one = best_of(3, check(1))
    two = best_of(3, check(2))
    assert list(ordered_map(inspect_one, paths[:500], jobs=1)) == list(
        ordered_map(inspect_one, paths[:500], jobs=2)
    )
    print(f"  imagesize.get loop (one thread)   : {imagesize_s:6.2f} s")
    print(
        f"  inspect, ordered_map jobs=1       : {one:6.2f} s ({one / imagesize_s:.2f}x imagesize)"
    )
    print(
        f"  inspect, ordered_map jobs=2       : {two:6.2f} s ({two / imagesize_s:.2f}x imagesize; "
        f"goal <= 1x; {one / two:.2f}x jobs=1)"
    )

    jobs_list = [(p, str(Path(p).relative_to(DATA))) for p in paths[: args.prepare_files]]
    print(f"prepare over {len(jobs_list):,} files")

    def prepare_run(jobs: int) -> list[dict[str, object]]:
        shutil.rmtree(OUT, ignore_errors=True)
        return list(ordered_map(prepare_one, jobs_list, jobs=jobs, chunk_size=16))

    p1 = min(timed(lambda: prepare_run(1)) for _ in range(2))
    p2 = min(timed(lambda: prepare_run(2)) for _ in range(2))
    print(f"  prepare jobs=1                    : {p1:6.2f} s")
    print(f"  prepare jobs=2                    : {p2:6.2f} s ({p1 / p2:.2f}x; goal >= 1.8x)")

    entries = prepare_run(1)
    digest = options_digest(make_options(), {"target": "api"})
    manifest = OUT / "preflight-manifest.jsonl"
    with manifest.open("w") as out:
        out.write(json.dumps({"preflight_manifest": 1, "options_hash": digest}) + "\n")
        for entry in entries:
            out.write(json.dumps(entry) + "\n")
        out.write(json.dumps({"summary": {"files": len(entries)}}) + "\n")

    def resume_run() -> None:
        previous = read_manifest(manifest)
        decisions = [decide(previous, source, digest) for source, _ in jobs_list]
        assert all(d.done for d in decisions), [d.reason for d in decisions if not d.done][:3]

    resumed = best_of(3, resume_run)
    print(
        f"  re-run of the finished job (resume): {resumed:6.2f} s "
        f"({resumed / p1:.1%} of the first run at jobs=1)"
    )

    blob = os.urandom(64 << 20)
    print("content hash over 64 MB")
    for name in ("blake2b", "sha256", "md5"):
        seconds = best_of(3, lambda n=name: hashlib.new(n, blob).digest())
        print(f"  {name:<8}: {64 / seconds:8.0f} MB/s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
