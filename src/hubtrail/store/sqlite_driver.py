"""aiosqlite with one trip to its thread per statement, not four.

SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches and closes the cursor as four
calls, each a hand-off to the connection's thread and back to the event loop. On a busy two-core
machine a hand-off costs a few hundred microseconds, far more than the statement itself, so the
processor (some 25 short statements per message) spent most of its time waiting on hand-offs.

`OneTripConnection` keeps aiosqlite's thread and everything else about its connection, and only
changes its cursor: `execute` runs the statement, fetches every row and closes the sqlite3 cursor
in one call on the thread; fetching and closing afterwards are local. SQLite statements still run
off the event loop, so a busy wait on another process's lock never blocks it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

Connector = Callable[[], sqlite3.Connection]


@dataclass
class _Result:
    rows: list[Any] = field(default_factory=list)
    description: Any = None
    rowcount: int = -1
    lastrowid: int | None = None


def _run(
    connection: sqlite3.Connection, sql: str, parameters: Any, *, many: bool = False
) -> _Result:
    """On the connection's thread: execute, fetch everything, close the cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Result(rows, cursor.description, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


class OneTripCursor:
    """The subset of aiosqlite's cursor SQLAlchemy uses, with results held here."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._result = _Result()

    @property
    def description(self) -> Any:
        return self._result.description

    @property
    def rowcount(self) -> int:
        return self._result.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._result.lastrowid

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        self._result = await self._connection.run_statement(sql, parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
        self._result = await self._connection.run_statement(sql, parameters, many=True)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._result.rows = self._result.rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = size or self.arraysize
        rows, self._result.rows = self._result.rows[:count], self._result.rows[count:]
        return rows

    async def fetchone(self) -> Any:
        return self._result.rows.pop(0) if self._result.rows else None

    async def close(self) -> None:
        # SQLAlchemy closes a cursor before it reads `lastrowid` and `rowcount`: keep those.
        self._result.rows = []

    # `cursor()` hands this out at once; SQLAlchemy enters it (`__aenter__`), which costs no trip
    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, OneTripCursor]:
        return self.__aenter__().__await__()


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors cost one trip to the thread per statement."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def run_statement(self, sql: str, parameters: Any, *, many: bool) -> _Result:
        def on_thread() -> _Result:
            return _run(self._conn, sql, parameters, many=many)

        on_the_thread = cast(Callable[[Callable[[], _Result]], Awaitable[_Result]], self._execute)
        return await on_the_thread(on_thread)


def connector_for(url: URL) -> Connector:
    """Opens the sqlite3 connection SQLAlchemy's aiosqlite dialect would open for `url`."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(url)
    database = str(args[0])

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(database, **options)

    return connect


def one_trip_creator(connector: Connector) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """An `async_creator` for `create_async_engine` that opens `OneTripConnection`s."""

    async def create() -> aiosqlite.Connection:
        connection = OneTripConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        return await connection

    return create
