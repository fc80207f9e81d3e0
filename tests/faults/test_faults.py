"""The fault suite: real uvicorn processes and a real PostgreSQL cluster, hurt on purpose.
Every report acknowledged (201 or 200) is stored exactly once; retries through cut
connections, a kill -9 of the service and a database outage never double a report; no 5xx
but 503 with Retry-After while the database is down. `make soak` runs it ten times larger."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import Tokens
from tests.faults.conftest import (
    BATCH,
    SCALE,
    FaultDatabase,
    Ledger,
    Service,
    incident,
    ready_again,
    stored,
    storm,
    sync_until_acknowledged,
)

# Batches of 250 are stored in two parts at once (intake.submit_batch_and_commit), whatever the
# defaults become: the tests below are about a batch whose parts commit apart.
IN_PARTS = {"BORDERMARK_BATCH_PARTS": "2", "BORDERMARK_BATCH_PART_MIN_ITEMS": "100"}


def check_exactly_once(
    ledger: Ledger, rows: dict[str, int], created: int, bodies: list[dict]
) -> None:  # type: ignore[type-arg]
    assert ledger.unexpected == []
    sent = {b["id"] for b in bodies}
    assert set(ledger.acked) == sent  # every report was acknowledged in the end
    assert set(rows) == sent  # every acknowledged report is stored
    # Once each: an id is a key, so a second row cannot exist; a second "created" in the
    # history could, and is what a double store would leave.
    assert created == len(sent)


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
    await ledger.wait_for_acknowledgements(80 * SCALE, load)
    service.kill9()
    killed_at = time.monotonic()
    acknowledged_before_crash = ledger.acknowledged_by(killed_at)
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


async def test_kill_9_during_batch_syncs_in_parts(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path: Path
) -> None:
    """Apps coming back online sync batches of 250 while the service is killed: a batch in
    flight may have had one part committed and not the other, and no answer. Its resend
    must find the stored part as duplicates and store the rest; every item answered is
    stored once."""
    svc = Service(fault_db.url, tmp_path / "service.log", extra_env=IN_PARTS)
    await asyncio.to_thread(svc.start)
    try:
        run = f"sync-{uuid.uuid4().hex[:8]}"
        batches = [[incident(b * 250 + i, run) for i in range(250)] for b in range(10 * SCALE)]
        waiting = list(batches)
        ledger = Ledger()

        async def field_app(http: httpx.AsyncClient) -> None:
            while waiting:
                await sync_until_acknowledged(http, waiting.pop(), tokens.admin, ledger)

        async def apps() -> None:
            async with httpx.AsyncClient(base_url=svc.base) as http:
                await asyncio.gather(*(field_app(http) for _ in range(4)))

        load = asyncio.create_task(apps())
        await ledger.wait_for_acknowledgements(500, load)
        svc.kill9()
        killed_at = time.monotonic()
        acknowledged_before_crash = ledger.acknowledged_by(killed_at)
        rows_at_crash, _ = await stored(fault_db.url, run)
        in_part = sum(0 < sum(b["id"] in rows_at_crash for b in batch) < 250 for batch in batches)
        assert not load.done()  # the apps keep retrying while the service is gone
        await asyncio.to_thread(svc.start)
        await asyncio.wait_for(load, timeout=300)
        rows, created = await stored(fault_db.url, run)
        assert acknowledged_before_crash <= set(rows)  # nothing acknowledged was lost
        check_exactly_once(ledger, rows, created, [b for batch in batches for b in batch])
        print(
            f"kill -9 during batch syncs: {len(acknowledged_before_crash)} items acknowledged "
            f"before the crash, {in_part} batch(es) stored in part at the crash, "
            f"{len(rows)} stored once each"
        )
    finally:
        await asyncio.to_thread(svc.stop)


@pytest.mark.parametrize("lost", ["its connection cut", "the service killed"])
async def test_a_batch_with_one_part_committed_and_one_lost_is_resent_to_exactly_once(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path: Path, lost: str
) -> None:
    """One part of a batch commits while the other is lost midway: a trigger holds one
    report of the second part in its insert, then the test ends that part's backend, or
    kills the service with -9 once the first part is stored (and then ends the orphaned
    backend, as PostgreSQL would on its next write). Cut off, the answer is a 503 to retry;
    killed, no answer comes. Either way the first part stays stored whole and the second
    not at all, and the resent batch answers the first as duplicates and stores the
    second: each report once, audited once."""
    svc = Service(fault_db.url, tmp_path / "service.log", extra_env=IN_PARTS)
    await asyncio.to_thread(svc.start)
    run = f"part-{uuid.uuid4().hex[:8]}"
    bodies = [incident(i, run) for i in range(250)]
    second_part = {b["id"] for b in bodies if uuid.UUID(b["id"]).int % 2 == 1}
    first_part = {b["id"] for b in bodies} - second_part
    held = next(b for b in bodies if b["id"] in second_part)
    held["properties"]["title"] = f"{run} giữ lại"
    auth = {"Authorization": f"Bearer {tokens.admin}"}
    conn = await asyncpg.connect(fault_db.url)
    trigger = f"hold_{run.replace('-', '_')}"
    try:
        await conn.execute(f"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS
              $$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$;
            CREATE TRIGGER {trigger} BEFORE INSERT ON incidents FOR EACH ROW
              WHEN (NEW.title = '{held["properties"]["title"]}') EXECUTE FUNCTION {trigger}();
        """)  # fmt: skip
        async with httpx.AsyncClient(base_url=svc.base, timeout=90) as http:
            sending = asyncio.create_task(http.post(BATCH, json={"features": bodies}, headers=auth))
            deadline = time.monotonic() + 30
            while (pid := await conn.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                "AND application_name = 'bordermark'"
            )) is None or (lost == "the service killed" and len(
                (await stored(fault_db.url, run))[0]) < len(first_part)
            ):  # fmt: skip
                assert time.monotonic() < deadline, "the parts never reached that point"
                await asyncio.sleep(0.02)
            if lost == "the service killed":
                svc.kill9()
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
            if lost == "the service killed":
                with pytest.raises(httpx.TransportError):
                    await sending
                await asyncio.to_thread(svc.start)
            else:
                cut = await sending
                assert cut.status_code == 503, cut.text
                assert cut.headers["content-type"].startswith("application/problem+json")
                assert "retry-after" in cut.headers
            rows, created = await stored(fault_db.url, run)
            assert set(rows) == first_part and created == len(first_part)

            await conn.execute(f"DROP TRIGGER {trigger} ON incidents")
            resent = await http.post(BATCH, json={"features": bodies}, headers=auth)
            assert resent.status_code == 200, resent.text
            outcomes = {x["id"]: x["result"] for x in resent.json()["results"]}
            assert outcomes == {
                b["id"]: "created" if b["id"] in second_part else "duplicate" for b in bodies
            }
        rows, created = await stored(fault_db.url, run)
        assert rows == {b["id"]: 1 for b in bodies} and created == len(bodies)
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'incident.create' "
            "AND entity_id = ANY($1::text[])",
            [b["id"] for b in bodies],
        )
        assert audited == len(bodies)  # the lost part left no audit entry behind
    finally:
        await conn.execute(f"DROP TRIGGER IF EXISTS {trigger} ON incidents")
        await conn.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
        await conn.close()
        await asyncio.to_thread(svc.stop)


async def test_database_outage_is_503_then_recovers_without_restart(
    service: Service, fault_db: FaultDatabase, tokens: Tokens
) -> None:
    run = f"outage-{uuid.uuid4().hex[:8]}"
    bodies = [incident(i, run) for i in range(200 * SCALE)]
    ledger = Ledger()
    pid = service.process.pid if service.process else None
    load = asyncio.create_task(storm(service.base, tokens.admin, bodies, ledger, clients=8))
    await ledger.wait_for_acknowledgements(40 * SCALE, load)
    await asyncio.to_thread(fault_db.cluster.stop, "fast")
    try:
        # A 10 s deadline per request: the answer is bounded by the connect timeout; a
        # hang raises ReadTimeout and fails the test.
        async with httpx.AsyncClient(base_url=service.base, timeout=10) as http:
            ready = await http.get("/readyz")
            post = await http.post(
                "/api/v1/incidents",
                json=incident(0, run + "-probe"),
                headers={"Authorization": f"Bearer {tokens.admin}"},
            )
        assert ready.status_code == 503
        assert post.status_code == 503 and "retry-after" in post.headers
        body = post.json()
        assert body["status"] == 503 and "Traceback" not in post.text
        await asyncio.sleep(2)
    finally:
        await asyncio.to_thread(fault_db.cluster.start)
    back = time.monotonic()
    await ready_again(service.base, back, 20, "the service did not recover by itself")
    await asyncio.wait_for(load, timeout=300)
    assert service.process is not None and service.process.pid == pid  # no restart
    rows, created = await stored(fault_db.url, run)
    check_exactly_once(ledger, rows, created, bodies)
    assert ledger.unavailable > 0  # clients did meet the outage


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
            # Each submission within a 5 s deadline (a starved one times out and fails).
            for i in range(20):
                r = await http.post(
                    "/api/v1/incidents", json=incident(i, run), headers=auth, timeout=5
                )
                assert r.status_code == 201, r.text
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
            # Each write within a 5 s deadline while the delivery hangs (the receiver
            # never answers; a write waiting on it would time out and fail).
            for i in range(30):
                r = await http.post(
                    "/api/v1/incidents", json=incident(i, run), headers=auth, timeout=5
                )
                assert r.status_code == 201
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
