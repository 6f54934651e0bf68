"""Every core of one machine and the command line's --jobs (issues 11, 19), ratios in one run.

- check, whole process: `preflight check DIR` over 20,000 small files
  (start-up, walk, checks, output), with --jobs chosen by the work, and
  with --jobs 1 and 2, against an in-process `imagesize.get` loop over the
  same files (goal, issue 19: at most 2x, whole process included; the
  loop with an os.walk of the tree is printed too);
- --jobs chosen by the work is never slower than one process: check
  (header-only and --decode), prepare over 200 and over 8 small files,
  each with no --jobs, --jobs 1 and --jobs 2;
- prepare --jobs 2 against --jobs 1 over 200 small files (goal: 1.3x);
- URLs: check over 240 URLs of a loopback server that answers each
  request after 20 ms (a server a little away), read one at a time and
  16 at a time (the threads check uses whatever --jobs says), and the
  bytes the run fetched (its JSON summary) against the objects' sizes;
- resume: a re-run of a finished prepare, decided from its manifest, as a
  fraction of the first run; the content hash: BLAKE2b, SHA-256, MD5.

Run: python benchmarks/bench_scale.py [--files 20000] [--repeat 3]
Files are generated once into benchmarks/.data/ (gitignored). Times are
the best of --repeat runs (the machine is shared), every command in its
own process as a user runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent / ".data"
OUT = DATA / "prepared"
LATENCY = 0.020  # seconds the URL server waits before each answer


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


def subset(paths: list[str], count: int, name: str) -> Path:
    """The first `count` files copied into their own folder."""
    folder = DATA / name
    if not (folder / ".done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in paths[:count]:
            shutil.copy(path, folder / Path(path).name)
        (folder / ".done").touch()
    return folder


def preflight_command() -> str:
    script = shutil.which("preflight") or str(Path(sys.executable).parent / "preflight")
    if not Path(script).exists():
        sys.exit("the preflight command is not installed: pip install .")
    return script


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return done


JOBS = {"auto (no --jobs)": [], "--jobs 1": ["--jobs", "1"], "--jobs 2": ["--jobs", "2"]}


def jobs_row(label: str, repeat: int, make: Callable[[list[str]], list[str]]) -> dict[str, float]:
    """Each --jobs choice, interleaved, best of `repeat`."""
    times: dict[str, list[float]] = {name: [] for name in JOBS}
    for _ in range(repeat):
        for name, flags in JOBS.items():
            command = make(flags)
            if OUT.exists() and "--out" in command:
                shutil.rmtree(OUT)
            times[name].append(timed(lambda c=command: run(c)))
    best = {name: min(found) for name, found in times.items()}
    one = best["--jobs 1"]
    cells = "  ".join(
        f"{name} {seconds:6.2f} s ({one / seconds:4.2f}x)" for name, seconds in best.items()
    )
    print(f"  {label:<34}{cells}")
    return best


# --- URLs ---------------------------------------------------------------------------


class SlowServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections sent together (a 1 s retry)

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.files = files


class _SlowHandler(BaseHTTPRequestHandler):
    server: SlowServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        time.sleep(LATENCY)
        data = self.server.files[self.path.lstrip("/")]
        first, _, last = self.headers.get("Range", "bytes=0-").removeprefix("bytes=").partition("-")
        start, end = int(first), min(len(data), int(last) + 1 if last else len(data))
        body = data[start:end]
        self.send_response(206)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        self.wfile.write(body)


def check_urls(paths: list[str], count: int, repeat: int, script: str) -> None:
    import functools

    from preflight._core.options import make_options
    from preflight._core.settings import make_check_settings
    from preflight._runs.batch import check_one
    from preflight._runs.parallel import thread_map

    files = {f"u{n:04d}{Path(p).suffix}": Path(p).read_bytes() for n, p in enumerate(paths[:count])}
    server = SlowServer(files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/{name}" for name in sorted(files)]
    work = functools.partial(check_one, options=make_options(), settings=make_check_settings())
    print(f"check over {len(urls)} URLs, {LATENCY * 1000:.0f} ms a request (loopback server)")
    one = best_of(repeat, lambda: list(thread_map(work, urls, threads=1)))
    many = best_of(repeat, lambda: list(thread_map(work, urls, threads=16)))
    print(f"  one at a time (0.2's way, --jobs 1)  : {one:6.2f} s")
    print(f"  16 in flight (check, any --jobs)     : {many:6.2f} s ({one / many:.1f}x)")
    done = run([script, "check", *urls, "--format", "json", "--isolated"])
    summary = json.loads(done.stdout)["summary"]
    total = sum(len(data) for data in files.values())
    print(
        f"  bytes fetched (JSON summary)         : {summary['fetched_bytes']:,} of {total:,} "
        f"({summary['fetched_bytes'] / total:.1%} of the objects)"
    )
    server.shutdown()


# --- resume -------------------------------------------------------------------------


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


def resume(paths: list[str], repeat: int) -> None:
    from preflight._core.options import make_options
    from preflight._runs.parallel import ordered_map
    from preflight._runs.resume import decide, options_digest, read_manifest

    jobs_list = [(p, str(Path(p).relative_to(DATA))) for p in paths]
    shutil.rmtree(OUT, ignore_errors=True)
    first = time.perf_counter()
    entries = list(ordered_map(prepare_one, jobs_list, jobs=1))
    first_run = time.perf_counter() - first
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

    resumed = best_of(repeat, resume_run)
    print(
        f"resume over {len(jobs_list):,} prepared files: {resumed:6.3f} s "
        f"({resumed / first_run:.1%} of the first run, {first_run:.2f} s)"
    )


def check_against_imagesize(paths: list[str], root: Path, script: str, repeat: int) -> None:
    import imagesize

    def imagesize_loop() -> None:
        for path in paths:
            imagesize.get(path)

    def imagesize_walk() -> None:
        for folder, _, names in os.walk(root):
            for name in names:
                if name.startswith("img"):
                    imagesize.get(os.path.join(folder, name))

    loop = best_of(repeat, imagesize_loop)
    walked = best_of(repeat, imagesize_walk)
    print(f"  imagesize.get loop, in process       : {loop:6.2f} s")
    print(f"  the same with an os.walk of the tree : {walked:6.2f} s")
    check = [script, "check", str(root), "-q", "--no-progress", "--isolated"]
    best = jobs_row("preflight check (whole process)", repeat, lambda f: [*check, *f])
    auto = best["auto (no --jobs)"]
    print(
        f"  goal: check <= 2x the imagesize loop: {auto / loop:.2f}x "
        f"({auto / walked:.2f}x the loop with its walk): "
        f"{'met' if auto <= 2 * loop else 'NOT met'}"
    )


def jobs_chosen_by_the_work(paths: list[str], script: str, repeat: int) -> None:
    print("--jobs chosen by the work, against one process and two")
    two_hundred = subset(paths, 200, "small-200")
    eight = subset(paths, 8, "small-8")
    decode = [script, "check", str(two_hundred), "--decode", "-q", "--no-progress", "--isolated"]
    jobs_row("check --decode, 200 files", repeat, lambda f: [*decode, *f])
    prepare = [script, "prepare", "--out", str(OUT), "-q", "--no-progress", "--isolated"]
    big = jobs_row("prepare, 200 files", repeat, lambda f: [*prepare, str(two_hundred), *f])
    jobs_row("prepare, 8 files", repeat, lambda f: [*prepare, str(eight), *f])
    ratio = big["--jobs 1"] / big["--jobs 2"]
    print(f"  goal: prepare --jobs 2 >= 1.3x --jobs 1 over 200 files: {ratio:.2f}x: "
          f"{'met' if ratio >= 1.3 else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--urls", type=int, default=240)
    parser.add_argument(
        "--only",
        choices=("check", "jobs", "urls", "resume", "hash"),
        action="append",
        help="run only this part (repeatable)",
    )
    args = parser.parse_args()
    parts = set(args.only or ("check", "jobs", "urls", "resume", "hash"))
    script = preflight_command()
    paths = make_tree(args.files)
    root = DATA / f"small-{args.files}"
    print(f"{len(paths):,} small files; {os.cpu_count()} CPUs here; best of {args.repeat}")
    if "check" in parts:
        check_against_imagesize(paths, root, script, args.repeat)
    if "jobs" in parts:
        jobs_chosen_by_the_work(paths, script, args.repeat)
    if "urls" in parts:
        check_urls(paths, args.urls, args.repeat, script)
    if "resume" in parts:
        resume(paths[:1000], args.repeat)
    if "hash" in parts:
        blob = os.urandom(64 << 20)
        print("content hash over 64 MB")
        for name in ("blake2b", "sha256", "md5"):
            seconds = best_of(3, lambda n=name: hashlib.new(n, blob).digest())
            print(f"  {name:<8}: {64 / seconds:8.0f} MB/s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
