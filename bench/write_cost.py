"""What a write costs PostgreSQL beyond the row: an INSERT of 500 incidents (copies of
existing ones with new ids, rolled back), as it is and with one trigger or index taken
away in the same rolled-back transaction, the variants taking turns.

    .venv/bin/python bench/write_cost.py --db URL [--rounds 15]

Against a bench database (a throwaway: the DDL is rolled back, but it locks the table
while it runs). Prints each variant's median and minimum milliseconds; the difference
from "as it is" is what that trigger or index costs 500 written rows. It measures the
rows, their indexes and the statement triggers only: not the context a submission's
INSERT computes (bench/profile_request.py --batch measures the whole batch).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import asyncpg

ROWS = 500
# Every column but the id and the generated ones; copied as they are.
COPIED = (
    "content_hash, border_id, category, title, description, occurred_at, severity, status, "
    "reported_by, tags, location_ref, geom, created_by_token_id, version, dismissal_reason, "
    "duplicate_of, resolved_at, search_text, nearest_marker_code, nearest_marker_distance_m, "
    "chainage_ref, chainage_m, distance_to_line_m, side, crosses_line, province_code, "
    "district_code, district_codes, zones, zone_measures, breaches, created_at, updated_at"
)
INSERT = f"INSERT INTO incidents (id, {COPIED}) SELECT gen_random_uuid(), {COPIED} FROM src"  # noqa: S608
VARIANTS = {
    "as it is": [],
    "without the stored features' trigger": [
        "ALTER TABLE incidents DISABLE TRIGGER incidents_features_insert"
    ],
    "without the tallies' trigger": [
        "ALTER TABLE incidents DISABLE TRIGGER incidents_tally_insert"
    ],
    "without the trigram index": ["DROP INDEX ix_incidents_search_text"],
    "without the geography index": ["DROP INDEX ix_incidents_geog"],
    # The generated column and its index (migration 8a4d2c6e0b19); dropping a column is
    # a change of the catalog alone, rolled back with the rest.
    "without the extent box": ["ALTER TABLE incidents DROP COLUMN extent_box"],
}


async def main(args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(args.db, server_settings={"jit": "off", "timezone": "UTC"})
    try:
        await conn.execute(
            f"CREATE TEMP TABLE src AS SELECT {COPIED} FROM incidents "  # noqa: S608
            f"ORDER BY id LIMIT {ROWS}"
        )  # fmt: skip
        seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.rounds):
            for name, ddl in VARIANTS.items():
                transaction = conn.transaction()
                await transaction.start()
                try:
                    for statement in ddl:
                        await conn.execute(statement)
                    started = time.perf_counter()
                    await conn.execute(INSERT)
                    seconds[name].append(time.perf_counter() - started)
                finally:
                    await transaction.rollback()
        for name, found in seconds.items():
            print(
                f"{name:40s} median {statistics.median(found) * 1000:6.1f} ms, "
                f"min {min(found) * 1000:6.1f} ms ({len(found)} INSERTs of {ROWS})"
            )
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (postgresql://...)")
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(main(parser.parse_args()))
