"""Segment HTTP API throughput: durable `POST /v1/batch` and `/v1/track` vs a bare ASGI app.

Starts `hubtrail serve` on a fresh SQLite file with the processor off (ingest only, as
`bench/ingest.py` measures it) and one portal, drives `POST /v1/batch` (100 track events a
request, as `segment-analytics-python` sends them) and single `POST /v1/track` with wrk, each
request authenticated with the write key as HTTP Basic user and every event with its own
`messageId` (hubtrail keeps one message per id, as Segment deduplicates). It then checks that
every acknowledged event is in the inbox, drives the bare app (`bench.bare_app`, which answers
any request without reading its body) with the same requests, and prints rates and ratios.
Run `.venv/bin/python -m bench.segment` (or `make bench`); needs wrk.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
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

AIM_EVENTS_PER_S = 50_000


def _track(user: str, message_id: str) -> bytes:
    """One track message as the library sends it, with `{ID}`/`{USER}` left to fill in Lua."""
    return orjson.dumps(
        {
            "integrations": {},
            "anonymousId": None,
            "properties": {"plan": "pro", "revenue": 12.5, "sku": "SKU-0042"},
            "timestamp": "2026-01-20T21:14:16.512+00:00",
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
            "userId": user,
            "type": "track",
            "event": "Order Completed",
            "messageId": message_id,
        }
    )


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def post_script(path: Path, write_key: str, events_per_request: int | None) -> Path:
    """A wrk Lua script posting track events with fresh message ids.

    `events_per_request` None posts one message to `/v1/track`; a number posts a
    `{"batch": [...], "sentAt": ...}` body of that many events to `/v1/batch`.
    """
    parts = _track("{USER}", "{ID}").decode().split('"{ID}"')
    before_id, after_id = parts[0], parts[1]
    before_user, after_user = before_id.split('"{USER}"')
    basic = base64.b64encode(f"{write_key}:".encode()).decode()
    if events_per_request is None:
        head, tail, count = "", "", 1
    else:
        head = '{"batch":['
        tail = '],"sentAt":"2026-01-20T21:14:17.000000+00:00"}'
        count = events_per_request
    path.write_text(
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic {basic}"
local head, tail, count = {_lua_string(head)}, {_lua_string(tail)}, {count}
local before_user, after_user = {_lua_string(before_user)}, {_lua_string(after_user)}
local after_id = {_lua_string(after_id)}
local threads, counter, prefix = 0, 0, ""

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  prefix = "bench-" .. tostring(tid) .. "-"
end

function request()
  counter = counter + 1
  local parts = {{}}
  for i = 1, count do
    parts[i] = before_user .. '"u-' .. i .. '"' .. after_user
      .. '"' .. prefix .. counter .. "-" .. i .. '"' .. after_id
  end
  return wrk.format(nil, nil, nil, head .. table.concat(parts, ",") .. tail)
end
"""
    )
    return path


def bench_bare(
    batch_script: Path, track_script: Path, seconds: int, connections: int
) -> tuple[float, float]:
    """(batch requests/s, track requests/s) of the bare app under the same requests."""
    port = free_port()
    bare = subprocess.Popen(
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
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/", bare)
        batch, _, _ = wrk(f"{base}/v1/batch", seconds, connections, batch_script)
        track, _, _ = wrk(f"{base}/v1/track", seconds, connections, track_script)
    finally:
        bare.send_signal(signal.SIGTERM)
        bare.wait(timeout=60)
    return batch, track


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=100, help="track events per batch")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    size = args.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "segment.db"
        server, base, _ = start_hubtrail(db, in_server=False)
        try:
            write_key = _write_key(db)
            batch_script = post_script(Path(tmp) / "batch.lua", write_key, size)
            track_script = post_script(Path(tmp) / "track.lua", write_key, None)
            _probe(base, write_key, size)
            batch_rate, batch_done, batch_failed = wrk(
                f"{base}/v1/batch", args.seconds, args.connections, batch_script
            )
            track_rate, track_done, track_failed = wrk(
                f"{base}/v1/track", args.seconds, args.connections, track_script
            )
        finally:
            stop(server)
        check_durable(db, (batch_done - batch_failed) * size + track_done - track_failed)
        bare_batch, bare_track = bench_bare(
            batch_script, track_script, args.seconds, args.connections
        )
    events = batch_rate * size
    print(f"connections={args.connections} seconds={args.seconds} (wrk, loopback, SQLite)")
    print(
        f"POST /v1/batch ({size} tracks)  {batch_rate:9.0f} requests/s = {events:9.0f} durable "
        f"events/s   bare {bare_batch:9.0f} requests/s   ratio {batch_rate / bare_batch:.2f}   "
        f"(errors: {batch_failed})"
    )
    print(
        f"POST /v1/track              {track_rate:9.0f} requests/s = {track_rate:9.0f} durable "
        f"events/s   bare {bare_track:9.0f} requests/s   ratio {track_rate / bare_track:.2f}   "
        f"(errors: {track_failed})"
    )
    verdict = "met" if events >= AIM_EVENTS_PER_S else "NOT met"
    print(f"aim: batch ingest >= {AIM_EVENTS_PER_S} durable events/s ({verdict})")


def _write_key(db: Path) -> str:
    """A write key: `start_hubtrail` keeps its portal's to itself, so make a second portal."""
    env = {
        **os.environ,
        "HUBTRAIL_DATABASE_URL": f"sqlite:///{db}",
        "HUBTRAIL_LOG_LEVEL": "WARNING",
    }
    created = subprocess.run(
        [sys.executable, "-m", "hubtrail", "portal", "create", "Segment bench", "--json"],
        env=env,
        capture_output=True,
        check=True,
    )
    return str(orjson.loads(created.stdout)["write_key"])


def _probe(base: str, write_key: str, size: int) -> None:
    """One batch and one track like wrk's, before timing: a refusal stops the run."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    one = orjson.loads(_track("u-1", "probe-track"))
    batch = {"batch": [orjson.loads(_track(f"u-{i}", f"probe-{i}")) for i in range(size)]}
    for path, body in (("/v1/batch", batch), ("/v1/track", one)):
        answer = httpx.post(base + path, json=body, headers=auth, timeout=30)
        if answer.status_code != 200:
            raise SystemExit(
                f"{path} refused the bench's request: {answer.status_code} {answer.text}"
            )


if __name__ == "__main__":
    main()
