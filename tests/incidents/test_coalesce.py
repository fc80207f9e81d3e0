"""Concurrent POSTs stored together (app/incidents/coalesce.py), against the scratch
database (the coalescer commits for real): each request gets its own outcome or refusal,
callers of different areas share a group, a value PostgreSQL refuses sinks only its own
submission, nothing waits forever when the service stops, and through the HTTP server
the POSTs are grouped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.auth.caller import Caller
from app.auth.tokens import resolve_token
from app.db import create_sessionmaker
from app.errors import INVALID_DATA_DETAIL, Conflict, Forbidden, InvalidInput
from app.incidents.coalesce import SubmissionCoalescer
from app.incidents.intake import SubmitOutcome
from app.incidents.schemas import IncidentSubmission
from tests.conftest import Tokens, app_on, bearer, serving
from tests.incidents.helpers import feature


@pytest.fixture
async def scratch_engine(scratch_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(scratch_url)
    yield engine
    await engine.dispose()


async def _caller(engine: AsyncEngine, token: str) -> Caller:
    async with create_sessionmaker(engine)() as session:
        caller = await resolve_token(session, token, remote_addr=None)
    assert caller is not None
    return caller


async def _one_group(
    coalescer: SubmissionCoalescer, sent: list[tuple[Caller, dict[str, Any]]]
) -> list[SubmitOutcome | BaseException]:
    """Queue every submission before the coalescer starts: its first group holds them all."""
    waiting = [
        asyncio.create_task(
            coalescer.submit(
                caller=caller, submission=IncidentSubmission.model_validate(body), crs_param=None
            )
        )
        for caller, body in sent
    ]
    await asyncio.sleep(0.05)  # every submission is in the queue
    runner = asyncio.create_task(coalescer.run())
    try:
        return list(await asyncio.gather(*waiting, return_exceptions=True))
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_a_group_answers_each_submission_with_its_own_outcome(
    scratch_engine: AsyncEngine, tokens: Tokens
) -> None:
    reporter = await _caller(scratch_engine, tokens.reporter)  # Văn Lãng, Lạng Sơn
    cao_bang = await _caller(scratch_engine, tokens.officer_other)  # Cao Bằng province
    stored = feature(location="VN-CN:1089+40", title="đã lưu")
    coalescer = SubmissionCoalescer(create_sessionmaker(scratch_engine), max_vertices=10_000)
    first = await _one_group(coalescer, [(reporter, stored)])
    assert first == [SubmitOutcome("created", uuid.UUID(stored["id"]))]

    fresh = feature(location="VN-CN:1089+60", title="mới")
    theirs = feature(location="VN-CN:836(2)+300", title="của Cao Bằng")
    sent = [
        (reporter, fresh),
        (reporter, stored),  # sent before: a duplicate
        (reporter, {**stored, "properties": {**stored["properties"], "title": "khác"}}),
        (reporter, feature(location="VN-CN:1089+80", category="ufo")),
        (reporter, feature(location="VN-CN:836(2)+310")),  # outside Văn Lãng
        (cao_bang, theirs),  # another caller, another area, the same group
        (reporter, feature(location="VN-CN:1089+90", title="NUL\x00 ở giữa")),
    ]
    groups_before = coalescer.groups
    answers = await _one_group(coalescer, sent)
    assert coalescer.groups == groups_before + 1
    assert answers[0] == SubmitOutcome("created", uuid.UUID(fresh["id"]))
    assert answers[1] == SubmitOutcome("duplicate", uuid.UUID(stored["id"]))
    assert isinstance(answers[2], Conflict)
    assert isinstance(answers[3], InvalidInput) and "ufo" in answers[3].detail
    assert isinstance(answers[4], Forbidden)
    assert answers[5] == SubmitOutcome("created", uuid.UUID(theirs["id"]))
    # PostgreSQL refused the NUL: the group was stored one by one, and only it failed.
    assert isinstance(answers[6], InvalidInput) and answers[6].detail == INVALID_DATA_DETAIL
    async with scratch_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id::text, created_by_token_id, district_code FROM incidents "
                 "WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [body["id"] for _, body in sent]},
        )  # fmt: skip
        by_id = {r[0]: (r[1], r[2]) for r in rows}
    # Stored: the earlier one, the fresh one and Cao Bằng's, each under its own sender.
    assert set(by_id) == {stored["id"], fresh["id"], theirs["id"]}
    assert by_id[fresh["id"]][0] == reporter.token_id
    assert by_id[theirs["id"]][0] == cao_bang.token_id


async def test_the_events_of_a_group_tell_each_incident_as_stored(
    scratch_engine: AsyncEngine, tokens: Tokens
) -> None:
    """The insert returns what the events tell (bulk.EVENT_COLUMNS), so no read follows it:
    each event must still carry its own incident's stored context, border and province."""
    reporter = await _caller(scratch_engine, tokens.reporter)  # Lạng Sơn
    cao_bang = await _caller(scratch_engine, tokens.officer_other)
    sent = [
        (reporter, feature(location="VN-CN:1089+120", title="sự kiện một")),
        (cao_bang, feature(location="VN-CN:836(2)+250", title="sự kiện hai", severity="high")),
    ]
    coalescer = SubmissionCoalescer(create_sessionmaker(scratch_engine), max_vertices=10_000)
    answers = await _one_group(coalescer, sent)
    assert [a.result for a in answers if isinstance(a, SubmitOutcome)] == ["created"] * 2
    ids = [body["id"] for _, body in sent]
    async with scratch_engine.connect() as conn:
        stored = {
            r["id"]: r
            for r in (
                await conn.execute(
                    text(
                        "SELECT i.id::text AS id, i.title, i.category, i.status, i.severity, "
                        "i.occurred_at, i.province_code, i.district_code, i.commune_code, "
                        "i.chainage_ref, "
                        "i.side, b.code AS border FROM incidents i "
                        "JOIN borders b ON b.id = i.border_id "
                        "WHERE i.id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    {"ids": ids},
                )
            ).mappings()
        }
        events = {
            r[0]["id"]: r
            for r in await conn.execute(
                text(
                    "SELECT payload, border, province_code, category FROM events "
                    "WHERE type = 'incident.created' AND payload->>'id' = ANY(:ids)"
                ),
                {"ids": ids},
            )
        }
    assert set(events) == set(ids)
    for incident_id, (payload, border, province, category) in events.items():
        row = stored[incident_id]
        assert row["province_code"] and row["chainage_ref"]  # the context was computed
        told = {"title": "title", "category": "category", "status": "status",
                "severity": "severity", "border": "border", "province": "province_code",
                "district": "district_code", "commune": "commune_code",
                "chainage_ref": "chainage_ref", "side": "side"}  # fmt: skip
        assert {key: payload[key] for key in told} == {k: row[c] for k, c in told.items()}
        assert payload["occurred_at"] == row["occurred_at"].isoformat()
        assert payload["id"] == incident_id and set(payload) == {*told, "id", "href", "occurred_at"}
        assert (border, province, category) == (row["border"], row["province_code"], "fence")
    assert {stored[i]["province_code"] for i in ids} == {"lang-son", "cao-bang"}


@pytest.mark.parametrize("rounds", [0, 10])
async def test_under_load_a_submission_on_its_way_joins_the_group(
    scratch_engine: AsyncEngine, tokens: Tokens, rounds: int
) -> None:
    """After a group of more than one, the coalescer lets the event loop run before it
    closes the next group: a submission a few rounds behind (a request still being parsed)
    joins it; without those rounds it would wait for a group of its own."""
    reporter = await _caller(scratch_engine, tokens.reporter)
    coalescer = SubmissionCoalescer(
        create_sessionmaker(scratch_engine), max_vertices=10_000, gather_rounds=rounds
    )

    def send(metres: int) -> Any:
        body = feature(location=f"VN-CN:1089+{metres}", title=f"đang tới {metres}")
        return coalescer.submit(
            caller=reporter, submission=IncidentSubmission.model_validate(body), crs_param=None
        )

    async def behind(metres: int) -> SubmitOutcome:
        for _ in range(3):  # still on its way: routing, dependencies, the body
            await asyncio.sleep(0)
        return await send(metres)

    runner = asyncio.create_task(coalescer.run())
    try:
        # Queued together: the first group holds both, so the service is under load.
        await asyncio.gather(*(send(m) for m in (310, 320)))
        groups = coalescer.groups
        answers = await asyncio.gather(send(330), behind(340))
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert [a.result for a in answers] == ["created", "created"]
    assert coalescer.groups - groups == (1 if rounds else 2)


async def test_a_stopping_coalescer_answers_every_waiting_submission(
    scratch_engine: AsyncEngine, tokens: Tokens
) -> None:
    reporter = await _caller(scratch_engine, tokens.reporter)
    coalescer = SubmissionCoalescer(create_sessionmaker(scratch_engine), max_vertices=10_000)
    runner = asyncio.create_task(coalescer.run())
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(
            coalescer.submit(
                caller=reporter,
                submission=IncidentSubmission.model_validate(
                    feature(location=f"VN-CN:1089+{100 + n}")
                ),
                crs_param=None,
            )
        )
        for n in range(20)
    ]
    await asyncio.sleep(0.01)
    runner.cancel()
    answers = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 30)
    # Every waiting submitter gets an answer: its outcome, or the refusal that tells its
    # request to fail (a 503); none is left cancelled with nothing said.
    assert all(isinstance(a, SubmitOutcome | ConnectionAbortedError) for a in answers), answers
    assert not coalescer.running


async def test_concurrent_posts_are_grouped_and_each_answered(
    scratch_url: str, tokens: Tokens, tmp_path: Path
) -> None:
    # A small pool: requests waiting for their group must not hold the connections the
    # group's transaction needs.
    app = app_on(scratch_url, tmp_path, db_pool_size=2, db_pool_timeout_s=5)
    bodies = [feature(location=f"VN-CN:1089+{200 + n}", title=f"cùng lúc {n}") for n in range(24)]
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        coalescer: SubmissionCoalescer = app.state.coalescer
        assert coalescer.running
        answers = await asyncio.gather(
            *[
                http.post("/api/v1/incidents", json=b, headers=bearer(tokens.reporter))
                for b in bodies
            ]
        )
        assert [a.status_code for a in answers] == [201] * len(bodies), [
            a.text for a in answers if a.status_code != 201
        ]
        # Each answer is its own incident, with its context.
        assert [a.json()["id"] for a in answers] == [b["id"] for b in bodies]
        assert all(a.json()["properties"]["chainage_ref"].startswith("1089+") for a in answers)
        assert coalescer.submissions == len(bodies)
        assert coalescer.groups < len(bodies)  # some were stored together
        again = await http.post(
            "/api/v1/incidents", json=bodies[0], headers=bearer(tokens.reporter)
        )
        assert again.status_code == 200
