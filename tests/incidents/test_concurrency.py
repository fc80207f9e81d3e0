"""Many clients posting the same id at once: exactly one row, no 5xx. These requests
commit for real, so they run against the scratch copy of the test database."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Environment, Settings
from app.main import create_app
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature, point


async def test_concurrent_duplicates_make_one_row(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:
    app = create_app(
        Settings(env=Environment.test, DATABASE_URL=scratch_url, data_dir=tmp_path, db_pool_size=10)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", timeout=60
        ) as client:
            body = feature(geometry=point(106.6990, 21.9835), title="Gửi lại nhiều lần")
            responses = await asyncio.gather(
                *[
                    client.post("/api/v1/incidents", json=body, headers=bearer(tokens.reporter))
                    for _ in range(24)
                ]
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] * 23 + [201], [
                r.text for r in responses if r.status_code >= 300
            ]
            ids = {r.json()["id"] for r in responses}
            assert ids == {body["id"]}

            # Different content under one id, concurrently: one wins, the rest are 409s.
            racer = str(uuid.uuid4())
            bodies = [
                {**feature(geometry=point(106.6990, 21.9835), title=f"phiên bản {n}"), "id": racer}
                for n in range(8)
            ]
            raced = await asyncio.gather(
                *[
                    client.post("/api/v1/incidents", json=b, headers=bearer(tokens.reporter))
                    for b in bodies
                ]
            )
            assert sorted(r.status_code for r in raced) == [201] + [409] * 7

    engine = create_async_engine(scratch_url)
    async with engine.connect() as conn:
        # Both stored, and each created once in its history (an id is a key: a second row
        # could not exist, a second "created" could).
        stored, created = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM incidents WHERE id = ANY(CAST(:ids AS uuid[]))), "
                    "(SELECT count(*) FROM incident_history WHERE action = 'created' "
                    "AND incident_id = ANY(CAST(:ids AS uuid[])))"
                ),
                {"ids": [str(body["id"]), str(racer)]},
            )
        ).one()
        assert (stored, created) == (2, 2)
    await engine.dispose()


@pytest.mark.parametrize("part_min_items", [100, 10], ids=["whole", "in parts"])
async def test_concurrent_batches_sharing_ids_neither_deadlock_nor_double(
    scratch_url: str, tokens: Tokens, tmp_path, part_min_items: int
) -> None:
    """Two field apps syncing the same queue at once, in opposite orders: every id is
    stored once, each batch answers every item, and no batch fails. Each batch whole, or
    in two parts at once (intake.submit_batch_and_commit), six transactions through four
    connections."""
    app = create_app(
        Settings(
            env=Environment.test,
            DATABASE_URL=scratch_url,
            data_dir=tmp_path,
            db_pool_size=4,
            batch_part_min_items=part_min_items,
        )
    )
    title = f"đồng bộ {part_min_items}"
    shared = [feature(location=f"VN-CN:1089+{10 * n}", title=f"{title} {n}") for n in range(1, 61)]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", timeout=120
        ) as client:
            for _ in range(3):
                answers = await asyncio.gather(
                    *[
                        client.post(
                            "/api/v1/incidents:batch",
                            json={"features": order},
                            headers=bearer(tokens.reporter),
                        )
                        for order in (shared, shared[::-1], shared[::2])
                    ]
                )
                assert [a.status_code for a in answers] == [200, 200, 200], [
                    a.text[:300] for a in answers
                ]
                results = [x for a in answers for x in a.json()["results"]]
                assert {x["result"] for x in results} <= {"created", "duplicate"}
                created = [x["id"] for x in results if x["result"] == "created"]
                assert len(created) == len(set(created))
                shared = [{**b, "id": str(uuid.uuid4())} for b in shared]
    engine = create_async_engine(scratch_url)
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                text(
                    "SELECT count(*), (SELECT count(*) FROM incident_history h "
                    "JOIN incidents j ON j.id = h.incident_id WHERE j.title LIKE :t "
                    "AND h.action = 'created') FROM incidents WHERE title LIKE :t"
                ),
                {"t": f"{title} %"},
            )
        ).one()
        assert tuple(counts) == (3 * 60, 3 * 60)  # stored once, created once, each
    await engine.dispose()
