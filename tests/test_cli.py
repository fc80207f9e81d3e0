"""The CLI writes to the same database the service reads."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Tokens, bearer


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "BORDERMARK_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_token_created_by_the_cli_works_and_revokes(
    client, database: tuple[str, Tokens]
) -> None:
    url = database[0]
    created = _cli(
        url,
        "token",
        "create",
        "--role",
        "reporter",
        "--district",
        "van-lang",
        "--name",
        "Đồn Biên phòng Tân Thanh",
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("bm_")
    r = await client.get("/api/v1/borders", headers=bearer(token))
    assert r.status_code == 200
    listed = _cli(url, "token", "list")
    assert "Đồn Biên phòng Tân Thanh" in listed.stdout and token not in listed.stdout
    revoked = _cli(url, "token", "revoke", token[:10])
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/api/v1/borders", headers=bearer(token))).status_code == 401


def test_cli_refuses_bad_scope_without_a_traceback(database: tuple[str, Tokens]) -> None:
    result = _cli(database[0], "token", "create", "--role", "officer", "--name", "x")
    assert result.returncode != 0
    assert "needs --province" in result.stderr and "Traceback" not in result.stderr


async def test_tallies_rebuild_recounts_what_a_bypassed_trigger_missed(scratch_url: str) -> None:
    engine = create_async_engine(scratch_url)
    kept = "SELECT * FROM incident_tallies ORDER BY 1, 2, 3, 4, 5, 6, 7"
    try:
        assert _cli(scratch_url, "tallies", "compact").returncode == 0
        async with engine.begin() as conn:
            before = (await conn.execute(text(kept))).all()
            assert before
            await conn.execute(text("DELETE FROM incident_tallies WHERE grain = 'month'"))
        rebuilt = _cli(scratch_url, "tallies", "rebuild")
        assert rebuilt.returncode == 0, rebuilt.stderr
        async with engine.connect() as conn:
            assert (await conn.execute(text(kept))).all() == before
    finally:
        await engine.dispose()
