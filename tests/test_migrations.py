"""Migrations on an empty database: upgrade, no autogenerate diff, downgrade, upgrade."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.all_models import Base
from app.bootstrap import alembic_config
from app.config import to_asyncpg_url
from app.embedded_pg import ensure_database
from app.migration_support import include_object

OUR_TABLES = {t.name for t in Base.metadata.sorted_tables}


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        names = {r[0] for r in rows}
    await engine.dispose()
    return names


async def _diff(url: str) -> list[object]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_object": include_object}),
                Base.metadata,
            )
        )
    await engine.dispose()
    return list(diff)


async def test_upgrade_matches_models_then_downgrade_and_upgrade_again(pg_server) -> None:
    url = to_asyncpg_url(pg_server.database("bordermark_migrations"))
    await ensure_database(url, "bordermark_migrations")
    config = alembic_config(url)

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _tables(url) >= OUR_TABLES
    assert await _diff(url) == []

    await asyncio.to_thread(command.downgrade, config, "base")
    assert not (OUR_TABLES & await _tables(url))

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _tables(url) >= OUR_TABLES
    assert await _diff(url) == []
