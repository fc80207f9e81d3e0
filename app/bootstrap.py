"""What `make run` does before serving: PostGIS present, database up, migrated, seeded,
demo tokens issued. Every step is idempotent, so `make run` can be repeated."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.auth.tokens import create_token, resolve_token
from app.config import Environment, Settings
from app.db import create_engine, create_sessionmaker
from app.embedded_pg import embedded_cluster, ensure_database, ensure_postgis_installed

# Inside the package, so that an installed wheel (the container) can migrate.
PACKAGE_DIR = Path(__file__).resolve().parent

# One demo token per role, scoped to real demo units (Lạng Sơn; Văn Lãng district).
DEMO_TOKENS: dict[str, dict[str, str | None]] = {
    "admin": {"province": None, "district": None},
    "officer": {"province": "lang-son", "district": None},
    "reporter": {"province": None, "district": "van-lang"},
    "analyst": {"province": None, "district": None},
}


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def start_database(settings: Settings) -> None:
    """Start the embedded cluster when DATABASE_URL is unset (no-op otherwise)."""
    if not settings.uses_embedded_cluster:
        return
    ensure_postgis_installed()
    embedded_cluster(settings.data_dir, settings.embedded_pg_port).start()


async def prepare_database(settings: Settings) -> None:
    start_database(settings)
    if settings.uses_embedded_cluster:
        await ensure_database(settings.sqlalchemy_url(), "bordermark")
    # Alembic's env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(command.upgrade, alembic_config(settings.sqlalchemy_url()), "head")


async def seed_if_empty(session: AsyncSession) -> dict[str, int] | None:
    from seed.loader import database_is_empty, load_demo

    if await database_is_empty(session):
        return await load_demo(session)
    return None


async def demo_tokens(session: AsyncSession, settings: Settings) -> dict[str, str]:
    """Reuse the demo tokens kept in the data directory while they still work."""
    path = settings.data_dir / "demo-tokens.json"
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    tokens: dict[str, str] = {}
    for role, scope in DEMO_TOKENS.items():
        plaintext = kept.get(role)
        if plaintext and await resolve_token(session, plaintext, remote_addr=None):
            tokens[role] = plaintext
            continue
        issued = await create_token(
            session,
            name=f"demo {role}",
            role=Role(role),
            province_code=scope["province"],
            district_code=scope["district"],
        )
        tokens[role] = issued.plaintext
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=2))
    os.chmod(path, 0o600)
    return tokens


async def bootstrap(settings: Settings) -> dict[str, str]:
    await prepare_database(settings)
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            loaded = await seed_if_empty(session)
            if loaded:
                print("demo dataset loaded:", ", ".join(f"{v} {k}" for k, v in loaded.items()))
                # Fresh tables have no statistics until autovacuum comes by: without them
                # the planner scans markers and units by border and sorts (3x slower context).
                await session.execute(text("ANALYZE"))
                await session.commit()
            if settings.env is Environment.production:
                return {}
            return await demo_tokens(session, settings)
    finally:
        await engine.dispose()
