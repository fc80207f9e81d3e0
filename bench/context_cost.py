"""What placing incidents costs PostgreSQL: the context statement (app/incidents/context.py)
over N incidents of a bench database, whole and part by part, read only.

    .venv/bin/python bench/context_cost.py --db URL [--rounds 9] [--rows 500]
        [--where "title LIKE 'bench post%'"]

The default rows are the bench's own POSTs (chainage reports on VN-CN, points on the
line): what a batch of 500 places. Each part is timed as the CTEs up to it, the parts taking
turns; "+x over located" is what that part adds to finding the nearest piece of the line,
which every part needs. The whole is `final`, every column a submission stores.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.areas.placement import UNIT_REACH_M
from app.db import positional_sql
from app.incidents import context

PARTS = ("located", "side_summary", "zone_summary", "units", "communes", "nearest",
         "counted_from", "breach", "final")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(args.db, server_settings={"jit": "off", "timezone": "UTC"})
    try:
        ids = [
            r[0]
            for r in await conn.fetch(
                f"SELECT id FROM incidents WHERE {args.where} ORDER BY id LIMIT $1",  # noqa: S608
                args.rows,
            )
        ]
        values = {"ids": ids, "reach": UNIT_REACH_M}
        seconds: dict[str, list[float]] = {part: [] for part in PARTS}
        for _ in range(args.rounds):
            for part in PARTS:
                sql, names = positional_sql(context.CONTEXT_OF_IDS + f"SELECT count(*) FROM {part}")  # noqa: S608
                started = time.perf_counter()
                await conn.fetchval(sql, *(values[name] for name in names))
                seconds[part].append(time.perf_counter() - started)
        located = statistics.median(seconds["located"])
        print(f"{len(ids)} incidents, medians of {args.rounds}:")
        for part, found in seconds.items():
            median = statistics.median(found)
            extra = "" if part == "located" else f" (+{(median - located) * 1000:.1f} over located)"
            print(f"  {part:14s} {median * 1000:7.1f} ms{extra}")
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (postgresql://...)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--where", default="title LIKE 'bench post%'")
    asyncio.run(main(parser.parse_args()))
