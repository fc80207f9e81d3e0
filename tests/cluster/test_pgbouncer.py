"""Two service instances through Debian's PgBouncer 1.18 in transaction pooling mode (no
prepared-statement support, no session state kept between transactions): the border
guard's flow, a batch stored in parts, exports streamed, summaries, tiles, OGC pages and
the event stream all work, under concurrent load from both instances; a token revoked
through one instance is refused by the other within a second (each LISTENs for change
notices on a direct connection, which a transaction pooler cannot carry)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app.auth.models import Role
from app.auth.tokens import create_token, revoke_token
from app.config import Settings
from app.db import create_engine, create_sessionmaker, fetch_value
from app.embedded_pgbouncer import EmbeddedBouncer
from tests.conftest import Tokens, bearer
from tests.faults.conftest import FaultDatabase, Service, incident


async def _count(url: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


async def test_the_border_guards_flow_through_the_pooler(
    pooled_services: list[Service],
    bouncer: EmbeddedBouncer,
    fault_db: FaultDatabase,
    database: tuple[str, Tokens],
) -> None:
    tokens = database[1]
    one, other = (svc.base for svc in pooled_services)
    reporter, officer = bearer(tokens.reporter), bearer(tokens.officer)
    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as http:
        # Submit through one instance, replay through the other: stored once.
        body = incident(1, run)
        first = await http.post(f"{one}/api/v1/incidents", json=body, headers=reporter)
        assert first.status_code == 201, first.text
        again = await http.post(f"{other}/api/v1/incidents", json=body, headers=reporter)
        assert again.status_code == 200, again.text
        read = await http.get(f"{other}/api/v1/incidents/{body['id']}", headers=officer)
        assert (
            read.status_code == 200
            and read.json()["properties"]["title"] == body["properties"]["title"]
        )
        # An officer moves it on, with its version (If-Match).
        moved = await http.post(
            f"{one}/api/v1/incidents/{body['id']}/transitions",
            json={"to": "verified"},
            headers={**officer, "If-Match": read.headers["ETag"]},
        )
        assert moved.status_code == 200, moved.text

        # A batch large enough to be stored in parts (several transactions at once).
        batch = [incident(i, run) for i in range(2, 242)]
        synced = await http.post(
            f"{other}/api/v1/incidents:batch", json={"features": batch}, headers=reporter
        )
        assert synced.status_code == 200, synced.text
        assert synced.json()["counts"] == {"created": len(batch)}
        stored = await _count(
            fault_db.url, "SELECT count(*) FROM incidents WHERE $1 = ANY(tags)", run
        )
        assert stored == 1 + len(batch)

        # Concurrent reads from both instances: pages, filters, tiles.
        analyst = bearer(tokens.analyst)
        near = "S_DWITHIN(geometry, POINT(106.7 22.0), 5000, meters)"
        reads = [
            f"{base}{path}"
            for base in (one, other)
            for path in [
                "/ogc/collections/incidents/items?limit=50&bbox=106.5,21.8,107.0,22.2",
                f"/ogc/collections/incidents/items?filter={near}",
                "/api/v1/incidents?limit=20&status=reported",
                "/api/v1/markers/nearest?lon=106.7&lat=22.0",
                "/tiles/incidents/8/206/113.mvt",
                "/tiles/segments/10/827/454.mvt",
            ]
        ] * 4
        answers = await asyncio.gather(*(http.get(url, headers=analyst) for url in reads))
        assert {r.status_code for r in answers} <= {200, 204}, [
            (r.url, r.text[:200]) for r in answers if r.status_code not in (200, 204)
        ]

        # Exports stream through the pooler; the CSV holds every row of the run.
        csv_export = await http.get(
            f"{one}/api/v1/exports/incidents",
            params={"format": "csv", "q": run},
            headers=analyst,
        )
        assert csv_export.status_code == 200, csv_export.text
        rows = list(csv.DictReader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
        assert len(rows) == 1 + len(batch)
        gpkg = await http.get(
            f"{other}/api/v1/exports/markers", params={"format": "gpkg"}, headers=analyst
        )
        assert gpkg.status_code == 200 and gpkg.content.startswith(b"SQLite format 3")

        # Summaries (the bulk pool's transactions).
        report = await http.get(
            f"{one}/api/v1/reports/districts",
            params={"from": "2026-11-01", "to": "2026-11-30"},
            headers=analyst,
        )
        assert report.status_code == 200, report.text
        opened = sum(row["opened"] for row in report.json()["tables"]["summary"])
        assert opened >= 1 + len(batch)
        province = await http.get(
            f"{other}/api/v1/reports/provinces/lang-son/2020", headers=analyst
        )
        assert province.status_code == 200, province.text

        # The event stream: the newest event, through the other instance (`limit` closes it).
        events = await http.get(f"{other}/api/v1/events", params={"limit": 1}, headers=analyst)
        assert events.status_code == 200
        assert events.text.count("\ndata:") + events.text.startswith("data:") >= 1, events.text
    assert "prepared statement" not in bouncer.log()


async def test_a_revoked_token_is_refused_by_every_instance(
    pooled_services: list[Service], fault_db: FaultDatabase
) -> None:
    engine = create_engine(Settings(DATABASE_URL=fault_db.url))
    try:
        async with create_sessionmaker(engine)() as session:
            issued = await create_token(session, name="scale-out", role=Role.analyst)
            await session.commit()
        headers = bearer(issued.plaintext)
        async with httpx.AsyncClient(timeout=10) as http:
            for svc in pooled_services:  # each instance now holds the token in its cache
                ok = await http.get(f"{svc.base}/api/v1/borders", headers=headers)
                assert ok.status_code == 200, ok.text
            async with create_sessionmaker(engine)() as session:
                await revoke_token(session, token_id_or_prefix=str(issued.token.id))
                await session.commit()
            revoked_at = time.monotonic()
            for svc in pooled_services:
                while True:
                    r = await http.get(f"{svc.base}/api/v1/borders", headers=headers)
                    if r.status_code == 401:
                        break
                    assert r.status_code == 200
                    assert time.monotonic() - revoked_at < 1.0, f"{svc.base} still accepts it"
                    await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


def test_a_service_sent_to_the_pooler_as_if_direct_refuses_to_start(
    bouncer: EmbeddedBouncer, tmp_path: Path
) -> None:
    """PgBouncer refuses the settings a direct connection sends at connect: the service
    says which settings it needs instead of failing every request."""
    direct = Service(bouncer.url("faults"), tmp_path / "direct.log")
    try:
        with pytest.raises(AssertionError, match="BORDERMARK_DB_POOL_MODE=transaction"):
            direct.start()
    finally:
        direct.stop()


async def test_each_transaction_through_the_pooler_has_the_sessions_settings(
    bouncer: EmbeddedBouncer,
) -> None:
    """No setting survives from one transaction to the next behind PgBouncer, so each sets
    its own: the first statement of a session, a raw asyncpg read (fetch_rows), already
    runs with the request pool's timeout and JIT off, the bulk pool's with its own."""
    settings = Settings(
        DATABASE_URL=bouncer.url("faults"),
        db_pool_mode="transaction",
        db_statement_timeout_ms=12_345,
        db_bulk_statement_timeout_ms=654_321,
    )
    for bulk, timeout in [(False, "12345ms"), (True, "654321ms")]:
        engine = create_engine(settings, bulk=bulk)
        try:
            async with create_sessionmaker(engine)() as session:
                assert (
                    await fetch_value(session, "SELECT current_setting('statement_timeout')")
                    == timeout
                )
                assert await fetch_value(session, "SELECT current_setting('jit')") == "off"
                assert await fetch_value(session, "SELECT current_setting('timezone')") == "UTC"
                expected_work_mem = settings.db_bulk_work_mem if bulk else "4MB"
                assert (
                    await fetch_value(session, "SELECT current_setting('work_mem')")
                    == expected_work_mem
                )
        finally:
            await engine.dispose()


async def test_instances_share_a_tokens_rate_limit(
    fault_db: FaultDatabase, bouncer: EmbeddedBouncer, database: tuple[str, Tokens], tmp_path: Path
) -> None:
    """Each of N instances counts a token's requests against 1/N of its limit: two
    instances behind a round-robin balancer admit the burst once, not twice."""
    limits = {
        "BORDERMARK_DB_POOL_MODE": "transaction",
        "BORDERMARK_LISTEN_DATABASE_URL": fault_db.url,
        "BORDERMARK_RATE_LIMIT_PER_S": "0.1",
        "BORDERMARK_RATE_LIMIT_BURST": "6",
        "BORDERMARK_RATE_LIMIT_MAX_DELAY_S": "0",
        "BORDERMARK_RATE_LIMIT_INSTANCES": "2",
    }
    services = [
        Service(bouncer.url("faults"), tmp_path / f"limited-{n}.log", extra_env=limits)
        for n in range(2)
    ]
    try:
        for svc in services:
            svc.start()
        headers = bearer(database[1].analyst)
        async with httpx.AsyncClient(timeout=10) as http:
            codes = [
                (
                    await http.get(f"{services[i % 2].base}/api/v1/borders", headers=headers)
                ).status_code
                for i in range(12)
            ]
        assert codes.count(200) == 6 and codes[6:] == [429] * 6, codes
    finally:
        for svc in services:
            svc.stop()
