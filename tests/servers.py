"""Starting real `hubtrail` processes for end-to-end and browser tests.

Each test that needs the real server (not the in-process app) goes through these helpers, so the
environment, readiness check and CLI calls are the same everywhere.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from tests.conftest import Database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Database, **extra: str) -> dict[str, str]:
    """The environment a server or CLI process runs with: the test schema, quiet logs, a fast
    processor and no settings cache (a `portal set` applies to the next request)."""
    return {
        **os.environ,
        "HUBTRAIL_DATABASE_SCHEMA": database.schema,
        "HUBTRAIL_LOG_LEVEL": "WARNING",
        "HUBTRAIL_PROCESS_POLL_MS": "20",
        "HUBTRAIL_PORTAL_CACHE_TTL_S": "0",
        **extra,
    }


def cli(database: Database, *args: str) -> str:
    """Run `hubtrail ARGS --database-url …` and return its stdout; fail with its stderr."""
    command = [sys.executable, "-m", "hubtrail", *args, "--database-url", database.url]
    done = subprocess.run(
        command, capture_output=True, text=True, env=server_env(database), timeout=120
    )
    if done.returncode != 0:
        raise AssertionError(f"hubtrail {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def start_server(database: Database, port: int, **extra_env: str) -> subprocess.Popen[bytes]:
    """`hubtrail serve` on 127.0.0.1:`port`, returned once `/healthz` answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubtrail",
            "serve",
            "--database-url",
            database.url,
            "--port",
            str(port),
        ],
        env=server_env(database, **extra_env),
    )
    wait_ready(process, f"http://127.0.0.1:{port}")
    return process


def wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a starting process, not waiting for time to pass
    raise RuntimeError("server did not become ready")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if it does not end within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
