"""Declarative base with a naming convention, the async engine, and the per-request session."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import MetaData, TextClause, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.config import Settings
from app.errors import InvalidInput

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


T = TypeVar("T")


async def session_memo(
    session: AsyncSession, key: tuple[Any, ...], compute: Callable[[], Awaitable[T]]
) -> T:
    """`compute()` once per session, that is once per request: for reference rows (a
    border's id or length) that a batch of 500 incidents would otherwise look up 500 times.
    Only for what no request changes; a failure (an exception) is not remembered."""
    memo: dict[tuple[Any, ...], Any] = session.info.setdefault("memo", {})
    if key not in memo:
        memo[key] = await compute()
    return memo[key]  # type: ignore[no-any-return]


def plain_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row's values as JSON takes them: UUIDs as text, dates and times in ISO 8601,
    numerics (PostgreSQL's `numeric`, read as Decimal) as floats; the rest as they are."""
    plain: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, date):  # datetime too
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = float(value)
        plain[key] = value
    return plain


@functools.lru_cache(maxsize=256)
def cached_text(statement: str) -> TextClause:
    """text(statement), built once: text() scans the whole statement for its parameters on
    every call, a millisecond for the long CTE statements of the submission path. A
    TextClause is immutable, so one serves every session."""
    return text(statement)


# SQLAlchemy's own rule for the `:name` parameters of text(): not after a colon, a word
# character or a backslash (so `::date` casts and `'08:30'` stay as they are).
_NAMED_PARAMETER = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


@functools.lru_cache(maxsize=1024)
def positional_sql(sql: str) -> tuple[str, tuple[str, ...]]:
    """`... :a ... :b ... :a` -> (`... $1 ... $2 ... $1`, ("a", "b"))."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${names.setdefault(match.group(1), len(names) + 1)}"

    return _NAMED_PARAMETER.sub(number, sql).replace("\\:", ":"), tuple(names)


# A statement fetch_rows runs must read: a SELECT, VALUES or TABLE, or a WITH whose
# queries do not write. Checked on the text (once per distinct statement): a read-only
# transaction would cost a round trip on every hot read.
_READ_START = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(SELECT|WITH|VALUES|TABLE)\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)


class NotARead(ValueError):
    """A write sent through the read helpers (fetch_rows): use the session instead."""


@functools.lru_cache(maxsize=1024)
def require_read(sql: str) -> None:
    start = _READ_START.match(sql)
    if start is None or (start.group(1).upper() == "WITH" and _WRITE_WORD.search(sql)):
        raise NotARead(f"fetch_rows runs reads only, not: {sql.strip()[:60]!r}")


async def require_row(
    session: AsyncSession,
    table: str,
    key: object | None,
    *,
    field: str,
    what: str | None = None,
) -> None:
    """422 on `field` unless `table` (a name from the code, never input) has a row with
    this id: `no document <id>`, `what` defaulting to the field without its `_id`."""
    if key is None:
        return
    found = await session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": key})  # noqa: S608
    if found.first() is None:
        raise InvalidInput(f"no {what or field.removesuffix('_id')} {key}", field=field)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's own asyncpg connection (in its transaction, if one was begun)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def fetch_rows(
    session: AsyncSession, sql: str, params: Mapping[str, Any] | None = None
) -> list[asyncpg.Record]:
    """The rows of a read, through asyncpg itself.

    For the hot paths (OGC items, tiles, token lookups, a submission's checks):
    SQLAlchemy's statement machinery costs more CPU per statement than PostgreSQL takes
    for a short indexed read. The same SQL with `:name` parameters,
    the same values as text() would bind, on the session's own connection: in its
    transaction once a write began it (tests roll it back). Reads only: before the
    session's first SQLAlchemy statement, no transaction is open yet, so a write sent this
    way would commit on its own, so a statement that writes is refused (require_read)."""
    require_read(sql)
    positional, names = positional_sql(sql)
    given = params or {}
    conn = await driver_connection(session)
    return list(await conn.fetch(positional, *(given[name] for name in names)))


async def fetch_row(
    session: AsyncSession, sql: str, params: Mapping[str, Any] | None = None
) -> asyncpg.Record | None:
    """The first row of a read (fetch_rows)."""
    rows = await fetch_rows(session, sql, params)
    return rows[0] if rows else None


async def fetch_value(
    session: AsyncSession, sql: str, params: Mapping[str, Any] | None = None
) -> Any:
    row = await fetch_row(session, sql, params)
    return None if row is None else row[0]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings, *, bulk: bool = False) -> AsyncEngine:
    """The request engine, or (bulk=True) the separate, smaller pool for exports and
    summaries: a heavy export waits for a bulk connection, never for one that incident
    submission needs, and runs under its own, longer statement timeout."""
    size = settings.db_bulk_pool_size if bulk else settings.db_pool_size
    timeout_ms = settings.db_bulk_statement_timeout_ms if bulk else settings.db_statement_timeout_ms
    session_settings = {
        "statement_timeout": str(timeout_ms),
        # PostGIS functions carry high cost estimates, which tip PostgreSQL into
        # JIT-compiling short queries: seconds of compilation for milliseconds of work.
        "jit": "off",
        **({"work_mem": settings.db_bulk_work_mem} if bulk else {}),
    }
    pooled = settings.db_pool_mode == "transaction"
    engine = create_async_engine(
        settings.sqlalchemy_url(),
        pool_size=size,
        max_overflow=0 if bulk else size,
        pool_timeout=settings.db_pool_timeout_s,
        connect_args={
            "timeout": settings.db_connect_timeout_s,  # an unreachable database fails fast
            # A transaction pooler hands each transaction whichever server connection is
            # free: a statement prepared by name in one is unknown in the next. Unnamed
            # statements live within the transaction that prepares them.
            **({"statement_cache_size": 0, "prepared_statement_cache_size": 0} if pooled else {}),
            "server_settings": {
                "application_name": "bordermark-bulk" if bulk else "bordermark",
                # JSON carries timestamps in the session's time zone: UTC, as the stored
                # incident features are written (migration 6b383289a16b), whatever the
                # server's default. PgBouncer keeps it per client.
                "timezone": "UTC",
                # PgBouncer refuses other startup settings: each transaction sets them.
                **({} if pooled else session_settings),
            },
        },
    )
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    if pooled:
        event.listen(engine.sync_engine, "begin", _transaction_settings(session_settings))
    return engine


def _transaction_settings(values: dict[str, str]) -> Callable[[Any], None]:
    """Through a transaction pooler, the session's settings are set in each transaction
    (set_config(..., true) is SET LOCAL): one SELECT, which also begins the transaction
    before any statement of it, so that the raw asyncpg reads (fetch_rows) run in it."""
    # Names and values are the settings' own (config.py), never a request's.
    setting = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in values.items())
    statement = f"SELECT {setting}"

    def set_local(connection: Any) -> None:
        connection.exec_driver_sql(statement)

    return set_local


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A connection the server closed (a restart, an idle timeout) is replaced, not used.
    SQLAlchemy's pre-ping would ask the server instead: three round trips per checkout with
    asyncpg (BEGIN, a ping, ROLLBACK), most of a short read's cost. asyncpg marks a
    connection closed as soon as the server's goodbye arrives, which a restart sends; a
    connection that dies silently fails its statement with a 503 and is discarded then."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


class PoolerInDirectMode(RuntimeError):
    """DATABASE_URL leads to a transaction pooler, but the settings say direct."""


async def refuse_a_pooler_in_direct_mode(engine: AsyncEngine, settings: Settings) -> None:
    """PgBouncer refuses the session settings a direct connection sends at connect
    ("unsupported startup parameter"): refuse to start, naming the settings to set, rather
    than fail every request. Any other failure is left alone: the database may come later
    (/readyz says so meanwhile)."""
    if settings.db_pool_mode != "direct":
        return
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # only the pooler's refusal stops the start
        if "unsupported startup parameter" in str(exc):
            raise PoolerInDirectMode(
                "DATABASE_URL leads to a connection pooler in transaction mode (PgBouncer): "
                "set BORDERMARK_DB_POOL_MODE=transaction, and BORDERMARK_LISTEN_DATABASE_URL "
                "to a direct connection to the primary (docs/deploy.md)"
            ) from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request. Services commit explicitly before they acknowledge a write."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_bulk_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session from the bulk pool (exports, summaries)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.bulk_sessionmaker
    async with sessionmaker() as session:
        yield session


BulkSessionDep = Annotated[AsyncSession, Depends(get_bulk_session)]
