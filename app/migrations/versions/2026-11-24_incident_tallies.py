"""incident tallies: per-day and per-month counts of incidents kept by triggers, so the
per-district summary reads thousands of tally rows instead of a million incidents
(app/reports/models.py says what each grain holds)

Revision ID: 9f4b2d7e6a13
Revises: 3e7a9c2b5d14
Create Date: 2026-11-24 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9f4b2d7e6a13"
down_revision: str | None = "3e7a9c2b5d14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Vietnam has had no daylight saving since 1975: a fixed zone, as in app/incidents/context.
LOCAL = "Asia/Ho_Chi_Minh"
KEY = "grain, day, border_id, province_code, unit, dimension, value"

# The tally rows of a set of incident rows, each with its sign (+1 added, -1 removed),
# summed per key; rows that cancel out (an update that moved nothing) are not written.
# An incident is closed when resolved (at resolved_at) or dismissed (its last change is the
# dismissal: updated_at), never before its event, so that `opened - closed` up to a day is
# exactly what was open at its end. A resolved incident without resolved_at never counts
# as open (as the summary's direct query had it).
DELTAS_FROM = f"""
INSERT INTO incident_tally_deltas ({KEY}, opened, closed)
SELECT t.grain, t.day, r.border_id, r.province_code, r.unit, t.dimension, t.value,
       sum(r.sign * t.opened), sum(r.sign * t.closed)
FROM (
  SELECT s.sign, s.border_id, s.province_code, s.category, s.status, s.zones,
         coalesce(s.district_code, s.province_code, 'unassigned') AS unit,
         (s.occurred_at AT TIME ZONE '{LOCAL}')::date AS occurred_day,
         (greatest(CASE s.status WHEN 'resolved' THEN coalesce(s.resolved_at, '-infinity')
                                 WHEN 'dismissed' THEN s.updated_at END,
                   s.occurred_at) AT TIME ZONE '{LOCAL}')::date AS closed_day
  FROM ({{source}}) s
) r
CROSS JOIN LATERAL (
  VALUES ('day', r.occurred_day, NULL, NULL, 1, 0),
         ('day', CASE WHEN r.status IN ('resolved', 'dismissed') THEN r.closed_day END,
          NULL, NULL, 0, 1),
         ('month', date_trunc('month', r.occurred_day)::date, 'category', r.category, 1, 0),
         ('month', date_trunc('month', r.occurred_day)::date, 'status', r.status, 1, 0)
  UNION ALL
  SELECT 'month', date_trunc('month', r.occurred_day)::date, 'zone', zone, 1, 0
  FROM unnest(r.zones) zone
) t(grain, day, dimension, value, opened, closed)
WHERE t.day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING sum(r.sign * t.opened) <> 0 OR sum(r.sign * t.closed) <> 0
"""  # noqa: S608

ADDED = "SELECT 1 AS sign, * FROM new_rows"
REMOVED = "SELECT -1 AS sign, * FROM old_rows"

# Static SQL in each branch (planned once per session), from the one template above.
TRIGGER_FUNCTION = f"""
CREATE FUNCTION bordermark_tally_incidents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {DELTAS_FROM.format(source=ADDED)};
  ELSIF TG_OP = 'DELETE' THEN
    {DELTAS_FROM.format(source=REMOVED)};
  ELSE
    {DELTAS_FROM.format(source=f"{ADDED} UNION ALL {REMOVED}")};
  END IF;
  RETURN NULL;
END $$
"""

# One compactor at a time (others return at once): the moved deltas and the counters they
# change commit together, so readers adding both tables never count a delta twice or miss it.
COMPACT_FUNCTION = f"""
CREATE FUNCTION bordermark_compact_tallies() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  moved bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('bordermark_compact_tallies')) THEN
    RETURN 0;
  END IF;
  WITH gone AS (DELETE FROM incident_tally_deltas RETURNING *),
  summed AS (
    SELECT {KEY}, sum(opened)::int AS opened, sum(closed)::int AS closed, count(*) AS n
    FROM gone GROUP BY {KEY}
  ), written AS (
    INSERT INTO incident_tallies AS t ({KEY}, opened, closed)
    SELECT {KEY}, opened, closed FROM summed
    ON CONFLICT ({KEY}) DO UPDATE
      SET opened = t.opened + excluded.opened, closed = t.closed + excluded.closed
  )
  SELECT coalesce(sum(n), 0) INTO moved FROM summed;
  DELETE FROM incident_tallies WHERE opened = 0 AND closed = 0;
  RETURN moved;
END $$
"""  # noqa: S608

# From scratch, for when the triggers were bypassed (session_replication_role = replica).
REBUILD_FUNCTION = f"""
CREATE FUNCTION bordermark_rebuild_tallies() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('bordermark_compact_tallies'));
  DELETE FROM incident_tally_deltas;
  DELETE FROM incident_tallies;
  {DELTAS_FROM.format(source="SELECT 1 AS sign, * FROM incidents")};
  PERFORM bordermark_compact_tallies();
END $$
"""  # noqa: S608


def _tally_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("grain", sa.String(5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(40)),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("dimension", sa.String(10)),
        sa.Column("value", sa.String(40)),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "incident_tallies",
        *_tally_columns(),
        sa.CheckConstraint("grain IN ('day', 'month')", name=op.f("ck_incident_tallies_grain")),
        sa.CheckConstraint(
            "dimension IN ('category', 'status', 'zone')",
            name=op.f("ck_incident_tallies_dimension"),
        ),
        sa.UniqueConstraint(
            *KEY.split(", "),
            name="uq_incident_tallies_key",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table("incident_tally_deltas", *_tally_columns())
    op.execute(TRIGGER_FUNCTION)
    op.execute(COMPACT_FUNCTION)
    op.execute(REBUILD_FUNCTION)
    # Transition tables allow one event per trigger: three triggers, one function.
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER incidents_tally_{event.lower()} AFTER {event} ON incidents "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            "EXECUTE FUNCTION bordermark_tally_incidents()"
        )
    op.execute(
        """
        CREATE FUNCTION bordermark_truncate_tallies() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          TRUNCATE incident_tally_deltas, incident_tallies;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER incidents_tally_truncate AFTER TRUNCATE ON incidents "
        "FOR EACH STATEMENT EXECUTE FUNCTION bordermark_truncate_tallies()"
    )
    op.execute("SELECT bordermark_rebuild_tallies()")


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER incidents_tally_{event} ON incidents")
    op.execute("DROP FUNCTION bordermark_truncate_tallies()")
    op.execute("DROP FUNCTION bordermark_rebuild_tallies()")
    op.execute("DROP FUNCTION bordermark_compact_tallies()")
    op.execute("DROP FUNCTION bordermark_tally_incidents()")
    op.drop_table("incident_tally_deltas")
    op.drop_table("incident_tallies")
