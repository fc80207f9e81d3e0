"""Failover: a primary and a synchronous streaming standby (pg_basebackup), the service
given both hosts with `target_session_attrs=read-write`. The primary is killed (-9)
during a load of POSTs from field apps retrying with their UUIDs, the standby promoted:
the service finds the new primary by itself, answers again within 30 s of the promotion,
and every acknowledged report is stored exactly once (a synchronous standby holds every
commit the primary acknowledged)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from app.embedded_pg import EmbeddedCluster, find_bin_dir
from app.operations import backup
from tests.conftest import Tokens
from tests.faults.conftest import (
    Ledger,
    Service,
    free_port,
    incident,
    ready_again,
    stored,
    storm,
)
from tests.faults.test_faults import check_exactly_once


@dataclass
class Pair:
    primary: EmbeddedCluster
    standby: EmbeddedCluster

    def url(self, cluster: EmbeddedCluster) -> str:
        return cluster.url("failover")

    @property
    def both(self) -> str:
        """The service's URL: either host, whichever takes writes."""
        return (
            f"postgresql://postgres@127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
            "/failover?target_session_attrs=read-write"
        )


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


async def _wait_for_standby(primary_url: str) -> None:
    """Until the standby streams from the primary, then make it synchronous: from then on
    the primary acknowledges a commit once the standby has it."""
    conn = await asyncpg.connect(primary_url)
    try:
        deadline = time.monotonic() + 30
        while not await conn.fetchval("SELECT count(*) FROM pg_stat_replication"):
            assert time.monotonic() < deadline, "the standby did not connect"
            await asyncio.sleep(0.1)
        await conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        await conn.execute("SELECT pg_reload_conf()")
        while (
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
            )
            == 0
        ):
            assert time.monotonic() < deadline, "the standby did not become synchronous"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


@pytest.fixture
def pair(database: tuple[str, Tokens]) -> Iterator[Pair]:
    root = Path(tempfile.mkdtemp(prefix="bordermark-failover-"))
    root.chmod(0o755)
    bin_dir = find_bin_dir()
    primary = EmbeddedCluster(root=root / "primary", port=free_port(), bin_dir=bin_dir)
    standby = EmbeddedCluster(root=root / "standby", port=free_port(), bin_dir=bin_dir)
    try:
        primary.start()
        dump = root / "seed.dump"
        backup.dump(database[0], dump)

        async def create() -> None:
            conn = await asyncpg.connect(primary.url("postgres"))
            await conn.execute("CREATE DATABASE failover")
            await conn.close()

        asyncio.run(create())
        backup.restore(dump, primary.url("failover"))
        standby.root.mkdir()
        if os.geteuid() == 0:
            shutil.chown(standby.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                str(bin_dir / "pg_basebackup"), "-D", str(standby.pgdata), "-R", "-X", "stream", "-c", "fast",
                "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            ),
            check=True, capture_output=True,
        )  # fmt: skip
        standby.start()
        asyncio.run(_wait_for_standby(primary.url("failover")))
        yield Pair(primary, standby)
    finally:
        for cluster in (standby, primary):
            cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def _kill_9_primary(primary: EmbeddedCluster) -> None:
    postmaster = int((primary.pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, 9)
    # Its backends die with it (they notice the postmaster's death); wait until they do.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(postmaster, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


async def test_the_primary_killed_and_the_standby_promoted_loses_no_report(
    pair: Pair, database: tuple[str, Tokens], tmp_path: Path
) -> None:
    tokens = database[1]
    service = Service(
        pair.both,
        tmp_path / "service.log",
        extra_env={"BORDERMARK_DB_CONNECT_TIMEOUT_S": "2"},
    )
    service.start()
    try:
        run = f"failover-{uuid.uuid4().hex[:8]}"
        bodies = [incident(i, run) for i in range(300)]
        ledger = Ledger()
        load = asyncio.create_task(storm(service.base, tokens.admin, bodies, ledger, clients=8))
        await ledger.wait_for_acknowledgements(60, load)
        await asyncio.to_thread(_kill_9_primary, pair.primary)
        acknowledged_before = set(ledger.acked)
        await asyncio.sleep(1)  # the service meets a dead primary: 503s, retried
        promote = [str(pair.standby.bin_dir / "pg_ctl"), "-D", str(pair.standby.pgdata)]
        await asyncio.to_thread(
            subprocess.run, _as_postgres(*promote, "-w", "promote"), check=True, capture_output=True
        )
        promoted = time.monotonic()
        await ready_again(service.base, promoted, 30, "no answer 30 s after the promotion")
        await asyncio.wait_for(load, timeout=300)
        rows, created = await stored(pair.url(pair.standby), run)
        check_exactly_once(ledger, rows, created, bodies)
        assert acknowledged_before <= set(rows)  # acknowledged before the kill: kept
        assert ledger.unavailable + ledger.cut > 0  # the clients did meet the failover
    finally:
        service.stop()
