"""Real processes for the scale-out suite: Debian's PgBouncer (1.18) in transaction
pooling mode in front of a PostgreSQL cluster of the suite's own (restored from the test
database, as the fault suite's), and several `bordermark serve` instances behind it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.embedded_pgbouncer import EmbeddedBouncer, start_bouncer
from tests.faults.conftest import FaultDatabase, Service, fault_db, free_port

__all__ = ["fault_db"]  # the cluster the bouncer pools (a module fixture of the fault suite)


@pytest.fixture(scope="module")
def bouncer(fault_db: FaultDatabase) -> Iterator[EmbeddedBouncer]:
    root = Path(tempfile.mkdtemp(prefix="bordermark-pgbouncer-"))
    found = start_bouncer(
        root, port=free_port(), backend_port=fault_db.cluster.port, database="faults"
    )
    yield found
    found.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pooled_services(
    fault_db: FaultDatabase, bouncer: EmbeddedBouncer, tmp_path: Path
) -> Iterator[list[Service]]:
    """Two instances through the bouncer, each LISTENing on a direct connection."""
    services = [
        Service(
            bouncer.url("faults"),
            tmp_path / f"service-{n}.log",
            extra_env={
                "BORDERMARK_DB_POOL_MODE": "transaction",
                "BORDERMARK_LISTEN_DATABASE_URL": fault_db.url,
            },
        )
        for n in range(2)
    ]
    try:
        for svc in services:
            svc.start()
        yield services
    finally:
        for svc in services:
            svc.stop()
