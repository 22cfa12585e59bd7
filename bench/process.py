"""The processor's pace: inbox messages applied per second, by kind, on SQLite.

Fills the inbox of a fresh SQLite file through the app (`POST /v1/batch`, in-process) with N
Segment identifies (a new contact each, with a userId and two traits) and then N tracks of the
same users, and times `processor.drain()` for each kind, with the server's default settings.

The baseline is the same run on SQLAlchemy's stock aiosqlite driver, which takes four trips to
aiosqlite's thread per statement where hubtrail's driver (`store/sqlite_driver.py`) takes one:
`x stock` is how many times faster hubtrail's processor is than it would be on the stock driver.

    .venv/bin/python -m bench.process [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import aiosqlite
import httpx

from hubtrail.app import create_app
from hubtrail.config import Settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.store import portals
from hubtrail.store.sqlite_driver import one_trip_creator

AIM = "x stock well above 1 (the processor is bound by trips to the SQLite thread)"


def stock_creator(connector: Callable[[], sqlite3.Connection]) -> Callable[[], Any]:
    """SQLAlchemy's own aiosqlite connection, for the baseline."""

    async def create() -> aiosqlite.Connection:
        connection = aiosqlite.Connection(connector, iter_chunk_size=64)
        connection._thread.daemon = True
        return await connection

    return create


def segment_batches(kind: str, count: int) -> list[list[dict[str, Any]]]:
    def message(i: int) -> dict[str, Any]:
        if kind == "identify":
            traits = {"email": f"person{i}@example.com", "firstName": f"Person {i}", "plan": "pro"}
            return {"type": "identify", "messageId": f"id-{i}", "userId": f"u{i}", "traits": traits}
        properties = {"order_id": f"o-{i}", "revenue": 12.5}
        return {
            "type": "track",
            "messageId": f"t-{i}",
            "userId": f"u{i}",
            "event": "Order Completed",
            "properties": properties,
        }

    messages = [message(i) for i in range(count)]
    return [messages[start : start + 100] for start in range(0, count, 100)]


async def rates(count: int, creator: Callable[..., Any]) -> dict[str, float]:
    """Messages applied per second for each kind, with `creator` as the SQLite driver."""
    folder = Path(tempfile.mkdtemp(prefix="hubtrail-bench-process-"))
    settings = Settings(database_url=f"sqlite:///{folder / 'hubtrail.db'}")
    with mock.patch("hubtrail.store.db.one_trip_creator", creator):
        app = create_app(settings, run_processor=False)
        async with app.lifespan():

            async def make_portal(conn: Any) -> str:
                portal = await portals.create_portal(conn, "Bench", int(time.time() * 1000))
                return await portals.issue_credential(
                    conn, portal.hub_id, CredentialKind.WRITE_KEY, int(time.time() * 1000)
                )

            write_key = await app.runtime.db.write(make_portal)
            auth = base64.b64encode(f"{write_key}:".encode()).decode()
            transport = httpx.ASGITransport(app=app)
            found: dict[str, float] = {}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for kind in ("identify", "track"):
                    for batch in segment_batches(kind, count):
                        response = await client.post(
                            "/v1/batch",
                            json={"batch": batch},
                            headers={"Authorization": f"Basic {auth}"},
                        )
                        response.raise_for_status()
                    started = time.perf_counter()
                    applied = await app.runtime.processor.drain()
                    found[kind] = applied / (time.perf_counter() - started)
            return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="of each kind")
    args = parser.parse_args()
    ours = await rates(args.messages, one_trip_creator)
    stock = await rates(args.messages, stock_creator)
    print(f"processor pace on SQLite, {args.messages} messages of each kind; aim: {AIM}")
    print(f"{'kind':<10}{'hubtrail msg/s':>16}{'stock msg/s':>14}{'x stock':>10}")
    for kind in ours:
        ratio = ours[kind] / stock[kind]
        print(f"{kind:<10}{ours[kind]:>16.0f}{stock[kind]:>14.0f}{ratio:>10.2f}")


if __name__ == "__main__":
    asyncio.run(main())
