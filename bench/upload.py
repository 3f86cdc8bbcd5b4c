#!/usr/bin/env python
"""Benchmark of large evidence uploads through the running server.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--part-mib 64] [--parallel 2]

Starts the real server (gunicorn with the production settings of gunicorn.conf.py, 2 workers)
on a temporary SQLite database and a temporary MEDIA_ROOT (migrated first), signs a user in,
and uploads a generated file (a valid MP4 header, then random bytes) through the same HTTP
protocol the browser uses: create, sign each part, PUT the part to the signed URL (the headers
with http.client, the body with sendfile, so that the client takes as little as it can of the
cores it shares with the server: a browser does not share them), complete. It then measures the
same disk with `dd if=/dev/zero bs=1M count=N conv=fdatasync` and prints both speeds, their
ratio, the server's peak memory (VmHWM of each gunicorn process, from /proc), and the CPU time
server and client used per GiB: the bench's client shares the machine's cores with the server,
and unlike the speeds, CPU per GiB does not change with what else the machine is running.

Goals: upload speed >= 0.8 x dd, peak RSS <= 100 MB. The upload must also arrive byte for byte
(SHA-256 compared), else the run fails; a peak RSS over 100 MB also fails the run (exit 1), so
the memory bound is checked whatever the tests do. Everything temporary is removed at the end.
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
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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

    def send(number: int) -> dict[str, Any]:
        url = session.call("GET", f"/uploads/api/{upload_id}/parts/{number}/sign/")["url"]
        offset = (number - 1) * part_size
        etag = session.put_part(url, path, offset, min(part_size, size - offset))
        return {"PartNumber": number, "ETag": etag}

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        parts = list(pool.map(send, numbers))
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
    parser.add_argument("--part-mib", type=int, default=64)
    parser.add_argument("--parallel", type=int, default=2, help="part uploads at once (2)")
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
        from microcred.earning.uploads.policy import GiB, UploadPolicy
        from microcred.orgs.models import User

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
            upload(session, token, warm, 5 * MiB, args.parallel, name=f"warm-{n}.mp4")

        size = args.size_mib * MiB
        source = work / "source.mp4"
        print(f"Generating a {args.size_mib} MiB file...", flush=True)
        expected = make_file(source, size)
        subprocess.run(["sync"], check=True)

        workers = gunicorn_pids(server.pid)[1:]
        server_cpu = -sum(map(cpu_seconds, workers))
        client_cpu = -sum(os.times()[:2])
        seconds = upload(session, token, source, args.part_mib * MiB, args.parallel, "lesson.mp4")
        client_cpu += sum(os.times()[:2])
        server_cpu += sum(map(cpu_seconds, workers))
        upload_mbs = size / seconds / 1e6
        rss = {pid: peak_rss_mb(pid) for pid in gunicorn_pids(server.pid)}
        load = os.getloadavg()[0]
        stored = Upload.objects.get(filename="lesson.mp4")
        arrived = sha256_of(Path(env["MICROCRED_MEDIA_ROOT"]) / stored.key) == expected
        source.unlink()
        subprocess.run(["sync"], check=True)
        dd_mbs = dd_speed(work, args.size_mib)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    ratio = upload_mbs / dd_mbs
    worst = max(rss.values())
    print(
        f"File:                      {args.size_mib} MiB in {args.part_mib} MiB parts, "
        f"{args.parallel} at a time, status {stored.status}"
    )
    print(
        f"Upload through the server: {upload_mbs:8.1f} MB/s ({seconds:.2f} s, create to complete)"
    )
    print(f"dd on the same disk:       {dd_mbs:8.1f} MB/s (bs=1M conv=fdatasync)")
    # CPU per GiB does not depend on what else the machine runs; the speeds do (both sides of
    # the upload share its cores), so the load average is printed beside them.
    gib = size / (1024 * MiB)
    print(
        f"CPU per GiB:               server {server_cpu / gib:5.2f} s, "
        f"client {client_cpu / gib:5.2f} s ({os.cpu_count()} CPUs, load average {load:.1f})"
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
    print(f"Stored file identical:     {'yes' if arrived else 'NO'} (SHA-256)")
    return 0 if arrived and worst <= RSS_GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
