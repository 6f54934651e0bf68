"""Object storage and a Dask cluster: bytes fetched per probed object over
HTTP, and a two-worker LocalCluster against one process.

Run: python benchmarks/bench_fleet.py [--prepare-files N]
     (needs `pip install ".[remote,dask]"`)

Side by side in one run (the machines are noisy: compare the ratios):
(a) probe over HTTP from a server on 127.0.0.1 that honours Range and
    counts the bytes it serves: per object, its size, the bytes fetched,
    the requests, and fetched/size; JPEG with a big EXIF block (past the
    first read), large JPEG, PNG, WebP, still and animated GIF (counting an
    animation's frames reads the whole file, within the 8 MiB budget);
(b) a LocalCluster of two worker processes (one thread each) against one
    process (a plain loop) on the same 2,000 files: check (inspect every
    file) and prepare (the first --prepare-files of them, default 200); and
    check over HTTP URLs of the first --url-files (default 300), served by
    this process on 127.0.0.1, where waiting on the network dominates.
    The cluster is started, and warmed, before the clock runs; each figure
    is the median of 3 runs.
Generated files go to benchmarks/.data/ (ignored by git) and are reused.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_probe import make_corpus, picture

import preflight
from preflight._runs import distributed as fleet


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = files
        self.lock = threading.Lock()
        self.served = 0
        self.requests = 0


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def do_GET(self) -> None:
        self.answer(body=True)

    def answer(self, body: bool) -> None:
        data = self.server.files[self.path.lstrip("/")]
        start, end = 0, len(data)
        asked = self.headers.get("Range")
        if asked and body:
            first, _, last = asked.removeprefix("bytes=").partition("-")
            start, end = int(first), min(len(data), int(last) + 1)
        self.send_response(206 if asked and body else 200)
        self.send_header("Content-Length", str(end - start))
        if asked and body:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        if body:
            self.wfile.write(data[start:end])
        with self.server.lock:
            self.server.requests += 1
            self.server.served += (end - start) if body else 0


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def http_objects() -> dict[str, bytes]:
    import random

    rng = random.Random(1)
    photo = picture((3000, 2000), rng)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x927C] = bytes(rng.randbytes(60_000))  # MakerNote: a big EXIF block
    frames = [picture((400, 300), rng).quantize(16) for _ in range(8)]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:], loop=0)
    return {
        "jpeg-exif-60k.jpg": encoded(photo, "JPEG", quality=85, exif=exif.tobytes()),
        "jpeg-6000x4000.jpg": encoded(photo.resize((6000, 4000)), "JPEG", quality=90),
        "png-3000x2000.png": encoded(photo, "PNG", compress_level=1),
        "webp-3000x2000.webp": encoded(photo, "WEBP", quality=80),
        "gif-still.gif": encoded(photo.resize((800, 600)).quantize(64), "GIF"),
        "gif-animated-8.gif": animated.getvalue(),
    }


def bench_http() -> None:
    files = http_objects()
    server = Server(files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print("(a) probe over HTTP (a range-honouring server on 127.0.0.1)")
    print(f"    {'object':<22}{'size':>12}{'fetched':>10}{'requests':>10}{'fetched/size':>14}")
    try:
        for name, data in files.items():
            server.served = server.requests = 0
            info = preflight.probe(f"{base}/{name}")
            local = preflight.probe(data)
            assert (info.format, info.width, info.height, info.frames) == (
                local.format,
                local.width,
                local.height,
                local.frames,
            )
            print(
                f"    {name:<22}{len(data):>12,}{server.served:>10,}{server.requests:>10}"
                f"{server.served / len(data):>14.4f}"
            )
    finally:
        server.shutdown()
        server.server_close()
    print("    requests: one HEAD for the size (none when a listing gives it), then ranged GETs")


def median_time(call: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cluster(prepare_files: int, url_files: int) -> None:
    from distributed import Client, LocalCluster

    paths = [str(p) for p in make_corpus()]
    # The workers import the preflight this process runs.
    root = str(Path(preflight.__file__).resolve().parent.parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    client = Client(cluster)
    out = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        fleet.check_on_cluster(paths[:100], client)  # warm: imports on the workers
        one = median_time(lambda: [preflight.inspect(p) for p in paths])
        two = median_time(lambda: fleet.check_on_cluster(paths, client))
        assert list(fleet.check_on_cluster(paths, client).reports) == [
            preflight.inspect(p) for p in paths
        ]
        print("(b) LocalCluster, 2 worker processes x 1 thread, against one process (median of 3)")
        print(
            f"    check   {len(paths):,} files: one process {one:6.2f} s, cluster {two:6.2f} s"
            f" -> speed-up {one / two:.2f}x"
        )
        served = {Path(p).name: Path(p).read_bytes() for p in paths[:url_files]}
        server = Server(served)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        urls = [f"{base}/{name}" for name in served]
        try:
            fleet.check_on_cluster(urls[:20], client)  # warm: fsspec and aiohttp on the workers
            one = median_time(lambda: [preflight.inspect(u) for u in urls])
            two = median_time(lambda: fleet.check_on_cluster(urls, client, partition_size=25))
        finally:
            server.shutdown()
            server.server_close()
        print(
            f"    check   {len(urls):,} URLs (HTTP, loopback): one process {one:6.2f} s,"
            f" cluster {two:6.2f} s -> speed-up {one / two:.2f}x"
        )
        subset = paths[:prepare_files]
        jobs = [fleet.PrepareJob(p, Path(p).name) for p in subset]

        def local() -> None:
            for job in jobs:
                preflight.prepare(job.source).save(out / "one" / job.relative)

        one = median_time(local)
        two = median_time(lambda: fleet.prepare_on_cluster(jobs, str(out / "two"), client))
        print(
            f"    prepare {len(subset):,} files: one process {one:6.2f} s, cluster {two:6.2f} s"
            f" -> speed-up {one / two:.2f}x"
        )
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare-files", type=int, default=200)
    parser.add_argument("--url-files", type=int, default=300)
    args = parser.parse_args()
    bench_http()
    bench_cluster(args.prepare_files, args.url_files)


if __name__ == "__main__":
    main()
