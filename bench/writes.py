"""The write scenarios of `make bench`: new reports POSTed one by one (by wrk, 8
connections), and batch syncs of 500."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from client import Http, wrk
from measure import Row, Setup, sustained

POST_TITLE = "bench post"


def post_body(i: int) -> dict[str, Any]:
    """The bench's new report: a fence at a chainage between markers 1000 and 1200 of VN-CN."""
    return {
        "type": "Feature", "id": str(uuid.uuid4()),
        "location": f"VN-CN:{random.randint(1000, 1200)}+{random.randint(0, 300)}",
        "properties": {"category": "fence", "title": f"{POST_TITLE} {i}",
                       "occurred_at": "2026-11-20T08:00:00+07:00"},
    }  # fmt: skip


POST_CONCURRENCY = 8
POST_SCRIPT = Path(__file__).resolve().parent / "post.lua"


def wrk_post_rate(base: str, token: str, seconds: float) -> tuple[float, dict[int, int]] | None:
    """New reports POSTed by `wrk` (8 connections, one thread, bench/post.lua: post_body's
    reports): (requests per second, answers per status); None without wrk."""
    out = wrk(
        f"{base}/api/v1/incidents",
        {"Authorization": f"Bearer {token}"},
        connections=POST_CONCURRENCY,
        seconds=seconds,
        script=POST_SCRIPT,
    )
    if out is None:
        return None
    rate = next(float(line.split()[1]) for line in out.splitlines() if "Requests/sec" in line)
    counted = next(line for line in out.splitlines() if line.startswith("statuses"))
    statuses = {int(s): int(n) for s, n in (p.split("=") for p in counted.split()[1:])}
    # "Socket errors: connect 0, read 0, write 0, timeout 0": requests with no answer
    failed = next((line for line in out.splitlines() if "Socket errors" in line), "")
    unanswered = sum(int(n.strip(",")) for n in failed.split()[3::2])
    if unanswered:
        statuses[0] = unanswered
    return rate, statuses


async def post_scenario(
    http: Http, base: str, token: str, seconds: float
) -> tuple[float, dict[int, int], str]:
    """New reports POSTed for `seconds`, POST_CONCURRENCY at a time: (POSTs per second,
    answers per status, the client that sent them). By wrk (bench/post.lua) when it is
    installed, a tenth of aiohttp's CPU a request on the cores the service and the database
    share; by aiohttp otherwise."""
    by_wrk = await asyncio.to_thread(wrk_post_rate, base, token, seconds)
    if by_wrk is not None:
        return (*by_wrk, "wrk, bench/post.lua")
    counter = iter(range(10**9))
    statuses: dict[int, int] = {}
    auth = {"Authorization": f"Bearer {token}"}

    async def post() -> bool:
        r = await http.post(f"{base}/api/v1/incidents", json=post_body(next(counter)), headers=auth)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        return r.status_code == 201

    rate, _, _ = await sustained(post, POST_CONCURRENCY, seconds)
    return rate, statuses, "aiohttp (no wrk)"


async def post_rows(setup: Setup) -> list[Row]:
    """POST incidents with context, idempotency and audit: 8 at a time for --seconds."""
    rate, statuses, client = await post_scenario(
        setup.http, setup.base, setup.admin, setup.args.seconds
    )
    errors = sum(n for status, n in statuses.items() if status != 201)
    return [Row("POST incident with context, idempotency and audit (8 concurrent)",
                "incidents/s", rate, None, "", None, ">= 400/s", rate >= 400 and errors == 0,
                f"{client}: answers {statuses}; {errors} not 201")]  # fmt: skip


async def batch_rows(setup: Setup) -> list[Row]:
    """Batch sync of 500 new reports, one batch at a time, --rounds of them."""
    counter = iter(range(10**9))
    batch_times = []
    for _ in range(setup.args.rounds):
        items = [post_body(next(counter)) for _ in range(500)]
        body = json.dumps({"features": items}).encode()  # the client's work, not timed
        started = time.perf_counter()
        r = await setup.http.post(
            f"{setup.base}/api/v1/incidents:batch", body=body, headers=setup.writer
        )
        batch_times.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text[:300]
    median = statistics.median(batch_times)
    return [Row("batch sync of 500 incidents", "incidents/s", 500 / median, None, "", None,
                ">= 3,000/s", 500 / median >= 3000,
                f"median batch {median:.2f} s over {setup.args.rounds}")]  # fmt: skip
