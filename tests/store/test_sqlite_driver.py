"""The SQLite driver: one trip to aiosqlite's thread per statement, and DBAPI behaviour kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from hubtrail.config import Settings
from hubtrail.store.db import Database
from hubtrail.store.sqlite_driver import OneTripConnection


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(Settings(database_url=f"sqlite:///{tmp_path / 'driver.db'}"))
    yield database
    await database.close()


async def test_each_statement_is_one_trip_to_the_thread(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    original = OneTripConnection._execute

    async def counted(self: OneTripConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "call"))
        return await original(self, fn, *args, **kwargs)

    async def work(conn: Any) -> list[Any]:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        monkeypatch.setattr(OneTripConnection, "_execute", counted)
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}])
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('c')"))
        assert inserted.lastrowid == 3
        rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        return list(rows)

    rows = await db.write(work)
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b"), (3, "c")]
    assert trips.count("on_thread") == 3, trips  # executemany, insert, select: one trip each


async def test_rows_are_fetched_in_parts_and_errors_keep_their_dbapi_class(db: Database) -> None:
    async def setup(conn: Any) -> None:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        names = [{"n": str(i)} for i in range(5)]
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), names)

    await db.write(setup)

    async def read(conn: Any) -> tuple[Any, list[Any], list[Any]]:
        result = await conn.execute(text("SELECT name FROM t ORDER BY id"))
        return result.fetchone(), result.fetchmany(2), result.fetchall()

    first, some, rest = await db.read(read)
    assert (first[0], [r[0] for r in some], [r[0] for r in rest]) == ("0", ["1", "2"], ["3", "4"])

    async def duplicate(conn: Any) -> None:
        await conn.execute(text("INSERT INTO t (name) VALUES ('0')"))

    with pytest.raises(IntegrityError):
        await db.write(duplicate)

    async def bad_sql(conn: Any) -> None:
        await conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError):
        await db.read(bad_sql)

    async def count(conn: Any) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())

    assert await db.read(count) == 5, "the failed write was rolled back, the rest kept"
