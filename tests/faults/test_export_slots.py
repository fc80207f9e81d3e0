"""Exports read slowly hold connections of the bulk pool, but never all of them, nor more
than one per token (exports/slots.py), against a real `bordermark serve` process."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import asyncpg
import httpx
import pytest

from tests.conftest import Tokens, bearer
from tests.faults.conftest import FaultDatabase, Service

LONG_TEXT = "repeat('x', 4000)"
COPIES = 5_000  # of a 4 kB incident: 20 MB of GeoJSON, far past the sockets' buffers


@pytest.fixture(scope="module")
def bulky_db(fault_db: FaultDatabase) -> FaultDatabase:
    """The module's database with copies of one incident with a long description, so that
    an export outlasts what the kernel buffers for a client that does not read."""
    asyncio.run(_bulk_up(fault_db.url))
    return fault_db


async def _bulk_up(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        columns = await conn.fetchval(
            "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
            "WHERE table_name = 'incidents' AND is_generated = 'NEVER' AND column_name <> 'id'"
        )
        await conn.execute(
            f"INSERT INTO incidents (id, {columns}) "
            f"SELECT gen_random_uuid(), {columns.replace('description', LONG_TEXT)} "
            f"FROM (SELECT * FROM incidents LIMIT 1) i, generate_series(1, {COPIES})"
        )
    finally:
        await conn.close()


async def test_slow_export_readers_leave_the_summaries_a_connection(
    bulky_db: FaultDatabase, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Exports that their clients read slowly hold bulk connections: at most one fewer
    than the pool's (here two of three) and one per token. A third reader is told the
    service is busy (503, Retry-After), a second export of the same token 429, and the
    district summary and its XLSX still answer. A reader that leaves frees its slot."""
    svc = Service(bulky_db.url, tmp_path / "service.log")
    await asyncio.to_thread(svc.start)
    try:
        async with httpx.AsyncClient(base_url=svc.base, timeout=60) as http:

            async def export(token: str) -> httpx.Response:
                return await http.send(
                    http.build_request(
                        "GET",
                        "/api/v1/exports/incidents",
                        params={"format": "geojson"},
                        headers=bearer(token),
                    ),
                    stream=True,
                )

            slow = [await export(tokens.admin), await export(tokens.analyst)]
            assert [r.status_code for r in slow] == [200, 200]
            busy = await export(tokens.officer)
            await busy.aread()
            assert busy.status_code == 503 and busy.json()["type"] == "/problems/busy"
            assert int(busy.headers["retry-after"]) > 0
            again = await export(tokens.admin)
            await again.aread()
            assert again.status_code == 429
            period = {"from": "2024-01-01", "to": "2024-12-31"}
            for fmt in ("json", "xlsx"):
                summary = await http.get(
                    "/api/v1/reports/districts",
                    params={**period, "format": fmt},
                    headers=bearer(tokens.analyst),
                )
                assert summary.status_code == 200, summary.text
            await slow[0].aclose()  # the admin's reader leaves
            deadline = time.monotonic() + 30  # ends a stuck wait only
            while True:
                retry = await export(tokens.officer)
                await retry.aread()
                if retry.status_code == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert retry.status_code == 200, retry.text
            assert b'"features"' in retry.content
            await slow[1].aclose()
    finally:
        await asyncio.to_thread(svc.stop)


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within `seconds` (a deadline that only ends a stuck wait)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_a_geopackage_whose_client_leaves_stops_and_leaves_no_file(
    bulky_db: FaultDatabase, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """GDAL's file is written batch by batch; a client that leaves stops it between two
    batches, and no temporary file stays behind (sent or not, a file's name is gone once
    it is written). The token's slot is free again for its next export."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    svc = Service(bulky_db.url, tmp_path / "service.log", extra_env={"TMPDIR": str(scratch)})
    await asyncio.to_thread(svc.start)
    try:
        async with httpx.AsyncClient(base_url=svc.base, timeout=120) as http:
            for _ in range(2):  # twice: the first export's slot must have come back
                _, writer = await asyncio.open_connection("127.0.0.1", svc.port)
                writer.write(
                    b"GET /api/v1/exports/incidents?format=gpkg HTTP/1.1\r\nHost: localhost\r\n"
                    + f"Authorization: Bearer {tokens.analyst}\r\n\r\n".encode()
                )
                await writer.drain()
                began = await asyncio.to_thread(_within, 30, lambda: any(scratch.iterdir()))
                assert began, "the export never began"  # GDAL has begun the file
                writer.close()  # the client leaves mid-export
                await writer.wait_closed()
                gone = await asyncio.to_thread(_within, 30, lambda: not any(scratch.iterdir()))
                assert gone, list(scratch.iterdir())
            whole = await http.get(
                "/api/v1/exports/incidents",
                params={"format": "gpkg"},
                headers=bearer(tokens.analyst),
            )
            assert whole.status_code == 200
            assert int(whole.headers["content-length"]) == len(whole.content) > 0
            assert not any(scratch.iterdir())
        log = (tmp_path / "service.log").read_text()
        assert '"status": 499' in log or '"status":499' in log, log[-3000:]
    finally:
        await asyncio.to_thread(svc.stop)


async def test_a_slow_download_outlasts_the_statement_timeout(
    bulky_db: FaultDatabase, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The export's COPY lasts as long as its client takes to read it. A reader that
    pauses with 20 MB still to come holds PostgreSQL blocked on its socket for longer than
    the bulk statement timeout (0.5 s here); the download still arrives whole. (PostgreSQL
    cancels a COPY paced by its client once the data outgrows the sockets' buffers, so
    without the export's own `statement_timeout = 0` this download is cut.)"""
    svc = Service(
        bulky_db.url,
        tmp_path / "service.log",
        extra_env={"BORDERMARK_DB_BULK_STATEMENT_TIMEOUT_MS": "500"},
    )
    await asyncio.to_thread(svc.start)
    try:
        async with httpx.AsyncClient(base_url=svc.base, timeout=60) as http:
            body = bytearray()
            async with http.stream(
                "GET",
                "/api/v1/exports/incidents",
                params={"format": "geojson"},
                headers=bearer(tokens.admin),
            ) as response:
                assert response.status_code == 200
                async for chunk in response.aiter_bytes():
                    if not body:
                        await asyncio.sleep(3)  # six timeouts' worth, PostgreSQL blocked
                    body += chunk
        conn = await asyncpg.connect(bulky_db.url)
        try:
            stored = await conn.fetchval("SELECT count(*) FROM incidents")
        finally:
            await conn.close()
        assert len(json.loads(body)["features"]) == stored > COPIES
    finally:
        await asyncio.to_thread(svc.stop)
