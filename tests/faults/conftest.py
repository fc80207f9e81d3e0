"""Real processes for the fault suite: a PostgreSQL cluster of its own (it gets stopped),
restored from the test database with `pg_dump`/`pg_restore`, and the service started with
`bordermark serve` as a child process (it gets killed)."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.embedded_pg import EmbeddedCluster, find_bin_dir
from app.operations import backup
from tests.conftest import Tokens

# `make soak` sets BORDERMARK_SOAK=1: ten times the incidents and clients.
SOAK = os.environ.get("BORDERMARK_SOAK") == "1"
SCALE = 10 if SOAK else 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FaultDatabase:
    cluster: EmbeddedCluster
    url: str  # postgresql://


@pytest.fixture(scope="module")
def fault_db(database: tuple[str, Tokens]) -> Iterator[FaultDatabase]:
    root = Path(tempfile.mkdtemp(prefix="bordermark-faults-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root=root / "pg", port=free_port(), bin_dir=find_bin_dir())
    cluster.start()
    try:
        dump_file = root / "seed.dump"
        backup.dump(database[0], dump_file)
        url = cluster.url("faults")

        async def create() -> None:
            conn = await asyncpg.connect(cluster.url("postgres"))
            await conn.execute("CREATE DATABASE faults")
            await conn.close()

        asyncio.run(create())
        backup.restore(dump_file, url)
        yield FaultDatabase(cluster, url)
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Service:
    """`bordermark serve` in its own process, on its own port."""

    database_url: str
    log: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "BORDERMARK_ENV": "test",
            "BORDERMARK_WEBHOOK_WORKER": "false",
            "BORDERMARK_RATE_LIMIT_PER_S": "0",
            "BORDERMARK_AUTH_FAILURES_PER_MINUTE": "0",
            "BORDERMARK_DB_CONNECT_TIMEOUT_S": "2",
            "BORDERMARK_DB_POOL_TIMEOUT_S": "5",
            **self.extra_env,
        }
        cli = Path(sys.executable).parent / "bordermark"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(cli), "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"the service exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise AssertionError("the service did not start")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def service(fault_db: FaultDatabase, tmp_path: Path) -> Iterator[Service]:
    svc = Service(fault_db.url, tmp_path / "service.log")
    svc.start()
    yield svc
    svc.stop()


def incident(i: int, run: str) -> dict[str, Any]:
    """A distinct report near marker 1089 (Lạng Sơn), as a field app would send it."""
    return {
        "type": "Feature",
        "id": str(uuid.uuid4()),
        "location": f"VN-CN:1089+{(i * 7) % 900}",
        "properties": {
            "category": random.choice(["fence", "excavation", "construction", "cable"]),
            "title": f"Báo cáo thực địa {run} số {i}",
            "occurred_at": "2026-11-20T08:00:00+07:00",
            "tags": [run],
        },
    }


@dataclass
class Ledger:
    """What the clients saw: acknowledged ids (with when) and any unexpected answer."""

    acked: dict[str, float] = field(default_factory=dict)
    unavailable: int = 0  # 503 answers (expected during an outage)
    cut: int = 0  # requests the client abandoned (timeout) or lost (connection)
    unexpected: list[str] = field(default_factory=list)
    replays: int = 0

    def acknowledged_by(self, moment: float) -> set[str]:
        """The ids acknowledged at `moment` (time.monotonic()) or before."""
        return {i for i, at in self.acked.items() if at <= moment}

    async def wait_for_acknowledgements(self, count: int, load: asyncio.Task[Any]) -> None:
        """Wait until the clients have `count` acknowledgements; fail with their unexpected
        answers if their `load` ends short of that, instead of waiting forever."""
        while len(self.acked) < count:
            assert not load.done(), self.unexpected
            await asyncio.sleep(0.01)


async def _answer(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    headers: dict[str, str],
    ledger: Ledger,
    *,
    cut_first: bool,
    deadline: float,
    path: str = "/api/v1/incidents",
) -> httpx.Response | None:
    """Post until the service gives a definitive answer, retrying through timeouts, cut
    connections and 503s with a growing pause, as the apps do."""
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        timeout = 0.003 if (cut_first and attempt == 1) else 15.0
        try:
            r = await http.post(path, json=body, headers=headers, timeout=timeout)
        except (httpx.TimeoutException, httpx.TransportError):
            ledger.cut += 1
        else:
            if r.status_code != 503:
                return r
            ledger.unavailable += 1
            if "retry-after" not in r.headers or not r.headers["content-type"].startswith(
                "application/problem+json"
            ):
                ledger.unexpected.append(f"503 without Retry-After/problem: {r.text[:200]}")
        await asyncio.sleep(min(0.05 * attempt, 1.0))
    ledger.unexpected.append(f"gave up on {body.get('id', 'a batch')}")
    return None


async def send_until_acknowledged(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    token: str,
    ledger: Ledger,
    *,
    cut_first: bool,
    copies: int,
    give_up_after_s: float = 120,
) -> None:
    """Send until acknowledged (201, or 200 when an earlier attempt had landed), then
    `copies - 1` replays, which must each be 200 (the same report, not a new one)."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + give_up_after_s
    r = await _answer(http, body, headers, ledger, cut_first=cut_first, deadline=deadline)
    if r is None:
        return
    if r.status_code not in (200, 201):
        ledger.unexpected.append(f"{r.status_code}: {r.text[:200]}")
        return
    ledger.acked.setdefault(body["id"], time.monotonic())
    for _ in range(copies - 1):
        replay = await _answer(http, body, headers, ledger, cut_first=False, deadline=deadline)
        ledger.replays += 1
        if replay is not None and replay.status_code != 200:
            ledger.unexpected.append(f"replay answered {replay.status_code}: {replay.text[:200]}")


async def storm(
    base: str, token: str, bodies: list[dict[str, Any]], ledger: Ledger, clients: int
) -> None:
    """`clients` concurrent field apps share the bodies; a third of the reports are sent
    two or three times, and one in six has its first attempt cut short."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def app_worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            copies = random.choice([1, 1, 1, 1, 2, 3])
            await send_until_acknowledged(
                http, body, token, ledger, cut_first=random.random() < 1 / 6, copies=copies
            )

    async with httpx.AsyncClient(base_url=base, limits=limits) as http:
        await asyncio.gather(*(app_worker(http) for _ in range(clients)))


BATCH = "/api/v1/incidents:batch"


async def sync_until_acknowledged(
    http: httpx.AsyncClient, batch: list[dict[str, Any]], token: str, ledger: Ledger
) -> None:
    """What an app coming back online does: send its queued reports as one batch until the
    service answers 200, retrying as a single report would. Each item of that answer must
    be `created` or `duplicate` (the app then drops it from its queue); a batch answered is
    sent once more at times, as an app that missed the answer would, and must then be all
    `duplicate`."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 120
    body = {"features": batch}
    for attempt in range(random.choice([1, 1, 2])):
        r = await _answer(
            http, body, headers, ledger, cut_first=False, deadline=deadline, path=BATCH
        )
        if r is None:
            return
        if r.status_code != 200:
            ledger.unexpected.append(f"batch answered {r.status_code}: {r.text[:200]}")
            return
        outcomes = [item["result"] for item in r.json()["results"]]
        allowed = {"created", "duplicate"} if attempt == 0 else {"duplicate"}
        if len(outcomes) != len(batch) or not set(outcomes) <= allowed:
            ledger.unexpected.append(f"batch outcomes {sorted(set(outcomes))} on attempt {attempt}")
            return
        now = time.monotonic()
        for item in batch:
            ledger.acked.setdefault(item["id"], now)
        ledger.replays += attempt


async def ready_again(base: str, since: float, within_s: float, what: str) -> None:
    """Until /readyz answers 200; fail with `what` past `within_s` after `since`."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while (await http.get("/readyz")).status_code != 200:
            assert time.monotonic() - since < within_s, what
            await asyncio.sleep(0.1)


async def stored(url: str, run: str) -> tuple[dict[str, int], int]:
    """For one run: how many rows each id has, and how many 'created' history entries."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id::text AS id, count(*) AS n FROM incidents WHERE $1 = ANY(tags) GROUP BY id",
            run,
        )
        created = await conn.fetchval(
            "SELECT count(*) FROM incident_history h JOIN incidents i ON i.id = h.incident_id "
            "WHERE $1 = ANY(i.tags) AND h.action = 'created'",
            run,
        )
        return {r["id"]: int(r["n"]) for r in rows}, int(created)
    finally:
        await conn.close()
