"""Two services on one database, their POST, batch or bbox rates alternated run by run.

    .venv/bin/python bench/alternate.py --db URL --token T [--scenario post|batch|bbox|near]
        [--rounds 3] [--seconds 10] URL_A URL_B

On a shared two-core machine the same service's POST rate moves 10-20 % from one run to
the next, so a change is judged by alternating it with the code before on the same
database: the two services (say a git worktree of the old revision, served on another
port with the same environment) take turns, and before each run the bench's posts of the
run before are deleted (the history's append-only trigger and the foreign keys are off for
that session, the tallies recounted) and the tables vacuumed, so every run starts from the
same data. POST: 8 concurrent for --seconds, the bench's bodies (writes.py; by wrk as `make
bench` sends them, or aiohttp without wrk); batch: five
batches of 500, the median; bbox: `make bench`'s dense bbox page of 1,000 features, 4
concurrent for --seconds (read only: no reset); near: the 500 m query at `make bench`'s
sampled markers one request at a time, the two services taking turns request by request,
--rounds passes over the sample, each side's p50 latency. Prints every run and each side's
median.
`T` is a writer's token valid on both (they share the database).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg
from client import Http
from floors import dense_bbox, sample_markers
from measure import CONCURRENCY, sustained
from reads import bbox_page, near_marker
from writes import POST_TITLE, post_body, post_scenario

BATCHES = 5


async def reset(db: str) -> None:
    """Delete the bench's posts and what they wrote; vacuum."""
    conn = await asyncpg.connect(db)
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(
            "DELETE FROM incident_history h USING incidents i "
            "WHERE h.incident_id = i.id AND i.title LIKE $1", f"{POST_TITLE}%"
        )  # fmt: skip
        await conn.execute(
            "DELETE FROM incident_features s USING incidents i "
            "WHERE s.incident_id = i.id AND i.title LIKE $1", f"{POST_TITLE}%"
        )  # fmt: skip
        await conn.execute("DELETE FROM incidents WHERE title LIKE $1", f"{POST_TITLE}%")
        await conn.execute("DELETE FROM events")
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("SELECT bordermark_rebuild_tallies()")
        for table in ("incidents", "incident_history", "incident_features", "events"):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


async def post_rate(http: Http, base: str, auth: dict[str, str], seconds: float) -> float:
    """POSTs per second, sent as `make bench` sends them (writes.post_scenario)."""
    token = auth["Authorization"].removeprefix("Bearer ")
    rate, statuses, _ = await post_scenario(http, base, token, seconds)
    if set(statuses) != {201}:
        raise SystemExit(f"{base}: POSTs answered {statuses}")
    return rate


async def batch_rate(http: Http, base: str, auth: dict[str, str]) -> float:
    times = []
    for n in range(BATCHES):
        items = [post_body(n * 500 + i) for i in range(500)]
        started = time.perf_counter()
        r = await http.post(
            f"{base}/api/v1/incidents:batch", json={"features": items}, headers=auth
        )
        times.append(time.perf_counter() - started)
        if r.status_code != 200:
            raise SystemExit(f"{base}: batch answered {r.status_code}: {r.text[:300]}")
    return 500 / statistics.median(times)


async def bbox_rate(
    http: Http, base: str, auth: dict[str, str], bbox: str, seconds: float
) -> float:
    rate, _, errors = await sustained(
        lambda: bbox_page(http, base, auth, bbox), CONCURRENCY, seconds
    )
    if errors:
        raise SystemExit(f"{base}: {errors} pages were not 200")
    return rate


async def near_p50s(args: argparse.Namespace, auth: dict[str, str]) -> None:
    sample = await sample_markers(args.db)
    latencies: dict[str, list[float]] = {args.a: [], args.b: []}
    async with Http() as http:
        for _ in range(args.rounds):
            for _, lon, lat in sample:
                for base in (args.a, args.b):
                    latencies[base].append((await near_marker(http, base, auth, lon, lat))[0])
    for base, found in latencies.items():
        found.sort()
        print(f"{base}: p50 {statistics.median(found) * 1000:.2f} ms, "
              f"p99 {found[int(len(found) * 0.99)] * 1000:.2f} ms over {len(found)}")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    auth = {"Authorization": f"Bearer {args.token}"}
    if args.scenario == "near":
        await near_p50s(args, auth)
        return
    rates: dict[str, list[float]] = {args.a: [], args.b: []}
    unit = "requests/s" if args.scenario == "bbox" else "incidents/s"
    # The dense bbox is searched for (a few counts) only when the bbox scenario needs it.
    bbox = (
        ",".join(f"{v:.6f}" for v in (await dense_bbox(args.db))[0])
        if args.scenario == "bbox"
        else ""
    )
    async with Http(timeout_s=120, connections=32) as http:
        for n in range(args.rounds):
            for base in (args.a, args.b):
                if args.scenario == "bbox":
                    rate = await bbox_rate(http, base, auth, bbox, args.seconds)
                else:
                    await reset(args.db)
                    if args.scenario == "post":
                        rate = await post_rate(http, base, auth, args.seconds)
                    else:
                        rate = await batch_rate(http, base, auth)
                rates[base].append(rate)
                print(f"round {n + 1} {base}: {rate:,.1f} {unit}", flush=True)
    if args.scenario != "bbox":
        await reset(args.db)
    for base, found in rates.items():
        print(f"{base}: median {statistics.median(found):,.1f}/s "
              f"({', '.join(f'{r:,.1f}' for r in found)})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--db", required=True, help="the database both services use")
    parser.add_argument("--token", required=True, help="a writer's token")
    parser.add_argument("--scenario", choices=("post", "batch", "bbox", "near"), default="post")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
