"""The connection to the store: one writer on SQLite, a pool on PostgreSQL.

`Database.write(fn)` runs `fn(conn)` in one transaction. On SQLite every write goes through a single
connection, taken in arrival order (an `asyncio.Lock` is a FIFO queue of writers), so SQLite never
sees two writers from this process. On PostgreSQL writes run concurrently on a pool.
`Database.read(fn)` runs on a separate connection and never waits for the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from hubtrail.config import Settings
from hubtrail.store.sqlite_driver import connector_for, one_trip_creator

T = TypeVar("T")
BACKGROUND_PATIENCE_S = 0.1
log = logging.getLogger("hubtrail.store.db")


def async_url(database_url: str) -> URL:
    """The SQLAlchemy URL with the async driver hubtrail uses for that engine."""
    url = make_url(database_url)
    if url.drivername in ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"):
        return url.set(drivername="sqlite+aiosqlite")
    if url.drivername in ("postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg2"):
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:/// or postgresql://")


class Database:
    """Engines and the write discipline for one database."""

    def __init__(self, settings: Settings) -> None:
        self.url = async_url(settings.database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.schema = settings.database_schema
        self._write_lock = asyncio.Lock()
        self._foreground_waiting = 0
        self._no_foreground = asyncio.Event()
        self._no_foreground.set()
        self._writer: AsyncConnection | None = None
        if self.is_sqlite:
            synchronous = settings.sqlite_synchronous.value
            creator = one_trip_creator(connector_for(self.url))
            self.engine = create_async_engine(
                self.url, pool_size=4, max_overflow=4, async_creator=creator
            )
            self._install_sqlite_pragmas(self.engine, synchronous)
            # The writer: one connection whose transactions start with BEGIN IMMEDIATE, so what
            # a write transaction reads (say, the inbox rows it claims) cannot go stale before
            # it writes, even with another process (`hubtrail worker`) writing the same file.
            self._write_engine = create_async_engine(
                self.url, pool_size=1, max_overflow=0, async_creator=creator
            )
            self._install_sqlite_pragmas(self._write_engine, synchronous, immediate=True)
        else:
            connect_args: dict[str, Any] = {}
            if self.schema:
                connect_args["server_settings"] = {"search_path": self.schema}
            self.engine = create_async_engine(
                self.url,
                pool_size=settings.database_pool_size,
                max_overflow=settings.database_pool_size,
                pool_pre_ping=True,
                connect_args=connect_args,
            )

    @staticmethod
    def _install_sqlite_pragmas(
        engine: AsyncEngine, synchronous: str, *, immediate: bool = False
    ) -> None:
        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            if immediate:
                dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, below

        if immediate:

            @event.listens_for(engine.sync_engine, "begin")
            def _on_begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

    async def write(
        self, fn: Callable[[AsyncConnection], Awaitable[T]], *, background: bool = False
    ) -> T:
        """Run `fn` in one write transaction: committed on return, rolled back if it raises.

        On SQLite a `background` write (the processor) lets waiting foreground writes (requests
        waiting for their inbox commit) go first, for up to `BACKGROUND_PATIENCE_S`, so
        processing never holds acknowledgements back for long and is never starved for good.
        """
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                return await fn(conn)
        if background:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._no_foreground.wait(), BACKGROUND_PATIENCE_S)
            return await self._write_sqlite(fn)
        self._foreground_waiting += 1
        self._no_foreground.clear()
        try:
            return await self._write_sqlite(fn)
        finally:
            self._foreground_waiting -= 1
            if not self._foreground_waiting:
                self._no_foreground.set()

    async def _write_sqlite(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self._write_lock:
            if self._writer is None:
                self._writer = await self._write_engine.connect()
            conn = self._writer
            try:
                async with conn.begin():
                    return await fn(conn)
            except BaseException:
                if conn.invalidated:
                    self._writer = None
                raise

    async def read(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `fn` on a read connection (its own transaction, never the writer's)."""
        async with self.engine.connect() as conn:
            return await fn(conn)

    async def close(self) -> None:
        async with self._write_lock:
            if self._writer is not None:
                await self._writer.close()
                self._writer = None
        if self.is_sqlite:
            await self._write_engine.dispose()
        await self.engine.dispose()
