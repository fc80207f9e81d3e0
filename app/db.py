"""Declarative base with a naming convention, the async engine, and the per-request session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.config import Settings

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings, *, bulk: bool = False) -> AsyncEngine:
    """The request engine, or (bulk=True) the separate, smaller pool for exports and
    summaries: a heavy export waits for a bulk connection, never for one that incident
    submission needs, and runs under its own, longer statement timeout."""
    size = settings.db_bulk_pool_size if bulk else settings.db_pool_size
    timeout_ms = settings.db_bulk_statement_timeout_ms if bulk else settings.db_statement_timeout_ms
    return create_async_engine(
        settings.sqlalchemy_url(),
        pool_size=size,
        max_overflow=0 if bulk else size,
        pool_pre_ping=True,  # a connection that died with the database is replaced, not used
        pool_timeout=settings.db_pool_timeout_s,
        connect_args={
            "timeout": settings.db_connect_timeout_s,  # an unreachable database fails fast
            "server_settings": {
                "application_name": "bordermark-bulk" if bulk else "bordermark",
                "statement_timeout": str(timeout_ms),
                # PostGIS functions carry high cost estimates, which tip PostgreSQL into
                # JIT-compiling short queries: seconds of compilation for milliseconds of work.
                "jit": "off",
            },
        },
    )


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
