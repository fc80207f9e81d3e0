"""The growth phase's table states (bench/growth.py near_growth): the bench database's
incidents thinned from the full size to smaller ones, in two ways.

- Answers grow with the table: every incident kept at the same random rate, so the 500 m
  query at a sampled marker finds a tenth as many at a tenth of the size. Its cost follows
  its answers, for the SQL floor as much as for the service.
- Same answers, smaller table: every incident within 500 m of a sampled marker is kept
  (from a copy set aside at full size), the others thinned. The query's answers are the
  same at every size; only the table around them shrinks. This is what "index-bound"
  asks of the query.

A throwaway database: these sessions run in the replica role, so the history's
append-only trigger, the foreign keys and the triggers that keep the stored features and
the tallies are off; the rows that pointed at deleted incidents are deleted too, and the
tallies recounted.
"""

from __future__ import annotations

import asyncpg

ASIDE = "bench_near_aside"

# The rows that point at an incident, deleted with it (their triggers are off).
_DEPENDENT = (
    "incident_history",
    "incident_attachments",
    "clearing_work_incidents",
    "incident_features",
)


async def set_near_aside(
    conn: asyncpg.Connection, points: list[tuple[float, float]], metres: float
) -> int:
    """Copy the incidents within `metres` of the points, and their stored features, into
    a schema of their own; how many there are."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {ASIDE} CASCADE; CREATE SCHEMA {ASIDE}")
    await conn.execute(
        f"""CREATE TABLE {ASIDE}.incidents AS SELECT i.* FROM incidents i
            WHERE EXISTS (SELECT 1 FROM unnest($1::float8[], $2::float8[]) AS p(lon, lat)
              WHERE ST_DWithin(i.geom::geography,
                               ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography, $3))""",  # noqa: S608
        [lon for lon, _ in points],
        [lat for _, lat in points],
        metres,
    )
    await conn.execute(
        f"CREATE TABLE {ASIDE}.features AS SELECT f.* FROM incident_features f "  # noqa: S608
        f"JOIN {ASIDE}.incidents a ON a.id = f.incident_id"
    )
    return int(await conn.fetchval(f"SELECT count(*) FROM {ASIDE}.incidents"))  # noqa: S608


async def thin(conn: asyncpg.Connection, *, near: int, total: int) -> int:
    """Delete incidents at random: of those set aside as near, keep `near` (of those still
    in the table); of the others, keep as many as make `total`. The number left."""
    await conn.execute("SET session_replication_role = replica")
    try:
        await conn.execute(
            f"""DELETE FROM incidents WHERE id IN (
                  SELECT i.id FROM incidents i JOIN {ASIDE}.incidents a ON a.id = i.id
                  ORDER BY random() OFFSET $1)""",  # noqa: S608
            near,
        )
        await conn.execute(
            f"""DELETE FROM incidents WHERE id IN (
                  SELECT i.id FROM incidents i
                  WHERE NOT EXISTS (SELECT 1 FROM {ASIDE}.incidents a WHERE a.id = i.id)
                  ORDER BY random() OFFSET $1)""",  # noqa: S608
            max(0, total - near),
        )
        for table in _DEPENDENT:
            await conn.execute(
                f"DELETE FROM {table} t WHERE NOT EXISTS "  # noqa: S608
                "(SELECT 1 FROM incidents i WHERE i.id = t.incident_id)"
            )
    finally:
        await conn.execute("SET session_replication_role = DEFAULT")
    return await _settle(conn)


async def restore_near(conn: asyncpg.Connection) -> None:
    """Put back the near incidents that thinning took, and their stored features, from
    the copy. Not settled: a `thin` follows, which settles the table once for both."""
    columns = ", ".join(
        await conn.fetchval(
            "SELECT array_agg(quote_ident(column_name::text) ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'incidents' AND is_generated = 'NEVER'"
        )
    )
    await conn.execute("SET session_replication_role = replica")
    try:
        await conn.execute(
            f"INSERT INTO incidents ({columns}) SELECT {columns} FROM {ASIDE}.incidents a "  # noqa: S608
            "WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = a.id)"
        )
        await conn.execute(
            f"INSERT INTO incident_features SELECT f.* FROM {ASIDE}.features f "  # noqa: S608
            "WHERE NOT EXISTS (SELECT 1 FROM incident_features s "
            "WHERE s.incident_id = f.incident_id)"
        )
    finally:
        await conn.execute("SET session_replication_role = DEFAULT")


async def _settle(conn: asyncpg.Connection) -> int:
    """Tallies recounted (their triggers were off), fresh statistics, as a table of that
    size would have, and the deletes settled before the next timing: every table thinned
    vacuumed now rather than by autovacuum meanwhile, and a checkpoint to write them out.
    The number of incidents."""
    await conn.execute("SELECT bordermark_rebuild_tallies()")
    for table in ("incidents", *_DEPENDENT):
        await conn.execute(f"VACUUM ANALYZE {table}")
    await conn.execute("CHECKPOINT")
    return int(await conn.fetchval("SELECT count(*) FROM incidents"))
