"""Backup and restore with PostgreSQL's own tools (pg_dump custom format, pg_restore), and
a verification that restores a dump into a fresh private cluster and compares every
table's row count and content checksum with the source.

Roles belong to the cluster, not to a dump: `restore` creates the `bordermark_app` role
first so its grants restore too. The VN-2000 rows the foundation migration adds to
PostGIS's `spatial_ref_sys` are in the dump (PostGIS dumps the rows it does not ship), and
the verification compares that table like any other."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from app.embedded_pg import EmbeddedCluster, find_bin_dir

APP_ROLE = "bordermark_app"


def _libpq(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def dump(url: str, target: Path) -> None:
    """pg_dump in the custom format (compressed, restorable table by table)."""
    subprocess.run(  # noqa: S603 - PostgreSQL's own binary, arguments as a list
        [str(find_bin_dir() / "pg_dump"), "--format=custom", "--file", str(target), _libpq(url)],
        check=True,
        capture_output=True,
        text=True,
    )


async def _ensure_role(url: str) -> None:
    conn = await asyncpg.connect(_libpq(url))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    finally:
        await conn.close()


def restore(source: Path, url: str) -> None:
    """Restore into an existing, empty database at `url`."""
    asyncio.run(_ensure_role(url))
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own binary, arguments as a list
        [
            str(find_bin_dir() / "pg_restore"),
            "--exit-on-error",
            "--no-owner",
            "--dbname",
            _libpq(url),
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg_restore failed: {done.stderr.strip()}")


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    checksum: str | None


async def fingerprint(url: str) -> dict[str, TableFingerprint]:
    """Row count and an md5 over every row's text, in a stable order, per table."""
    conn = await asyncpg.connect(_libpq(url))
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables "
            "WHERE schemaname = 'public' ORDER BY tablename"
        )
        found: dict[str, TableFingerprint] = {}
        for record in tables:
            name = record["name"]  # from the catalogue, quoted: safe as an identifier
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS h "  # noqa: S608
                f"FROM {name} t"
            )
            assert row is not None
            found[name] = TableFingerprint(int(row["n"]), row["h"])
        return found
    finally:
        await conn.close()


def verify(url: str, *, keep_dump: Path | None = None) -> dict[str, TableFingerprint]:
    """Dump `url`, restore it into a fresh private cluster, and compare. Returns the
    fingerprints; raises AssertionError naming the tables that differ."""
    work = Path(tempfile.mkdtemp(prefix="bordermark-restore-"))
    work.chmod(0o755)
    cluster: EmbeddedCluster | None = None
    try:
        target = keep_dump or work / "bordermark.dump"
        dump(url, target)
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        cluster = EmbeddedCluster(root=work / "pg", port=port, bin_dir=find_bin_dir())
        cluster.start()
        fresh = cluster.url("restored")
        asyncio.run(_create_database(cluster.url("postgres"), "restored"))
        restore(target, fresh)
        before = asyncio.run(fingerprint(url))
        after = asyncio.run(fingerprint(fresh))
        differing = sorted(t for t in before if before[t] != after.get(t))
        if differing:
            raise AssertionError(f"restored tables differ: {', '.join(differing)}")
        return after
    finally:
        if cluster is not None:
            cluster.stop(mode="immediate")
        shutil.rmtree(work, ignore_errors=True)


async def _create_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(_libpq(server_url))
    try:
        await conn.execute(f"CREATE DATABASE {name}")  # a constant name of ours
    finally:
        await conn.close()
