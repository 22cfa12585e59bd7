"""The real server, killed with SIGKILL right after acknowledging hits, loses none of them."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import orjson
import pytest

from tests.conftest import Database
from tests.servers import cli, free_port, start_server

pytestmark = pytest.mark.e2e


class Server:
    def __init__(self, database: Database, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.process = start_server(database, port)

    def stop(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=60)


async def fire(url: str, hub_id: int, count: int, acknowledged: list[str], kill: object) -> None:
    """Send `count` hits over 20 keep-alive connections; SIGKILL the server after the 150th 2xx."""
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(count):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                try:
                    response = await client.get(
                        "/v1/event", params={"_a": hub_id, "_n": f"hit_{i}"}
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    acknowledged.append(f"hit_{i}")
                    if len(acknowledged) == 150:
                        kill()  # type: ignore[operator]

        await asyncio.gather(*(worker() for _ in range(20)))


def test_sigkill_after_acknowledgement_loses_nothing(database: Database) -> None:
    created = orjson.loads(cli(database, "portal", "create", "Crash", "--json"))
    hub_id = created["hub_id"]
    port = free_port()
    server = Server(database, port)
    acknowledged: list[str] = []
    asyncio.run(
        fire(
            server.url,
            hub_id,
            400,
            acknowledged,
            lambda: os.kill(server.process.pid, signal.SIGKILL),
        )
    )
    server.process.wait(timeout=30)
    assert server.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 150

    restarted = Server(database, port)
    restarted.stop(signal.SIGTERM)
    cli(database, "worker", "--once")
    exported = cli(database, "export", "events", "--portal", str(hub_id))
    stored = {orjson.loads(line)["eventName"] for line in exported.splitlines()}
    missing = sorted(set(acknowledged) - stored)
    assert missing == []
