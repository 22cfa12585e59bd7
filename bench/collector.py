"""Collector throughput: hubtrail.js hits (beacon POST and GIF) vs a bare ASGI app, durable.

Starts `hubtrail serve` on a fresh SQLite file with the processor off (ingest only, as
`bench/ingest.py` measures it), drives `POST /collect` (the JSON beacon) and `GET /__ptq.gif`
with wrk, checks every accepted hit is in the inbox, then drives the bare app the same way, and
prints rates and ratios. Run `.venv/bin/python -m bench.collector` (or `make bench`); needs wrk.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from bench.ingest import (
    ROOT,
    UVICORN_FLAGS,
    check_durable,
    free_port,
    start_hubtrail,
    stop,
    wait_ready,
    wrk,
)

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def beacon_script(path: Path, hub_id: int) -> Path:
    """A wrk Lua script posting one page-view hit per request (fresh visitor each time)."""
    body = orjson.dumps(
        {
            "a": hub_id,
            "k": "pv",
            "pu": "https://www.shop.test/pricing",
            "t": "Pricing",
            "r": "https://www.google.com/",
            "sd": "1920x1080",
            "ln": "en-us",
        }
    ).decode()
    path.write_text(
        'wrk.method = "POST"\n'
        f'wrk.headers["Content-Type"] = "text/plain"\n'
        f'wrk.headers["User-Agent"] = "{BROWSER_UA}"\n'
        f"wrk.body = [[{body}]]\n"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "collector.db"
        server, base, hub_id = start_hubtrail(db, in_server=False)
        script = beacon_script(Path(tmp) / "beacon.lua", hub_id)
        gif = f"{base}/__ptq.gif?a={hub_id}&pu=https%3A%2F%2Fwww.shop.test%2F&t=Home"
        try:
            beacon_rate, beacon_done, beacon_failed = wrk(
                f"{base}/collect", args.seconds, args.connections, script
            )
            gif_rate, gif_done, gif_failed = wrk(gif, args.seconds, args.connections)
        finally:
            stop(server)
        check_durable(db, beacon_done - beacon_failed + gif_done - gif_failed)
        bare_port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare_app:app",
                "--port",
                str(bare_port),
                *UVICORN_FLAGS,
            ],
            cwd=ROOT,
        )
        try:
            wait_ready(f"http://127.0.0.1:{bare_port}/", bare)
            bare_post, _, _ = wrk(
                f"http://127.0.0.1:{bare_port}/collect", args.seconds, args.connections, script
            )
            bare_get, _, _ = wrk(
                f"http://127.0.0.1:{bare_port}/__ptq.gif", args.seconds, args.connections
            )
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(timeout=60)
    print(f"connections={args.connections} seconds={args.seconds} (wrk, loopback, SQLite)")
    print(
        f"POST /collect (beacon)   {beacon_rate:9.0f} durable hits/s   bare {bare_post:9.0f}/s   "
        f"ratio {beacon_rate / bare_post:.2f}   (errors: {beacon_failed})"
    )
    print(
        f"GET /__ptq.gif           {gif_rate:9.0f} durable hits/s   bare {bare_get:9.0f}/s   "
        f"ratio {gif_rate / bare_get:.2f}   (errors: {gif_failed})"
    )


if __name__ == "__main__":
    main()
