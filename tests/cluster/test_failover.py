"""Failover: a primary and a synchronous streaming standby (pg_basebackup), the service
given both hosts with `target_session_attrs=read-write`. The primary is killed (-9)
during a load of POSTs from field apps retrying with their UUIDs, the standby promoted:
the service finds the new primary by itself, answers again within 30 s of the promotion,
and every acknowledged report is stored exactly once (a synchronous standby holds every
commit the primary acknowledged)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from app.embedded_pg import EmbeddedCluster, find_bin_dir, make_synchronous, start_standby
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


@pytest.fixture
def pair(database: tuple[str, Tokens]) -> Iterator[Pair]:
    root = Path(tempfile.mkdtemp(prefix="bordermark-failover-"))
    root.chmod(0o755)
    primary = EmbeddedCluster(root=root / "primary", port=free_port(), bin_dir=find_bin_dir())
    standby: EmbeddedCluster | None = None
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
        standby = start_standby(primary, root / "standby", free_port())
        asyncio.run(make_synchronous(primary.url("failover")))
        yield Pair(primary, standby)
    finally:
        for cluster in (standby, primary):
            if cluster is not None:
                cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


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
        await asyncio.to_thread(pair.primary.kill9)
        acknowledged_before = set(ledger.acked)
        await asyncio.sleep(1)  # the service meets a dead primary: 503s, retried
        await asyncio.to_thread(pair.standby.promote)
        promoted = time.monotonic()
        await ready_again(service.base, promoted, 30, "no answer 30 s after the promotion")
        await asyncio.wait_for(load, timeout=300)
        rows, created = await stored(pair.url(pair.standby), run)
        check_exactly_once(ledger, rows, created, bodies)
        assert acknowledged_before <= set(rows)  # acknowledged before the kill: kept
        assert ledger.unavailable + ledger.cut > 0  # the clients did meet the failover
    finally:
        service.stop()
