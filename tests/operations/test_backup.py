"""Backup and restore: `bordermark backup verify` dumps the database, restores it into a
fresh cluster and compares every table's rows and checksum; the restored database keeps
the application role's grants (the audit log stays append-only after a restore)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from app.operations import backup


async def test_verify_restores_into_a_fresh_cluster(scratch_url: str, tmp_path: Path) -> None:
    dump_file = tmp_path / "bordermark.dump"
    env = {**os.environ, "DATABASE_URL": scratch_url, "BORDERMARK_ENV": "test"}
    cli = Path(sys.executable).parent / "bordermark"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(cli), "backup", "verify", str(dump_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "every checksum equal" in done.stdout and dump_file.stat().st_size > 100_000

    source = await backup.fingerprint(scratch_url)
    assert source["incidents"].rows > 0 and source["markers"].rows > 2000
    assert source["audit_log"].checksum is not None

    # Restore the same dump into a second database of the source cluster and check the
    # role's privileges came with it.
    server = scratch_url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    admin = await asyncpg.connect(server + "/postgres")
    try:
        await admin.execute("DROP DATABASE IF EXISTS bordermark_restored")
        await admin.execute("CREATE DATABASE bordermark_restored")
    finally:
        await admin.close()
    restored_url = server + "/bordermark_restored"
    await asyncio.to_thread(backup.restore, dump_file, restored_url)
    assert await backup.fingerprint(restored_url) == await backup.fingerprint(scratch_url)
    conn = await asyncpg.connect(restored_url)
    try:
        can = await conn.fetchrow(
            "SELECT has_table_privilege('bordermark_app', 'audit_log', 'INSERT') AS ins, "
            "has_table_privilege('bordermark_app', 'audit_log', 'UPDATE') AS upd, "
            "has_table_privilege('bordermark_app', 'incidents', 'UPDATE') AS inc"
        )
        assert can is not None and (can["ins"], can["upd"], can["inc"]) == (True, False, True)
    finally:
        await conn.close()


# Each table as text, hashed in a fixed order: computed here, not by backup.fingerprint,
# so a fault in the project's own comparison cannot pass a bad restore.
_TABLES = ("incidents", "incident_history", "incident_steps", "markers", "documents",
           "approval_requests", "clearing_works", "audit_log")  # fmt: skip


async def _checksums(url: str) -> dict[str, tuple[int, str]]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        found = {}
        for table in _TABLES:
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), "
                f"'')) AS sum FROM {table} t"
            )
            assert row is not None
            found[table] = (int(row["n"]), str(row["sum"]))
        return found
    finally:
        await conn.close()


async def test_create_then_restore_through_the_cli(scratch_url: str, tmp_path: Path) -> None:
    """What an operator types: `bordermark backup create FILE`, then `bordermark backup
    restore FILE --to URL` into an empty database; every table the same, row for row."""
    dump_file = tmp_path / "nightly.dump"
    env = {**os.environ, "DATABASE_URL": scratch_url, "BORDERMARK_ENV": "test"}
    cli = Path(sys.executable).parent / "bordermark"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cli), "backup", *args], env=env, capture_output=True, text=True, timeout=300
        )

    created = await asyncio.to_thread(run, "create", str(dump_file))
    assert created.returncode == 0, created.stderr
    server = scratch_url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    admin = await asyncpg.connect(server + "/postgres")
    try:
        await admin.execute("DROP DATABASE IF EXISTS bordermark_cli_restore")
        await admin.execute("CREATE DATABASE bordermark_cli_restore")
    finally:
        await admin.close()
    target = server + "/bordermark_cli_restore"
    restored = await asyncio.to_thread(run, "restore", str(dump_file), "--to", target)
    assert restored.returncode == 0, restored.stderr
    source, copy = await _checksums(scratch_url), await _checksums(target)
    assert source["incidents"][0] > 0 and source["markers"][0] > 2000
    assert copy == source
