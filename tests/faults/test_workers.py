"""`bordermark serve --workers 2`: two processes answer, and a retrying storm of field
reports through both lands every acknowledged report exactly once (each process
coalesces its own POSTs; they meet only in the database)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from tests.conftest import Tokens
from tests.faults.conftest import FaultDatabase, Ledger, Service, incident, stored, storm


def _workers(pid: int) -> int:
    """The worker processes uvicorn spawned under `pid` (multiprocessing spawn children)."""
    count = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        count += parent == pid and b"spawn_main" in args
    return count


async def test_two_workers_store_every_acknowledged_report_once(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path: Path
) -> None:
    svc = Service(fault_db.url, tmp_path / "service.log", extra_env={"BORDERMARK_WORKERS": "2"})
    await asyncio.to_thread(svc.start)
    try:
        assert svc.process is not None
        assert _workers(svc.process.pid) == 2
        run = f"workers-{uuid.uuid4().hex[:8]}"
        bodies = [incident(i, run) for i in range(60)]
        ledger = Ledger()
        await storm(svc.base, tokens.admin, bodies, ledger, clients=8)
        assert ledger.unexpected == []
        rows, created = await stored(fault_db.url, run)
        assert set(ledger.acked) == {b["id"] for b in bodies}
        assert all(rows.get(i) == 1 for i in ledger.acked), rows
        assert created == len(bodies)
    finally:
        await asyncio.to_thread(svc.stop)
