"""Durable ingest throughput: hubtrail's `/v1/event` vs a bare ASGI app on the same server.

Starts `hubtrail serve` on a fresh SQLite file (processor running, as in production), drives
`/v1/event` with wrk (keep-alive connections, fixed duration), checks that every 200 is in the
inbox, then drives a bare ASGI app answering the same GIF under the same uvicorn settings, and
prints both rates and their ratio. Run with `make bench`; needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
UVICORN_FLAGS = [
    "--http",
    "httptools",
    "--loop",
    "uvloop",
    "--no-access-log",
    "--log-level",
    "warning",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def wrk(
    url: str, seconds: int, connections: int, script: Path | None = None
) -> tuple[float, int, int]:
    """(requests/s, completed requests, non-2xx responses) as wrk reports them."""
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return rate, done, failed


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def start_hubtrail(db: Path, *, in_server: bool) -> tuple[subprocess.Popen[bytes], str, int]:
    """`hubtrail serve` on a fresh SQLite file with one portal: (process, base URL, hub id)."""
    env = {
        **os.environ,
        "HUBTRAIL_DATABASE_URL": f"sqlite:///{db}",
        "HUBTRAIL_LOG_LEVEL": "WARNING",
        "HUBTRAIL_PROCESS_IN_SERVER": str(in_server).lower(),
    }
    created = subprocess.run(
        [sys.executable, "-m", "hubtrail", "portal", "create", "Bench", "--json"],
        env=env,
        capture_output=True,
        check=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hubtrail", "serve", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/healthz", server)
    return server, base, orjson.loads(created.stdout)["hub_id"]


def check_durable(db: Path, acknowledged: int) -> None:
    """Every acknowledged request's message is in the inbox, or the run is void."""
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
    if stored < acknowledged:
        raise SystemExit(f"durability broken: {acknowledged} acknowledged, {stored} stored")


def bench_hubtrail(
    db: Path, seconds: int, connections: int, *, in_server: bool
) -> tuple[float, int]:
    """wrk against `hubtrail serve`; checks every acknowledged hit is in the inbox."""
    server, base, hub_id = start_hubtrail(db, in_server=in_server)
    try:
        rate, done, failed = wrk(
            f"{base}/v1/event?_a={hub_id}&_n=bench_event", seconds, connections
        )
    finally:
        stop(server)
    check_durable(db, done - failed)
    return rate, failed


def bench_worker(db: Path) -> float:
    """Messages per second `hubtrail worker --once` applies from a full inbox."""
    with sqlite3.connect(db) as conn:
        pending = conn.execute(
            "SELECT count(*) FROM inbox WHERE processed_at_ms IS NULL"
        ).fetchone()[0]
    env = {
        **os.environ,
        "HUBTRAIL_DATABASE_URL": f"sqlite:///{db}",
        "HUBTRAIL_LOG_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hubtrail", "worker", "--once"],
        env=env,
        check=True,
        capture_output=True,
    )
    return float(pending) / (time.perf_counter() - started)


def bench_bare(seconds: int, connections: int) -> float:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            *UVICORN_FLAGS,
        ],
        cwd=ROOT,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/", server)
        rate, _, _ = wrk(
            f"http://127.0.0.1:{port}/v1/event?_a=1&_n=bench_event", seconds, connections
        )
    finally:
        stop(server)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        ingest_only, failed_a = bench_hubtrail(
            Path(tmp) / "a.db", args.seconds, args.connections, in_server=False
        )
        applied_per_s = bench_worker(Path(tmp) / "a.db")
        with_processor, failed_b = bench_hubtrail(
            Path(tmp) / "b.db", args.seconds, args.connections, in_server=True
        )
    bare = bench_bare(args.seconds, args.connections)
    print(
        f"connections={args.connections} seconds={args.seconds} (wrk, loopback, one server process)"
    )
    print(f"bare ASGI app, same server          {bare:9.0f} requests/s")
    print(
        f"hubtrail /v1/event, ingest only     {ingest_only:9.0f} durable events/s  "
        f"ratio {ingest_only / bare:.2f}  (errors: {failed_a})"
    )
    print(
        f"hubtrail /v1/event, processor on    {with_processor:9.0f} durable events/s  "
        f"ratio {with_processor / bare:.2f}  (errors: {failed_b})"
    )
    print(f"hubtrail worker --once              {applied_per_s:9.0f} messages applied/s")
    print("aim: ingest-only ratio >= 0.5")


if __name__ == "__main__":
    main()
