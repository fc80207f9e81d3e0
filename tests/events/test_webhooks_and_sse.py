"""Webhooks to a real HTTP receiver on loopback (signed, retried with backoff from the
queue in PostgreSQL, disabled after repeated failure) and the server-sent events stream."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from app.config import Environment
from app.events import delivery
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, off_line, point


class Receiver:
    """A tiny ASGI app that records what it receives and answers with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.delay_s = 0.0
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append((headers, body))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    app = Receiver()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30  # ends a stuck start-up only
    while not server.started:
        assert not task.done() and time.monotonic() < deadline, "the receiver did not start"
        await asyncio.sleep(0.02)
    yield app, f"http://127.0.0.1:{port}/hook"
    server.should_exit = True
    await task


def test_signature_round_trip() -> None:
    body = b'{"id": 1}'
    header = delivery.signature_header("s3cret-s3cret-s3cret", body, timestamp=1_700_000_000)
    # The documented recipe, computed here with hashlib rather than by the service's code.
    expected = hmac.new(b"s3cret-s3cret-s3cret", b'1700000000.{"id": 1}', hashlib.sha256)
    assert header == f"t=1700000000,v1={expected.hexdigest()}"
    header = delivery.signature_header("s3cret-s3cret-s3cret", body)
    assert delivery.verify("s3cret-s3cret-s3cret", header, body)
    assert not delivery.verify("s3cret-s3cret-s3cret", header, body + b" ")
    assert not delivery.verify("another-secret-value", header, body)
    stale = delivery.signature_header(
        "s3cret-s3cret-s3cret", body, timestamp=int(time.time()) - 3600
    )
    assert not delivery.verify("s3cret-s3cret-s3cret", stale, body)


async def _subscribe(client, tokens: Tokens, url: str, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": ["incident.created", "incident.transitioned"], **extra},
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _incident(client, tokens: Tokens) -> str:  # type: ignore[no-untyped-def]
    lon, lat = await off_line(client, tokens.admin, "1089+300", 20, "VN")
    r = await client.post(
        "/api/v1/incidents", json=feature(geometry=point(lon, lat)), headers=bearer(tokens.reporter)
    )
    assert r.status_code == 201
    return str(r.json()["id"])


async def test_signed_delivery(client, tokens: Tokens, receiver) -> None:  # type: ignore[no-untyped-def]
    app, url = receiver
    sub = await _subscribe(client, tokens, url, province="lang-son")
    incident_id = await _incident(client, tokens)
    assert app.received == []  # nothing is sent from the request that wrote
    async with httpx.AsyncClient() as http:
        assert await delivery.deliver_due(client._transport.app.state.sessionmaker, http) == 1
    headers, body = app.received[0]
    assert delivery.verify(sub["secret"], headers["x-bordermark-signature"], body)
    # As a receiver checks it, by the documented recipe and Python's own hmac (not the
    # service's code): v1 = hex HMAC-SHA256(secret, "<t>.<body>"), t within 5 minutes.
    fields = dict(p.split("=", 1) for p in headers["x-bordermark-signature"].split(","))
    recipe = hmac.new(
        sub["secret"].encode(), fields["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(recipe, fields["v1"])
    assert abs(time.time() - int(fields["t"])) < 300
    event = json.loads(body)
    assert event["type"] == "incident.created" and event["data"]["id"] == incident_id
    assert (
        event["data"]["province"] == "lang-son"
        and headers["x-bordermark-event"] == "incident.created"
    )
    log = await client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=bearer(tokens.admin))
    assert (
        log.json()["deliveries"][0] | {"state": "delivered", "attempts": 1, "last_status_code": 200}
        == log.json()["deliveries"][0]
    )
    # Filters: a Cao Bằng-only subscription gets nothing from Lạng Sơn.
    other = await _subscribe(client, tokens, url, province="cao-bang")
    await _incident(client, tokens)
    log = await client.get(
        f"/api/v1/webhooks/{other['id']}/deliveries", headers=bearer(tokens.admin)
    )
    assert log.json()["deliveries"] == []


async def test_retry_with_backoff_after_the_receiver_fails(
    client, db, tokens: Tokens, receiver
) -> None:  # type: ignore[no-untyped-def]
    app, url = receiver
    sub = await _subscribe(client, tokens, url)
    await _incident(client, tokens)
    sessionmaker = client._transport.app.state.sessionmaker
    app.status = 503
    async with httpx.AsyncClient() as http:
        assert await delivery.deliver_due(sessionmaker, http) == 1
        row = (
            await db.execute(
                text(
                    "SELECT state, attempts, next_attempt_at > now() + interval '4 seconds' FROM webhook_deliveries WHERE subscription_id = :s"
                ),
                {"s": sub["id"]},
            )
        ).one()
        assert tuple(row) == ("pending", 1, True)  # backed off, not retried at once
        assert await delivery.deliver_due(sessionmaker, http) == 0
    # Later (a new process, a new client: the queue is the database), the receiver is back.
    await db.execute(
        text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE subscription_id = :s"),
        {"s": sub["id"]},
    )
    app.status = 200
    async with httpx.AsyncClient() as http:
        assert await delivery.deliver_due(sessionmaker, http) == 1
    state = (
        await db.execute(
            text("SELECT state, attempts FROM webhook_deliveries WHERE subscription_id = :s"),
            {"s": sub["id"]},
        )
    ).one()
    assert tuple(state) == ("delivered", 2)
    assert len(app.received) == 2


async def test_backoff_doubles_to_its_cap_then_the_delivery_dies(
    client, db, tokens: Tokens, receiver, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The documented schedule, written out here: 5 s after the first failure, doubling,
    never more than an hour; dead once its attempts are spent. Twelve attempts (instead of
    ten) so that the cap is reached. Every attempt carries the same X-Bordermark-Delivery,
    the id a receiver deduplicates on."""
    app, url = receiver
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 12)
    sub = await _subscribe(client, tokens, url)
    await _incident(client, tokens)
    app.status = 503
    sessionmaker = client._transport.app.state.sessionmaker
    waits = []
    query = text(
        "SELECT state, attempts, next_attempt_at FROM webhook_deliveries WHERE subscription_id = :s"
    )
    async with httpx.AsyncClient() as http:
        for _ in range(12):
            before = datetime.now(UTC)
            assert await delivery.deliver_due(sessionmaker, http) == 1
            state, attempts, due = (await db.execute(query, {"s": sub["id"]})).one()
            waits.append(round((due - before).total_seconds()) if state == "pending" else state)
            await db.execute(
                text(
                    "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE subscription_id = :s"
                ),
                {"s": sub["id"]},
            )
    assert waits == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, "dead"]
    assert attempts == 12 and len(app.received) == 12
    ids = {headers["x-bordermark-delivery"] for headers, _ in app.received}
    assert len(ids) == 1 and ids.pop().isdigit()


async def test_a_burst_of_failures_does_not_disable(client, tokens: Tokens, receiver) -> None:  # type: ignore[no-untyped-def]
    """Twenty deliveries failing in one round are one bad moment, not a dead receiver: only
    deliveries that die (all their attempts spent) count against the subscription."""
    app, url = receiver
    sub = await _subscribe(client, tokens, url)
    for _ in range(20):
        await _incident(client, tokens)
    app.status = 500
    async with httpx.AsyncClient() as http:
        await delivery.deliver_due(client._transport.app.state.sessionmaker, http)
    listed = await client.get("/api/v1/webhooks", headers=bearer(tokens.admin))
    mine = next(w for w in listed.json()["webhooks"] if w["id"] == sub["id"])
    assert mine["active"] is True and mine["consecutive_failures"] == 0
    assert len(app.received) == 20  # each was tried, and each waits for its retry


async def test_disabled_after_dead_deliveries_then_what_waited_is_sent(
    client, db, tokens: Tokens, receiver, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    app, url = receiver
    monkeypatch.setattr(delivery, "DISABLE_AFTER", 3)
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 1)  # each failure kills its delivery
    sub = await _subscribe(client, tokens, url)
    for _ in range(3):
        await _incident(client, tokens)
    app.status = 500
    sessionmaker = client._transport.app.state.sessionmaker
    async with httpx.AsyncClient() as http:
        await delivery.deliver_due(sessionmaker, http)
    listed = await client.get("/api/v1/webhooks", headers=bearer(tokens.admin))
    mine = next(w for w in listed.json()["webhooks"] if w["id"] == sub["id"])
    assert mine["active"] is False and "3 consecutive dead" in mine["disabled_reason"]
    # Events while it is disabled are kept for it, not dropped, and not sent.
    while_disabled = [(await _incident(client, tokens)) for _ in range(2)]
    app.received.clear()
    app.status = 200
    async with httpx.AsyncClient() as http:
        assert await delivery.deliver_due(sessionmaker, http) == 0
    assert app.received == []
    again = await client.patch(
        f"/api/v1/webhooks/{sub['id']}", json={"active": True}, headers=bearer(tokens.admin)
    )
    assert again.json()["active"] is True and again.json()["consecutive_failures"] == 0
    async with httpx.AsyncClient() as http:
        assert await delivery.deliver_due(sessionmaker, http) == 2
    sent = {json.loads(body)["data"]["id"] for _, body in app.received}
    assert sent == set(while_disabled)


async def test_webhooks_are_admin_only(client, tokens: Tokens) -> None:
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/x", "event_types": ["incident.created"]},
        headers=bearer(tokens.officer),
    )
    assert r.status_code == 403
    # Refused for who it is before what it sent: an officer's bad body is a 403 too.
    unsent = await client.post(
        "/api/v1/webhooks", json={"nonsense": True}, headers=bearer(tokens.officer)
    )
    assert unsent.status_code == 403
    bad = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/x", "event_types": ["nope"]},
        headers=bearer(tokens.admin),
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost:8000/x",
        "http://10.1.2.3/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
    ],
)
async def test_webhooks_to_non_public_addresses_are_refused_in_production(
    client_with, tokens: Tokens, url: str
) -> None:  # type: ignore[no-untyped-def]
    async with client_with(env=Environment.production) as c:
        r = await c.post(
            "/api/v1/webhooks",
            json={"url": url, "event_types": ["incident.created"]},
            headers={**bearer(tokens.admin), "Host": "localhost"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "url"
        listed = await c.get(
            "/api/v1/webhooks", headers={**bearer(tokens.admin), "Host": "localhost"}
        )
        assert url not in [s["url"] for s in listed.json()["webhooks"]]


async def test_active_subscriptions_are_capped(client_with, tokens: Tokens) -> None:  # type: ignore[no-untyped-def]
    async with client_with(webhook_max_subscriptions=3) as c:
        listed = await c.get("/api/v1/webhooks", headers=bearer(tokens.admin))
        active = sum(1 for s in listed.json()["webhooks"] if s["active"])
        codes = []
        for i in range(max(0, 3 - active) + 2):
            r = await c.post(
                "/api/v1/webhooks",
                json={"url": f"http://127.0.0.1:9/{i}", "event_types": ["incident.created"]},
                headers=bearer(tokens.admin),
            )
            codes.append(r.status_code)
        assert codes == [201] * max(0, 3 - active) + [409, 409]


async def test_a_target_that_turns_private_fails_its_delivery_unsent(
    client, tokens: Tokens
) -> None:
    """Checked again at delivery: a subscription made while allowed (or a name re-pointed
    since) is not posted to once private targets are refused."""
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200)

    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["incident.created"]},
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 201
    await _incident(client, tokens)
    sessionmaker = client._transport.app.state.sessionmaker
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        assert await delivery.deliver_due(sessionmaker, http, allow_private=False) >= 1
    assert seen == []
    log = await client.get(
        f"/api/v1/webhooks/{r.json()['id']}/deliveries", headers=bearer(tokens.admin)
    )
    assert "non-public" in log.json()["deliveries"][0]["last_error"]


def _events(body: str) -> list[dict[str, Any]]:
    events = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.splitlines()
            if ": " in line and not line.startswith(":")
        )
        if "id" in fields:
            events.append(
                {
                    "id": int(fields["id"]),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return events


async def test_sse_stream_and_resume(client, db, tokens: Tokens) -> None:
    start = int((await db.execute(text("SELECT coalesce(max(id), 0) FROM events"))).scalar_one())
    first = await _incident(client, tokens)
    await client.post(
        f"/api/v1/incidents/{first}/transitions",
        json={"to": "verified"},
        headers=bearer(tokens.officer),
    )
    second = await _incident(client, tokens)
    r = await client.get(
        "/api/v1/events", params={"after": start, "limit": 2}, headers=bearer(tokens.analyst)
    )
    assert r.headers["content-type"].startswith("text/event-stream")
    got = _events(r.text)
    assert [(e["event"], e["data"]["data"]["id"]) for e in got] == [
        ("incident.created", first),
        ("incident.transitioned", first),
    ]
    resumed = await client.get(
        "/api/v1/events",
        params={"limit": 1},
        headers={**bearer(tokens.analyst), "Last-Event-ID": str(got[-1]["id"])},
    )
    assert [e["data"]["data"]["id"] for e in _events(resumed.text)] == [second]
    # Out of scope: a Cao Bằng officer does not see Lạng Sơn events.
    hidden = await client.get(
        "/api/v1/events",
        params={"after": start, "idle_timeout": 1},
        headers=bearer(tokens.officer_other),
    )
    assert hidden.status_code == 200 and _events(hidden.text) == []
    bad = await client.get(
        "/api/v1/events", headers={**bearer(tokens.analyst), "Last-Event-ID": "abc"}
    )
    assert bad.status_code == 422


async def test_sse_limit_alone_reads_the_latest_and_closes(client, db, tokens: Tokens) -> None:
    """`?limit=3` is what a script types to see three events: it must answer at once with
    the three latest the caller may see, oldest first, not wait for three new ones."""
    for _ in range(4):
        await _incident(client, tokens)
    latest = [
        r[0]
        for r in (await db.execute(text("SELECT id FROM events ORDER BY id DESC LIMIT 3"))).all()
    ]
    r = await client.get("/api/v1/events", params={"limit": 3}, headers=bearer(tokens.analyst))
    assert [e["id"] for e in _events(r.text)] == sorted(latest)
    # A Cao Bằng officer gets Cao Bằng's latest, none of these Lạng Sơn ones; it closes.
    other = await client.get(
        "/api/v1/events", params={"limit": 3}, headers=bearer(tokens.officer_other)
    )
    seen = _events(other.text)
    assert other.status_code == 200 and 0 < len(seen) <= 3
    assert not {e["id"] for e in seen} & set(latest)


async def test_a_subscription_is_deleted_with_its_deliveries(client, db, tokens: Tokens) -> None:
    sub = await _subscribe(client, tokens, "http://127.0.0.1:9/gone")
    await _incident(client, tokens)
    queued = await db.execute(
        text("SELECT count(*) FROM webhook_deliveries WHERE subscription_id = :id"),
        {"id": sub["id"]},
    )
    assert queued.scalar_one() == 1
    officer = await client.delete(f"/api/v1/webhooks/{sub['id']}", headers=bearer(tokens.officer))
    assert officer.status_code == 403
    gone = await client.delete(f"/api/v1/webhooks/{sub['id']}", headers=bearer(tokens.admin))
    assert gone.status_code == 204
    left = await db.execute(
        text("SELECT count(*) FROM webhook_deliveries WHERE subscription_id = :id"),
        {"id": sub["id"]},
    )
    assert left.scalar_one() == 0
    listed = await client.get("/api/v1/webhooks", headers=bearer(tokens.admin))
    assert sub["id"] not in {w["id"] for w in listed.json()["webhooks"]}
    again = await client.delete(f"/api/v1/webhooks/{sub['id']}", headers=bearer(tokens.admin))
    assert again.status_code == 404
    audited = await db.execute(
        text("SELECT detail->>'url' FROM audit_log WHERE action = 'webhook.delete' "
             "AND entity_id = :id"),
        {"id": sub["id"]},
    )  # fmt: skip
    assert audited.scalar_one() == "http://127.0.0.1:9/gone"


async def test_disabled_by_an_admin_sends_nothing_more(client, db, tokens: Tokens) -> None:
    sub = await _subscribe(client, tokens, "http://127.0.0.1:9/off")
    await _incident(client, tokens)
    off = await client.patch(
        f"/api/v1/webhooks/{sub['id']}", json={"active": False}, headers=bearer(tokens.admin)
    )
    assert off.status_code == 200
    states = await db.execute(
        text("SELECT state, last_error FROM webhook_deliveries WHERE subscription_id = :id"),
        {"id": sub["id"]},
    )
    assert [(state, "disabled by an admin" in err) for state, err in states.all()] == [
        ("dead", True)
    ]


async def test_sse_pushes_a_live_event_of_the_type_asked(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A client connected before the event gets it pushed (a real server, committed writes):
    with `type=incident.transitioned` the creation is not sent, the transition is, and
    `limit=1` closes the stream after it."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.conftest import app_on, serving

    engine = create_async_engine(scratch_url)
    async with engine.connect() as conn:
        start = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM events"))).scalar_one()
    await engine.dispose()
    async with (
        serving(app_on(scratch_url, tmp_path)) as base,
        httpx.AsyncClient(base_url=base, headers=bearer(tokens.analyst), timeout=30) as http,
    ):
        params = {"after": start, "type": "incident.transitioned", "limit": 1,
                  "idle_timeout": 20}  # fmt: skip
        async with http.stream("GET", "/api/v1/events", params=params) as stream:
            assert stream.status_code == 200
            writer = httpx.AsyncClient(base_url=base, headers=bearer(tokens.admin), timeout=30)
            async with writer:
                created = await writer.post(
                    "/api/v1/incidents", json=feature(location="VN-CN:1089+333")
                )
                assert created.status_code == 201, created.text
                moved = await writer.post(
                    f"/api/v1/incidents/{created.json()['id']}/transitions",
                    json={"to": "verified"},
                )
                assert moved.status_code == 200, moved.text
            body = await asyncio.wait_for(stream.aread(), timeout=30)
    got = _events(body.decode())
    assert [e["event"] for e in got] == ["incident.transitioned"]
    assert got[0]["data"]["data"]["id"] == created.json()["id"]


async def test_a_hanging_receiver_does_not_hold_back_writes(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Deliveries run in the served app's own worker, apart from the requests: while the
    worker waits on a receiver that accepts and never answers, reports are acknowledged,
    all of them before that delivery has ended (an order, not a clock)."""
    from tests.conftest import app_on, serving

    opened, ended = asyncio.Event(), asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.set()
        await reader.read()  # until the worker gives up and closes (its 10 s timeout)
        ended.set()
        writer.close()

    hung = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = hung.sockets[0].getsockname()[1]
    app = app_on(scratch_url, tmp_path, webhook_worker=True, webhook_private_targets=True)
    async with (
        hung,
        serving(app) as base,
        httpx.AsyncClient(base_url=base, headers=bearer(tokens.admin), timeout=30) as http,
    ):
        sub = await http.post(
            "/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hook", "event_types": ["incident.created"]},
        )
        assert sub.status_code == 201, sub.text
        try:
            first = await http.post("/api/v1/incidents", json=feature(location="VN-CN:1089+340"))
            assert first.status_code == 201, first.text
            await asyncio.wait_for(opened.wait(), timeout=30)  # the worker is now held
            for n in range(10):
                later = await http.post(
                    "/api/v1/incidents", json=feature(location=f"VN-CN:1089+{350 + n}")
                )
                assert later.status_code == 201, later.text
            assert not ended.is_set(), "the writes waited for the hung delivery"
        finally:
            await http.delete(f"/api/v1/webhooks/{sub.json()['id']}")
