"""Real PostGIS for every test.

One throwaway cluster per test session (or TEST_DATABASE_URL), migrated with Alembic (not
create_all) and loaded with the demo dataset. Each test runs inside a connection-level
transaction that is rolled back at the end; service commits become savepoint releases.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.auth.models import Role
from app.auth.tokens import create_token
from app.bootstrap import alembic_config
from app.config import Environment, Settings, to_asyncpg_url
from app.db import create_engine, create_sessionmaker, get_bulk_session, get_session
from app.embedded_pg import EmbeddedCluster, ensure_database, ensure_postgis_installed
from app.main import create_app
from seed.loader import load_demo

# The suite sends thousands of requests with a handful of tokens (and many deliberate
# 401s) from one address: rate limits are off here and tested on their own
# (tests/operations/test_operations.py::test_rate_limits_per_token_and_on_failed_authentication).
os.environ.setdefault("BORDERMARK_RATE_LIMIT_PER_S", "0")
os.environ.setdefault("BORDERMARK_AUTH_FAILURES_PER_MINUTE", "0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class TestServer:
    url: str  # postgresql://... of the server (database name replaced per use)

    def database(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TestServer]:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield TestServer(given.replace("postgresql+asyncpg://", "postgresql://"))
        return
    bin_dir = ensure_postgis_installed()
    root = Path(tempfile.mkdtemp(prefix="bordermark-test-"))
    root.chmod(0o755)  # the postgres user must reach the cluster below it
    cluster = EmbeddedCluster(root=root / "pg", port=_free_port(), bin_dir=bin_dir)
    cluster.start()
    try:
        yield TestServer(cluster.url("postgres"))
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Tokens:
    admin: str
    officer: str  # Lạng Sơn
    officer_other: str  # Cao Bằng
    reporter: str  # Văn Lãng district, Lạng Sơn
    analyst: str

    def of(self, name: str) -> str:
        return str(getattr(self, name))


@pytest.fixture(scope="session")
async def database(pg_server: TestServer) -> AsyncIterator[tuple[str, Tokens]]:
    """The test database: migrated, seeded, with one committed token per role."""
    url = to_asyncpg_url(pg_server.database("bordermark_test"))
    await ensure_database(url, "bordermark_test")
    import asyncio

    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_async_engine(url)
    async with create_sessionmaker(engine)() as session:
        await load_demo(session)
        issued = {}
        for name, role, province, district in [
            ("admin", Role.admin, None, None),
            ("officer", Role.officer, "lang-son", None),
            ("officer_other", Role.officer, "cao-bang", None),
            ("reporter", Role.reporter, None, "van-lang"),
            ("analyst", Role.analyst, None, None),
        ]:
            token = await create_token(
                session,
                name=f"test {name}",
                role=role,
                province_code=province,
                district_code=district,
            )
            issued[name] = token.plaintext
    await engine.dispose()
    # A copy for tests that must commit for real (concurrency): they never touch the
    # rolled-back test database.
    admin = create_async_engine(
        to_asyncpg_url(pg_server.database("postgres")), isolation_level="AUTOCOMMIT"
    )
    async with admin.connect() as conn:
        await conn.execute(text("DROP DATABASE IF EXISTS bordermark_scratch"))
        await conn.execute(text("CREATE DATABASE bordermark_scratch TEMPLATE bordermark_test"))
    await admin.dispose()
    yield url, Tokens(**issued)


@pytest.fixture(scope="session")
def scratch_url(pg_server: TestServer, database: tuple[str, Tokens]) -> str:
    return to_asyncpg_url(pg_server.database("bordermark_scratch"))


@pytest.fixture(scope="session")
async def engine(database: tuple[str, Tokens]) -> AsyncIterator[AsyncEngine]:
    # The service's own engine settings (statement timeout, JIT off).
    eng = create_engine(Settings(env=Environment.test, DATABASE_URL=database[0], db_pool_size=5))
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def tokens(database: tuple[str, Tokens]) -> Tokens:
    return database[1]


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            await outer.rollback()


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    session = AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        await session.close()


@pytest.fixture
def settings(database: tuple[str, Tokens], tmp_path: Path) -> Settings:
    # batch_parts=1: the apps on these settings share the test's one connection, which
    # cannot hold a batch's parts' transactions at once. tests/incidents/test_batch_parts.py
    # stores batches in parts on a database of its own.
    return Settings(
        env=Environment.test, DATABASE_URL=database[0], data_dir=tmp_path, batch_parts=1
    )


@contextlib.asynccontextmanager
async def app_client(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection, db: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app built from `settings`, inside the test's rolled-back transaction."""
    app = create_app(settings)
    app.state.engine = engine
    # Sessions the app opens itself (streamed exports) join the test's transaction too.
    app.state.sessionmaker = async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.bulk_sessionmaker = app.state.sessionmaker

    async def test_session() -> AsyncIterator[AsyncSession]:
        yield db

    app.dependency_overrides[get_session] = test_session
    app.dependency_overrides[get_bulk_session] = test_session
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def client(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection, db: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, engine, connection, db) as c:
        yield c


ClientWith = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_with(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection, db: AsyncSession
) -> ClientWith:
    """`async with client_with(max_body_bytes=4096) as c:` a client on an app whose settings
    differ from the test's by those, in the test's rolled-back transaction (as `client`)."""

    def build(**changes: Any) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        return app_client(settings.model_copy(update=changes), engine, connection, db)

    return build


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def app_on(database_url: str, data_dir: Path, **settings: Any) -> Any:
    """An app of its own (its own pools, workers and caches, no webhook deliveries) on
    `database_url`, for tests that serve it (serving) or need real transactions: the
    fixtures' app shares the test's one rolled-back connection. `settings` override."""
    return create_app(
        Settings(
            **{
                "env": Environment.test,
                "DATABASE_URL": database_url,
                "data_dir": data_dir,
                "webhook_worker": False,
                **settings,
            }
        )
    )


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Run an app under a real uvicorn on a free loopback port (with its lifespan)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30  # ends a stuck start-up only
    while not server.started:
        if task.done():
            await task  # raises what stopped it
        if time.monotonic() > deadline:
            server.should_exit = True
            raise AssertionError("the server did not start within 30 s")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live_server(database: tuple[str, Tokens], tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with serving(app_on(database[0], tmp_path)) as base:
        yield f"{base}/ogc"
