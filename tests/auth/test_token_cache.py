"""The cache of resolved tokens: a revocation or a changed expiry committed anywhere (the
CLI, plain SQL) stops the token at once in a running service, expiry is checked on every
hit, and nothing is cached while change notices are not being received."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.token_cache import TokenCache, TokenGrant
from app.auth.tokens import create_token, revoke_token
from app.db import create_sessionmaker
from tests.conftest import app_on, bearer, serving


def _grant(expires_at: datetime | None = None) -> TokenGrant:
    return TokenGrant(Caller(uuid.uuid4(), "t", Role.analyst), expires_at)


def test_nothing_is_cached_while_notices_are_not_received() -> None:
    cache = TokenCache()
    cache.put("h", _grant(), cache.generation)
    assert cache.get("h") is None
    cache.set_listening(True)
    cache.put("h", _grant(), cache.generation)
    assert cache.get("h") is not None
    cache.set_listening(False)  # the listening connection dropped: everything goes
    assert len(cache) == 0 and cache.get("h") is None


def test_a_lookup_that_raced_a_change_is_not_kept() -> None:
    cache = TokenCache()
    cache.set_listening(True)
    before = cache.generation
    cache.changed("UPDATE")  # a revocation committed while the lookup ran
    cache.put("h", _grant(), before)
    assert cache.get("h") is None


def test_an_expired_grant_is_not_served() -> None:
    cache = TokenCache()
    cache.set_listening(True)
    cache.put("gone", _grant(datetime.now(UTC) - timedelta(seconds=1)), cache.generation)
    cache.put("live", _grant(datetime.now(UTC) + timedelta(hours=1)), cache.generation)
    assert cache.get("gone") is None and cache.get("live") is not None


def test_the_settings_can_turn_it_off() -> None:
    cache = TokenCache(enabled_by_settings=False)
    cache.set_listening(True)
    cache.put("h", _grant(), cache.generation)
    assert cache.get("h") is None


async def _until_status(http: httpx.AsyncClient, headers: dict[str, str], status: int) -> None:
    for _ in range(200):
        if (await http.get("/api/v1/borders", headers=headers)).status_code == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the token never answered {status}")


async def test_committed_changes_stop_a_cached_token(scratch_url: str, tmp_path: Path) -> None:
    engine = create_async_engine(scratch_url)
    try:
        async with create_sessionmaker(engine)() as session:
            revoked = await create_token(session, name=f"cache {uuid.uuid4()}", role=Role.analyst)
            expiring = await create_token(session, name=f"cache {uuid.uuid4()}", role=Role.analyst)
        app = app_on(scratch_url, tmp_path)
        cache: TokenCache = app.state.token_cache
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
            await _until_status(http, bearer(revoked.plaintext), 200)
            for _ in range(100):
                if cache.listening:
                    break
                await asyncio.sleep(0.05)
            assert cache.listening
            for issued in (revoked, expiring):
                assert (
                    await http.get("/api/v1/borders", headers=bearer(issued.plaintext))
                ).is_success
            hits = cache.hits
            for issued in (revoked, expiring):
                assert (
                    await http.get("/api/v1/borders", headers=bearer(issued.plaintext))
                ).is_success
            assert cache.hits == hits + 2  # both answered from memory

            async with create_sessionmaker(engine)() as session:
                await revoke_token(session, token_id_or_prefix=str(revoked.token.id))
            await _until_status(http, bearer(revoked.plaintext), 401)

            # Plain SQL from outside the service, moving the expiry into the past.
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE api_tokens SET expires_at = now() - interval '1 minute' "
                         "WHERE id = :id"),
                    {"id": expiring.token.id},
                )  # fmt: skip
            await _until_status(http, bearer(expiring.plaintext), 401)
    finally:
        await engine.dispose()
