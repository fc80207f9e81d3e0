"""The CLI writes to the same database the service reads."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import Tokens, bearer


def _plain_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "BORDERMARK_ENV": "test"}
    return _plain_cli(env, *args)


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


def test_a_private_cluster_remembers_its_port() -> None:
    """`make run` with BORDERMARK_EMBEDDED_PG_PORT=54401, then `bordermark cluster status`
    without it, reported (and `token create` would have written to) the default port,
    where another checkout's cluster runs."""
    from tests.conftest import _free_port

    root = Path(tempfile.mkdtemp(prefix="bordermark-port-"))
    root.chmod(0o755)  # the postgres user must reach the cluster below it
    data = root / "data"
    port = str(_free_port())
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "BORDERMARK_EMBEDDED_PG_PORT"}
    }
    env |= {"BORDERMARK_DATA_DIR": str(data), "BORDERMARK_ENV": "development"}
    started = _plain_cli({**env, "BORDERMARK_EMBEDDED_PG_PORT": port}, "cluster", "start")
    assert started.returncode == 0, started.stderr
    try:
        status = _plain_cli(env, "cluster", "status")  # no port named: the cluster's own
        assert status.returncode == 0, status.stderr
        assert status.stdout.startswith("running") and f":{port}/" in status.stdout
        other = _plain_cli({**env, "BORDERMARK_EMBEDDED_PG_PORT": "54329"}, "cluster", "status")
        assert other.returncode != 0
        assert f"was made on port {port}" in other.stderr and "Traceback" not in other.stderr
    finally:
        _plain_cli(env, "cluster", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_make_runs_banner_waits_for_a_free_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The port is checked before anything is set up or announced: a taken port used to
    end `make run` in uvicorn's Errno 98 after the demo tokens were printed."""
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = {**os.environ, "PORT": str(taken), "BORDERMARK_DATA_DIR": str(tmp_path / "d")}
        result = _plain_cli(env, "bootstrap")
    assert result.returncode != 0
    assert f"cannot serve on 127.0.0.1:{taken}" in result.stderr
    assert f"PORT={taken + 1} make run" in result.stderr
    assert "demo tokens" not in result.stdout and not (tmp_path / "d").exists()


async def test_recompute_context_places_incidents_again(scratch_url: str) -> None:
    """After units change outside the API (here: every incident's commune wiped, as a
    database migrated before communes has it), the command places them all again."""
    engine = create_async_engine(scratch_url)
    communes = "SELECT id, commune_code FROM incidents ORDER BY id"
    tallies = "SELECT unit, sum(opened) FROM incident_tallies GROUP BY 1 ORDER BY 1"
    try:
        assert _cli(scratch_url, "tallies", "compact").returncode == 0
        async with engine.begin() as conn:
            before = (await conn.execute(text(communes))).all()
            counted = (await conn.execute(text(tallies))).all()
            assert any(code for _, code in before)  # the demo's Lộc Bình incidents
            await conn.execute(text("UPDATE incidents SET commune_code = NULL"))
        done = _cli(scratch_url, "recompute-context")
        assert done.returncode == 0, done.stderr
        assert f"context recomputed for {len(before)} incidents" in done.stdout
        assert _cli(scratch_url, "tallies", "compact").returncode == 0
        async with engine.connect() as conn:
            assert (await conn.execute(text(communes))).all() == before
            assert (await conn.execute(text(tallies))).all() == counted
    finally:
        await engine.dispose()
