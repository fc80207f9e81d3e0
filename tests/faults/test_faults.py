"""The fault suite: real uvicorn processes and a real PostgreSQL cluster, hurt on purpose.
Every report acknowledged (201 or 200) is stored exactly once; retries through cut
connections, a kill -9 of the service and a database outage never double a report; no 5xx
but 503 with Retry-After while the database is down. `make soak` runs it ten times larger."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from tests.conftest import Tokens
from tests.faults.conftest import (
    SCALE,
    FaultDatabase,
    Ledger,
    Service,
    incident,
    stored,
    storm,
)


def check_exactly_once(
    ledger: Ledger, rows: dict[str, int], created: int, bodies: list[dict]
) -> None:  # type: ignore[type-arg]
    assert ledger.unexpected == []
    sent = {b["id"] for b in bodies}
    assert set(ledger.acked) == sent  # every report was acknowledged in the end
    assert set(rows) == sent  # every acknowledged report is stored
    assert all(n == 1 for n in rows.values())  # once each
    assert created == len(sent)  # and created once each in its history


async def test_retry_storm(service: Service, fault_db: FaultDatabase, tokens: Tokens) -> None:
    run = f"storm-{uuid.uuid4().hex[:8]}"
    bodies = [incident(i, run) for i in range(300 * SCALE)]
    ledger = Ledger()
    await storm(service.base, tokens.admin, bodies, ledger, clients=16)
    rows, created = await stored(fault_db.url, run)
    check_exactly_once(ledger, rows, created, bodies)
    assert ledger.replays > 50 * SCALE and ledger.cut > 10 * SCALE  # the storm was real
    print(
        f"storm: {len(bodies)} reports, {ledger.replays} replays, {ledger.cut} cut requests, "
        f"{len(rows)} stored once each"
    )


async def test_kill_9_during_load(
    service: Service, fault_db: FaultDatabase, tokens: Tokens
) -> None:
    run = f"crash-{uuid.uuid4().hex[:8]}"
    bodies = [incident(i, run) for i in range(300 * SCALE)]
    ledger = Ledger()
    load = asyncio.create_task(storm(service.base, tokens.admin, bodies, ledger, clients=12))
    while len(ledger.acked) < 80 * SCALE:  # noqa: ASYNC110 - polling what the clients count
        await asyncio.sleep(0.01)
    service.kill9()
    killed_at = time.monotonic()
    acknowledged_before_crash = {i for i, at in ledger.acked.items() if at <= killed_at}
    await asyncio.sleep(1.0)
    assert not load.done()  # clients keep retrying while the service is gone
    await asyncio.to_thread(service.start)
    await asyncio.wait_for(load, timeout=300)
    rows, created = await stored(fault_db.url, run)
    assert acknowledged_before_crash <= set(rows)  # nothing acknowledged was lost
    check_exactly_once(ledger, rows, created, bodies)
    print(
        f"kill -9: {len(acknowledged_before_crash)} acknowledged before the crash, all stored; "
        f"{len(bodies)} in all, {ledger.cut} cut requests, {ledger.replays} replays"
    )


async def test_database_outage_is_503_then_recovers_without_restart(
    service: Service, fault_db: FaultDatabase, tokens: Tokens
) -> None:
    run = f"outage-{uuid.uuid4().hex[:8]}"
    bodies = [incident(i, run) for i in range(200 * SCALE)]
    ledger = Ledger()
    pid = service.process.pid if service.process else None
    load = asyncio.create_task(storm(service.base, tokens.admin, bodies, ledger, clients=8))
    while len(ledger.acked) < 40 * SCALE:  # noqa: ASYNC110 - polling what the clients count
        await asyncio.sleep(0.01)
    await asyncio.to_thread(fault_db.cluster.stop, "fast")
    try:
        async with httpx.AsyncClient(base_url=service.base, timeout=30) as http:
            started = time.monotonic()
            ready = await http.get("/readyz")
            post = await http.post(
                "/api/v1/incidents",
                json=incident(0, run + "-probe"),
                headers={"Authorization": f"Bearer {tokens.admin}"},
            )
            answered_in = time.monotonic() - started
        assert ready.status_code == 503
        assert post.status_code == 503 and "retry-after" in post.headers
        body = post.json()
        assert body["status"] == 503 and "Traceback" not in post.text
        assert answered_in < 10  # bounded by the connect timeout, not a hang
        await asyncio.sleep(2)
    finally:
        await asyncio.to_thread(fault_db.cluster.start)
    back = time.monotonic()
    async with httpx.AsyncClient(base_url=service.base, timeout=30) as http:
        while (await http.get("/readyz")).status_code != 200:
            assert time.monotonic() - back < 20, "the service did not recover by itself"
            await asyncio.sleep(0.1)
    recovered_in = time.monotonic() - back
    await asyncio.wait_for(load, timeout=300)
    assert service.process is not None and service.process.pid == pid  # no restart
    rows, created = await stored(fault_db.url, run)
    check_exactly_once(ledger, rows, created, bodies)
    assert ledger.unavailable > 0  # clients did meet the outage
    print(f"outage: answered 503 in {answered_in:.2f} s, ready again {recovered_in:.2f} s")


async def test_a_hanging_export_does_not_starve_submissions(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Exports hold connections of the bulk pool only: with that pool taken by readers
    that do not read, incident submission still answers promptly."""
    svc = Service(
        fault_db.url,
        tmp_path / "service.log",
        extra_env={"BORDERMARK_DB_POOL_SIZE": "2", "BORDERMARK_DB_BULK_POOL_SIZE": "1"},
    )
    await asyncio.to_thread(svc.start)
    try:
        auth = {"Authorization": f"Bearer {tokens.admin}"}
        async with httpx.AsyncClient(base_url=svc.base, timeout=60) as http:
            stalled = []
            for _ in range(3):  # three exports that read one chunk and then stall
                response = await http.send(
                    http.build_request(
                        "GET", "/api/v1/exports/markers", params={"format": "geojson"}, headers=auth
                    ),
                    stream=True,
                )
                stalled.append(response)
            run = f"slow-{uuid.uuid4().hex[:8]}"
            timings = []
            for i in range(20):
                started = time.monotonic()
                r = await http.post("/api/v1/incidents", json=incident(i, run), headers=auth)
                timings.append(time.monotonic() - started)
                assert r.status_code == 201, r.text
            assert max(timings) < 3.0, timings
            for response in stalled:
                await response.aclose()
    finally:
        await asyncio.to_thread(svc.stop)


async def test_hanging_webhook_receivers_do_not_slow_writes(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A receiver that accepts and never answers: deliveries wait in the queue while
    submissions keep their pace."""
    hold: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hold.append(writer)  # keep the socket open, say nothing

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    svc = Service(
        fault_db.url, tmp_path / "service.log", extra_env={"BORDERMARK_WEBHOOK_WORKER": "true"}
    )
    await asyncio.to_thread(svc.start)
    try:
        auth = {"Authorization": f"Bearer {tokens.admin}"}
        async with httpx.AsyncClient(base_url=svc.base, timeout=60) as http:
            sub = await http.post(
                "/api/v1/webhooks",
                json={"url": f"http://127.0.0.1:{port}/hook", "event_types": ["incident.created"]},
                headers=auth,
            )
            assert sub.status_code == 201, sub.text
            run = f"hook-{uuid.uuid4().hex[:8]}"
            # First get a delivery hanging on the receiver, then time writes behind it.
            first = await http.post("/api/v1/incidents", json=incident(99, run), headers=auth)
            assert first.status_code == 201, first.text
            for _ in range(100):
                if hold:
                    break
                await asyncio.sleep(0.1)
            assert hold, "the worker never called the receiver"
            timings = []
            for i in range(30):
                started = time.monotonic()
                r = await http.post("/api/v1/incidents", json=incident(i, run), headers=auth)
                timings.append(time.monotonic() - started)
                assert r.status_code == 201
            assert max(timings) < 3.0, timings
            await http.patch(
                f"/api/v1/webhooks/{sub.json()['id']}", json={"active": False}, headers=auth
            )
    finally:
        await asyncio.to_thread(svc.stop)
        for writer in hold:
            writer.close()
        server.close()


async def test_sigterm_finishes_in_flight_requests(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Graceful shutdown: a streamed export under way when SIGTERM arrives is finished in
    full, then the process exits cleanly."""
    import json
    import signal

    svc = Service(fault_db.url, tmp_path / "service.log")
    await asyncio.to_thread(svc.start)
    assert svc.process is not None
    auth = {"Authorization": f"Bearer {tokens.admin}"}
    async with httpx.AsyncClient(base_url=svc.base, timeout=60) as http:
        request = http.build_request(
            "GET", "/api/v1/exports/markers", params={"format": "geojson"}, headers=auth
        )
        response = await http.send(request, stream=True)
        chunks = response.aiter_bytes()
        body = await chunks.__anext__()
        svc.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        async for chunk in chunks:
            body += chunk
        assert response.status_code == 200
    markers = json.loads(body)["features"]
    assert len(markers) > 2000  # the whole register, not a truncated stream
    # uvicorn re-raises the signal once it has shut down cleanly (so the parent sees why).
    assert await asyncio.to_thread(svc.process.wait, 30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in svc.log.read_text()
