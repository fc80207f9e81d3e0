"""app/db.py: the pool replaces a connection the server closed without asking the server
about every connection it hands out; the asyncpg reads bind `:name` parameters as
SQLAlchemy's text() does, in the session's own transaction."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Environment, Settings
from app.db import create_engine, fetch_row, fetch_value, positional_sql


async def test_a_connection_the_server_closed_is_replaced(scratch_url: str) -> None:
    settings = Settings(env=Environment.test, DATABASE_URL=scratch_url, db_pool_size=1)
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        outside = await asyncpg.connect(settings.libpq_url())
        try:
            await outside.execute("SELECT pg_terminate_backend($1)", first)
        finally:
            await outside.close()
        await asyncio.sleep(0.3)  # the server's goodbye reaches the idle connection
        async with engine.connect() as conn:
            again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != first
    finally:
        await engine.dispose()


def test_named_parameters_become_positional_as_text_reads_them() -> None:
    sql, names = positional_sql(
        "SELECT CAST(:b AS date), '08:30', x::int, :a, ST_X(:c) WHERE y = :b AND z = :a"
    )
    assert sql == "SELECT CAST($1 AS date), '08:30', x::int, $2, ST_X($3) WHERE y = $1 AND z = $2"
    assert names == ("b", "a", "c")
    # A name followed by a cast is not a parameter for text() either.
    assert positional_sql("SELECT :a::text") == ("SELECT :a::text", ())


async def test_asyncpg_reads_see_the_sessions_own_transaction(db: AsyncSession) -> None:
    await db.execute(
        text("UPDATE markers SET notes = :n WHERE code = :c"),
        {"n": "đọc trong giao dịch", "c": "1089"},
    )
    row = await fetch_row(
        db, "SELECT code, notes FROM markers WHERE code = :c AND notes = :n LIMIT 1",
        {"c": "1089", "n": "đọc trong giao dịch"},
    )  # fmt: skip
    assert row is not None and row["notes"] == "đọc trong giao dịch"
    assert await fetch_value(db, "SELECT count(*) FROM markers WHERE code = :c", {"c": "nope"}) == 0


async def test_the_read_helper_refuses_writes(db: AsyncSession) -> None:
    """fetch_rows runs on the raw connection, outside any transaction not yet begun: a
    write there would commit on its own, so it refuses one."""
    import pytest

    from app.db import NotARead, fetch_rows

    for write in (
        "UPDATE markers SET notes = 'x' WHERE false",
        "  INSERT INTO audit_log (action) SELECT 'x' WHERE false",
        "WITH gone AS (DELETE FROM markers WHERE false RETURNING id) SELECT count(*) FROM gone",
        "CALL something()",
    ):
        with pytest.raises(NotARead):
            await fetch_rows(db, write)
    assert await fetch_rows(db, "WITH x AS (SELECT 1 AS updated_at) SELECT updated_at FROM x")
    assert await fetch_rows(db, "-- a comment first\nSELECT 1")
