#!/usr/bin/env python
"""Benchmark of large evidence uploads through the running server.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--part-mib N] [--parallel N] [--rounds 7]

Starts the real server (gunicorn with the production settings of gunicorn.conf.py, 2 workers)
on a temporary SQLite database and a temporary MEDIA_ROOT (migrated first), signs a user in,
and uploads a generated file (a valid MP4 header, then random bytes) the way a browser running
static/earning/uploader.js does: the part size it picks for the file (policy.browser_part_size)
and as many parts at once (UPLOAD_PARALLEL_PARTS), unless told otherwise; create, sign the
parts in batches ahead of sending them (Signer, as uploader.js's PartSigner), PUT each part to
its signed URL (the headers with http.client, the body with sendfile, so that the client takes
as little as it can of the cores it shares with the server: a browser does not share them),
complete. After each upload it measures the same disk with
`dd if=/dev/zero bs=1M count=N conv=fdatasync`; it prints every round, the medians of both
speeds and their ratio, the server's peak memory (VmHWM of each gunicorn process, from /proc),
and the CPU time server and client used per GiB: the bench's client shares the machine's cores
with the server, and unlike the speeds, CPU per GiB hardly changes with what else the machine
is running.

Goals: upload speed >= 0.8 x dd, peak RSS <= 100 MB. Every upload must also arrive byte for
byte (SHA-256 compared), else the run fails; a peak RSS over 100 MB also fails the run (exit 1),
so the memory bound is checked whatever the tests do. Everything temporary is removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
RSS_GOAL_MB = 100
RATIO_GOAL = 0.8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_file(path: Path, size: int) -> str:
    """A file the server accepts as video (an MP4 'ftyp' box, then one 'free' box of random
    bytes); returns its SHA-256."""
    digest = hashlib.sha256()
    head = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 512) + b"isommp41"
    head += struct.pack(">I", size - len(head)) + b"free"
    with path.open("wb") as out:
        out.write(head)
        digest.update(head)
        left = size - len(head)
        while left:
            chunk = os.urandom(min(8 * MiB, left))
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def dd_speed(folder: Path, count_mib: int) -> float:
    """MB/s (10^6 bytes) of dd writing zeros with fdatasync, as dd itself counts."""
    target = folder / "dd.bin"
    started = time.perf_counter()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={count_mib}", "conv=fdatasync"],
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    target.unlink()
    return count_mib * MiB / seconds / 1e6


@dataclass(frozen=True)
class Round:
    upload_mbs: float
    seconds: float
    dd_mbs: float
    server_cpu: float
    client_cpu: float
    arrived: bool


class Session:
    """A signed-in browser: session and CSRF cookies, one connection per thread."""

    def __init__(self, port: int, sessionid: str) -> None:
        self.port = port
        self.csrf = "b" * 32
        self.cookie = f"sessionid={sessionid}; csrftoken={self.csrf}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.csrf, "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = json.loads(response.read() or b"null")
        conn.close()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data}")
        return data

    def put_part(self, url: str, path: Path, offset: int, length: int) -> str:
        target = urlsplit(url)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            conn.putrequest("PUT", f"{target.path}?{target.query}")
            conn.putheader("Content-Length", str(length))
            conn.putheader("Content-Type", "application/octet-stream")
            conn.endheaders()
            with path.open("rb") as handle:
                conn.sock.sendfile(handle, offset, length)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"part PUT failed: {response.status}")
        return response.headers["ETag"]


def _settle(batch: Future[Any], futures: dict[int, Future[str]]) -> None:
    """Hand each part's URL (or the batch's error) to whoever waits for it."""
    error = batch.exception()
    urls = {} if error else {p["number"]: p["url"] for p in batch.result()["parts"]}
    for number, future in futures.items():
        if error:
            future.set_exception(error)
        else:
            future.set_result(urls[number])


class Signer:
    """Signed part URLs fetched the way static/earning/uploader.js (PartSigner) fetches them:
    a batch of twice as many parts as are sent at once, the next batch asked for in the
    background while parts are still being sent, so no part waits for its URL."""

    def __init__(self, session: Session, upload_id: str, part_count: int, parallel: int) -> None:
        self.session = session
        self.upload_id = upload_id
        self.part_count = part_count
        self.batch = 2 * parallel
        self.ahead = parallel if parallel > 1 else 0  # one at a time: no request alongside
        self.lock = threading.Lock()
        self.pending: dict[int, Future[str]] = {}
        self.requested = 0  # the highest part number asked for so far
        self.fetcher = ThreadPoolExecutor(max_workers=1)

    def url(self, number: int) -> str:
        with self.lock:
            if number not in self.pending:
                self._fetch(number)
            future = self.pending.pop(number)
            if self.ahead and number + self.ahead > self.requested < self.part_count:
                self._fetch(self.requested + 1)
        return future.result()

    def _fetch(self, first: int) -> None:
        last = min(first + self.batch - 1, self.part_count)
        futures = {number: Future[str]() for number in range(first, last + 1)}
        self.pending.update(futures)
        self.requested = max(self.requested, last)
        path = f"/uploads/api/{self.upload_id}/parts/sign/?parts={first}-{last}"
        batch = self.fetcher.submit(self.session.call, "GET", path)
        batch.add_done_callback(lambda done: _settle(done, futures))

    def close(self) -> None:
        self.fetcher.shutdown()


def upload(
    session: Session, token: str, path: Path, part_size: int, parallel: int, name: str
) -> float:
    """Send the file through the protocol; returns the seconds from create to complete."""
    size = path.stat().st_size
    started = time.perf_counter()
    created = session.call(
        "POST",
        "/uploads/api/",
        {
            "filename": name,
            "type": "video/mp4",
            "size": size,
            "partSize": part_size,
            "policy": token,
        },
    )
    upload_id = created["uploadId"]
    numbers = range(1, -(-size // part_size) + 1)
    signer = Signer(session, upload_id, len(numbers), parallel)

    def send(number: int) -> dict[str, Any]:
        url = signer.url(number)
        offset = (number - 1) * part_size
        etag = session.put_part(url, path, offset, min(part_size, size - offset))
        return {"PartNumber": number, "ETag": etag}

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        parts = list(pool.map(send, numbers))
    signer.close()
    session.call("POST", f"/uploads/api/{upload_id}/complete/", {"parts": parts})
    return time.perf_counter() - started


def gunicorn_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument(
        "--part-mib", type=int, help="part size (default: the one a browser picks for the file)"
    )
    parser.add_argument(
        "--parallel",
        type=int,
        help="part uploads at once (default: as many as a browser sends, UPLOAD_PARALLEL_PARTS)",
    )
    parser.add_argument(
        "--rounds", type=int, default=7, help="uploads, each followed by dd (7: dd alone swings 2x)"
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="microcred-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "microcred.settings",
        "DJANGO_SECRET_KEY": os.urandom(24).hex(),
        "MICROCRED_VAR_DIR": str(work),
        "MICROCRED_MEDIA_ROOT": str(work / "media"),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "MICROCRED_LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"],
            env=env,
            check=True,
            capture_output=True,
        )
        os.environ.update(env)
        sys.path.insert(0, str(ROOT / "src"))
        import django

        django.setup()
        from django.test import Client

        from microcred.earning.models import Upload
        from microcred.earning.uploads.policy import GiB, UploadPolicy, browser_part_size
        from microcred.earning.uploads.widget import parallel_parts
        from microcred.orgs.models import User

        # What a browser does with this file, unless told otherwise.
        size = args.size_mib * MiB
        part_size = args.part_mib * MiB if args.part_mib else browser_part_size(size)
        parallel = args.parallel or parallel_parts()

        user = User.objects.create_user(email="bench@example.org", password=None)
        browser = Client()
        browser.force_login(user)
        policy = UploadPolicy(("video/*",), max_bytes=64 * GiB, purpose="bench")

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "microcred.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                # The production settings (gunicorn.conf.py), with two workers and no access log.
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--workers",
                "2",
                "--access-logfile",
                "/dev/null",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        session = Session(port, browser.cookies["sessionid"].value)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

        token = policy.token(user)
        # Warm up: a running server has loaded its code in every worker before big uploads.
        warm = work / "warm.mp4"
        make_file(warm, 12 * MiB)
        for n in range(4):
            upload(session, token, warm, 5 * MiB, parallel, name=f"warm-{n}.mp4")

        source = work / "source.mp4"
        print(f"Generating a {args.size_mib} MiB file...", flush=True)
        expected = make_file(source, size)
        subprocess.run(["sync"], check=True)

        # Rounds of one upload then dd, so that both see the machine in the same state (its
        # other load, the disk's caches); the medians of each are compared.
        workers = gunicorn_pids(server.pid)[1:]
        rounds: list[Round] = []
        for number in range(1, args.rounds + 1):
            server_cpu = -sum(map(cpu_seconds, workers))
            client_cpu = -sum(os.times()[:2])
            name = f"lesson-{number}.mp4"
            seconds = upload(session, token, source, part_size, parallel, name)
            client_cpu += sum(os.times()[:2])
            server_cpu += sum(map(cpu_seconds, workers))
            stored = Upload.objects.get(filename=name)
            stored_path = Path(env["MICROCRED_MEDIA_ROOT"]) / stored.key
            arrived = stored.status == Upload.Status.COMPLETE and sha256_of(stored_path) == expected
            stored_path.unlink()
            subprocess.run(["sync"], check=True)
            rounds.append(
                Round(
                    upload_mbs=size / seconds / 1e6,
                    seconds=seconds,
                    dd_mbs=dd_speed(work, args.size_mib),
                    server_cpu=server_cpu,
                    client_cpu=client_cpu,
                    arrived=arrived,
                )
            )
        rss = {pid: peak_rss_mb(pid) for pid in gunicorn_pids(server.pid)}
        load = os.getloadavg()[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    gib = size / (1024 * MiB)
    print(f"File: {args.size_mib} MiB in {part_size // MiB} MiB parts, {parallel} at a time")
    for number, one in enumerate(rounds, start=1):
        print(
            f"Round {number}: upload {one.upload_mbs:7.1f} MB/s ({one.seconds:.2f} s, create to "
            f"complete), dd {one.dd_mbs:7.1f} MB/s, ratio {one.upload_mbs / one.dd_mbs:.2f}; "
            f"CPU per GiB: server {one.server_cpu / gib:.2f} s, client {one.client_cpu / gib:.2f} s"
        )
    upload_mbs = statistics.median(r.upload_mbs for r in rounds)
    dd_mbs = statistics.median(r.dd_mbs for r in rounds)
    ratio = upload_mbs / dd_mbs
    worst = max(rss.values())
    arrived = all(r.arrived for r in rounds)
    print(f"Upload through the server: {upload_mbs:8.1f} MB/s (median of {len(rounds)})")
    print(f"dd on the same disk:       {dd_mbs:8.1f} MB/s (bs=1M conv=fdatasync, median)")
    # CPU per GiB does not depend on what else the machine runs; the speeds do (both sides of
    # the upload share its cores), so the load average is printed beside them.
    server_cpu = statistics.median(r.server_cpu for r in rounds) / gib
    client_cpu = statistics.median(r.client_cpu for r in rounds) / gib
    print(
        f"CPU per GiB:               server {server_cpu:5.2f} s, client {client_cpu:5.2f} s "
        f"(median; {os.cpu_count()} CPUs, load average {load:.1f})"
    )
    print(
        f"Ratio upload / dd:         {ratio:8.2f}   (goal >= {RATIO_GOAL}: "
        f"{'met' if ratio >= RATIO_GOAL else 'MISSED'})"
    )
    for pid, mb in rss.items():
        role = "master" if pid == server.pid else "worker"
        print(f"Peak RSS gunicorn {role:6}:  {mb:8.1f} MB (VmHWM, pid {pid})")
    print(
        f"Peak RSS, largest process: {worst:8.1f} MB   (goal <= {RSS_GOAL_MB}: "
        f"{'met' if worst <= RSS_GOAL_MB else 'MISSED'})"
    )
    print(f"Stored files identical:    {'yes' if arrived else 'NO'} (SHA-256, every round)")
    return 0 if arrived and worst <= RSS_GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
