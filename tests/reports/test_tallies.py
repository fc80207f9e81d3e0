"""The incident tallies against a recount from the incidents themselves.

The summary reads its per-period counts and "open at the end" from tallies kept by
triggers (app/reports/models.py). Here many incidents are inserted, changed and deleted in
multi-row statements, and every figure the tallies feed is compared with the direct
queries the summary ran before it had tallies: with deltas not yet folded, after folding,
after a rebuild, for whole years, part months and single days, by district and by month.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.db import create_sessionmaker
from app.reports import queries
from app.reports.queries import ReportQuery, whole_months
from app.reports.service import district_report
from app.reports.tallies import compact, rebuild

TZ = "Asia/Ho_Chi_Minh"

# Copies of the demo incidents spread over 2009-2012 with every status, so that periods
# cut through months and years with events on both sides of every boundary.
SPREAD = [
    """CREATE TEMP TABLE spread AS
       SELECT s.*, row_number() OVER () AS n FROM incidents s, generate_series(1, :copies)""",
    """UPDATE spread SET id = gen_random_uuid(), reported_by = :by,
         occurred_at = timestamptz '2009-01-01 00:00+07' + (n * 7919 % 1461) * interval '1 day'
                       + (n * 37 % 24) * interval '1 hour' + (n % 60) * interval '1 minute',
         status = (ARRAY['reported','verified','escalated','in_negotiation','resolved',
                         'dismissed','referred','monitoring'])[1 + n % 8],
         district_code = CASE WHEN n % 11 = 0 THEN NULL ELSE district_code END""",
    "ALTER TABLE spread DROP COLUMN n",
    # PostgreSQL writes the generated column (migration 8a4d2c6e0b19) itself.
    "ALTER TABLE spread DROP COLUMN extent_box",
]


async def _spread(db: AsyncSession, copies: int, by: str) -> None:
    for sql in SPREAD:
        await db.execute(text(sql), {"copies": copies, "by": by})
    # By name: columns added after the generated one come after it in the table.
    columns = (
        await db.execute(
            text(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = 'spread'::regclass AND attnum > 0 AND NOT attisdropped"
            )
        )
    ).scalar_one()
    await db.execute(text(f"INSERT INTO incidents ({columns}) SELECT {columns} FROM spread"))
    await db.execute(text("DROP TABLE spread"))


# Closing times on both sides of the event and of period ends (the summary counts a
# closure before its event as at its event); some resolved ones lose resolved_at.
CLOSE = """
UPDATE incidents SET
  resolved_at = CASE WHEN status = 'resolved' AND extract(minute FROM occurred_at) < 50
                     THEN occurred_at + (extract(epoch FROM occurred_at)::bigint % 400 - 30)
                          * interval '1 day' END,
  updated_at = CASE WHEN status = 'dismissed'
                    THEN occurred_at + (extract(epoch FROM occurred_at)::bigint % 200 - 5)
                         * interval '1 day' ELSE updated_at END
WHERE occurred_at < '2013-01-01'
"""
MOVE = """
UPDATE incidents SET status = 'resolved', resolved_at = occurred_at + interval '3 days',
  category = 'other', zones = '{}'
WHERE occurred_at < '2013-01-01' AND extract(doy FROM occurred_at)::int % 5 = 0
"""
DROP = """
DELETE FROM incidents i WHERE occurred_at < '2013-01-01'
  AND extract(doy FROM occurred_at)::int % 7 = 0
  AND NOT EXISTS (SELECT 1 FROM incident_history h WHERE h.incident_id = i.id)
"""

PERIODS = [
    ("2010-01-01", "2010-12-31"),  # whole months only
    ("2010-01-15", "2010-03-10"),  # a part month either side of one whole month
    ("2010-02-03", "2010-02-20"),  # inside one month
    ("2011-06-30", "2011-06-30"),  # one day
    ("2009-11-17", "2012-02-29"),  # across years, ending on a leap day
    ("2010-03-01", "2010-03-31"),  # exactly one month
]


def _opened_directly() -> str:
    return f"""
    SELECT coalesce(i.district_code, i.commune_code, i.province_code, 'unassigned') AS unit,
           to_char(i.occurred_at AT TIME ZONE '{TZ}', 'YYYY-MM') AS month,
           i.category, i.status, i.zones
    FROM incidents i
    WHERE i.occurred_at >= (CAST(:start AS date)::timestamp AT TIME ZONE '{TZ}')
      AND i.occurred_at < ((CAST(:end AS date) + 1)::timestamp AT TIME ZONE '{TZ}')
    """


OPEN_DIRECTLY = f"""
SELECT coalesce(i.district_code, i.commune_code, i.province_code, 'unassigned') AS unit, count(*)::int AS n
FROM incidents i, (SELECT (CAST(:at AS date)::timestamp AT TIME ZONE '{TZ}') AS at) e
WHERE i.occurred_at < e.at
  AND NOT (i.status = 'resolved' AND i.resolved_at < e.at)
  AND NOT (i.status = 'dismissed' AND i.updated_at < e.at)
GROUP BY 1
"""


def _months(start: date, end: date) -> list[tuple[str, date]]:
    """Each month of the period with the day after its end in the period."""
    out = []
    for month in queries.months_between(start, end):
        year, number = int(month[:4]), int(month[5:])
        after = date(year + number // 12, number % 12 + 1, 1)
        out.append((month, min(after, date.fromordinal(end.toordinal() + 1))))
    return out


async def _expected(db: AsyncSession, start: date, end: date, by_month: bool) -> dict[str, Any]:
    rows = (await db.execute(text(_opened_directly()), {"start": start, "end": end})).all()
    key = (lambda r: (r.unit, r.month)) if by_month else (lambda r: (r.unit,))
    category: Counter[tuple[Any, ...]] = Counter((*key(r), r.category) for r in rows)
    status: Counter[tuple[Any, ...]] = Counter((*key(r), r.status) for r in rows)
    zone: Counter[tuple[Any, ...]] = Counter((*key(r), z) for r in rows for z in r.zones)
    open_at: dict[tuple[Any, ...], int] = {}
    ends = _months(start, end) if by_month else [(None, date.fromordinal(end.toordinal() + 1))]
    for month, at in ends:
        for r in await db.execute(text(OPEN_DIRECTLY), {"at": at}):
            open_at[(r.unit, month) if by_month else (r.unit,)] = r.n
    return {
        "opened": Counter(key(r) for r in rows),
        "category": category,
        "status": status,
        "zone": zone,
        "open_at_end": open_at,
    }


async def _reported(db: AsyncSession, start: date, end: date, by_month: bool) -> dict[str, Any]:
    q = ReportQuery(start=start, end=end, border=None, province=None, by_month=by_month)
    _, tables = await district_report(db, q)
    named = {t.name: t.rows for t in tables}
    keys = ["unit", "month"] if by_month else ["unit"]

    def counts(table: str, column: str | None, field: str = "count") -> Counter[Any]:
        return Counter(
            {
                tuple(r[k] for k in [*keys, *([column] if column else [])]): r[field]
                for r in named[table]
                if r[field]
            }
        )

    return {
        "opened": counts("summary", None, "opened"),
        "category": counts("incidents_by_category", "category"),
        "status": counts("incidents_by_status", "status"),
        "zone": counts("incidents_by_zone", "zone"),
        "open_at_end": dict(counts("summary", None, "open_at_end")),
    }


async def _assert_matches(db: AsyncSession) -> None:
    for start, end in PERIODS:
        for by_month in (False, True):
            s, e = date.fromisoformat(start), date.fromisoformat(end)
            expected = await _expected(db, s, e, by_month)
            assert sum(expected["opened"].values()) > 0, (start, end)  # something to count
            assert await _reported(db, s, e, by_month) == expected, (start, end, by_month)


async def _delta_rows(db: AsyncSession) -> int:
    return int(await db.scalar(text("SELECT count(*) FROM incident_tally_deltas")) or 0)


async def test_tallies_match_a_recount_through_inserts_updates_and_deletes(db) -> None:  # type: ignore[no-untyped-def]
    await _spread(db, 40, "tally test")
    await db.execute(text(CLOSE))
    assert await _delta_rows(db) > 0
    await _assert_matches(db)  # counters plus deltas not yet folded

    assert await compact(db) > 0
    assert await _delta_rows(db) == 0
    await _assert_matches(db)

    await db.execute(text(MOVE))
    moved = await db.execute(text(DROP))
    assert moved.rowcount > 0
    await _assert_matches(db)
    await compact(db)
    await _assert_matches(db)

    before = (
        await db.execute(text("SELECT * FROM incident_tallies ORDER BY 1, 2, 3, 4, 5, 6, 7"))
    ).all()
    await rebuild(db)
    after = (
        await db.execute(text("SELECT * FROM incident_tallies ORDER BY 1, 2, 3, 4, 5, 6, 7"))
    ).all()
    assert after == before  # the kept counters are what a recount gives
    assert not any(r.opened == 0 and r.closed == 0 for r in after)  # nothing left at zero


async def test_an_update_that_changes_nothing_counted_writes_no_delta(db) -> None:  # type: ignore[no-untyped-def]
    before = await _delta_rows(db)
    await db.execute(text("UPDATE incidents SET title = title || ' (sửa)'"))
    assert await _delta_rows(db) == before


async def test_truncating_incidents_empties_the_tallies(db) -> None:  # type: ignore[no-untyped-def]
    await db.execute(text("ALTER TABLE incident_history DISABLE TRIGGER USER"))
    await db.execute(text("TRUNCATE incidents CASCADE"))
    counted = await db.scalar(
        text(
            "SELECT (SELECT count(*) FROM incident_tallies) + (SELECT count(*) FROM incident_tally_deltas)"
        )
    )
    assert counted == 0


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2010-01-01", "2010-12-31", ("2010-01-01", "2011-01-01")),
        ("2010-01-15", "2010-03-10", ("2010-02-01", "2010-03-01")),
        ("2010-02-03", "2010-02-20", None),
        ("2010-01-31", "2010-02-28", ("2010-02-01", "2010-03-01")),
        ("2010-12-01", "2011-01-30", ("2010-12-01", "2011-01-01")),
        ("2012-02-29", "2012-02-29", None),
    ],
)
def test_whole_months(start: str, end: str, expected: tuple[str, str] | None) -> None:
    got = whole_months(date.fromisoformat(start), date.fromisoformat(end))
    assert got == (
        (date.fromisoformat(expected[0]), date.fromisoformat(expected[1])) if expected else None
    )


async def test_concurrent_writers_and_compactors_lose_no_count(scratch_url: str) -> None:
    """Committed for real (scratch database): writers changing incidents while compactors
    run; afterwards, counters and deltas together equal a rebuild from scratch."""
    engine = create_async_engine(scratch_url, pool_size=8)
    sessions = create_sessionmaker(engine)
    async with sessions() as s:
        await _spread(s, 2, "tally race")
        await s.commit()

    async def writer(n: int) -> None:
        for round_no in range(15):
            async with sessions() as s:
                await s.execute(
                    text(
                        "UPDATE incidents SET status = (ARRAY['reported','resolved','dismissed'])"
                        "[1 + (:n + :r) % 3], resolved_at = now() - :n * interval '1 day' "
                        "WHERE reported_by = 'tally race' AND abs(hashtext(id::text)) % 4 = :n"
                    ),
                    {"n": n, "r": round_no},
                )
                await s.commit()

    async def compactor() -> int:
        folded = 0
        for _ in range(30):
            async with sessions() as s:
                folded += await compact(s)
            await asyncio.sleep(0.005)
        return folded

    try:
        results = await asyncio.gather(*[writer(n) for n in range(4)], compactor(), compactor())
        assert sum(r for r in results if r) > 0
        totals = """SELECT grain, day, border_id, province_code, unit, dimension, value,
                      sum(opened) AS opened, sum(closed) AS closed
                    FROM (SELECT * FROM incident_tallies UNION ALL
                          SELECT * FROM incident_tally_deltas) t
                    GROUP BY 1, 2, 3, 4, 5, 6, 7
                    HAVING sum(opened) <> 0 OR sum(closed) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7"""
        async with sessions() as s:
            kept = (await s.execute(text(totals))).all()
            await rebuild(s)
            recounted = (await s.execute(text(totals))).all()
        assert kept == recounted
    finally:
        async with sessions() as s:
            await s.execute(text("DELETE FROM incidents WHERE reported_by = 'tally race'"))
            await s.commit()
        await engine.dispose()
