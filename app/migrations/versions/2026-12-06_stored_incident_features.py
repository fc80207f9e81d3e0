"""stored incident features: each incident's GeoJSON feature kept as text, written by the
same statement that writes the incident, so that pages of features are read, not built

Building a feature (30 properties) costs PostgreSQL about 14 us a row with
json_build_object: on the dense bbox page of `make bench` (1,000 features) 14 of the
statement's 26 ms.
Pages read the stored text instead (app/ogc/router.py); kept by statement-level triggers
on incidents (about 22 us a written row: 11 ms more on a batch of 500, measured with the
INSERT rolled back, bench/results/2026-12-06.md).

One definition: the properties are the function bordermark_incident_properties, which the
service calls when it builds a feature itself (another CRS, chosen properties, one
incident) and which fills the stored text here. Changing the properties is a migration
that replaces the function and calls bordermark_rebuild_incident_features().

Timestamps in JSON carry the session's time zone: the functions that store features run
in UTC, as the service's own connections do (app/db.py), so the stored text is what the
service would build.

No foreign key to incidents: its check is a lookup per stored row (about 10 us); the
DELETE and TRUNCATE triggers remove features with their incidents instead.

Revision ID: 6b383289a16b
Revises: 9b4e2c7d1f58
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b383289a16b"
down_revision: str | None = "9b4e2c7d1f58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A feature's JSON is to_json of a row of these types: their fields are its members, in
# this order. Beside json_build_object (key, value, ...) the same properties cost about a
# third less to build and come out without the spaces it puts around each ':' and ',' (a
# tenth of the bytes): bench/results/2026-12-06.md.
PROPERTIES_ROW = """
CREATE TYPE bordermark_incident_properties_row AS (
  border text, category text, title text, description text, occurred_at timestamptz,
  severity text, status text, reported_by text, tags text[], location_ref text,
  nearest_marker text, nearest_marker_distance_m numeric, chainage_ref text,
  chainage_m numeric, distance_to_line_m numeric, side text, crosses_line boolean,
  province text, district text, districts text[], zones text[], zone_measures jsonb,
  breaches jsonb, dismissal_reason text, duplicate_of uuid, resolved_at timestamptz,
  version integer, created_at timestamptz, updated_at timestamptz
)
"""
FEATURE_ROW = """
CREATE TYPE bordermark_incident_feature_row AS (
  type text, id uuid, geometry json, properties json
)
"""

# Inlined by PostgreSQL where it is called (plain SQL, STABLE, no FROM): no cost over
# writing the expression out in each query.
PROPERTIES_FUNCTION = """
CREATE FUNCTION bordermark_incident_properties(i incidents, border_code text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT to_json(ROW(
  border_code, i.category, i.title, i.description, i.occurred_at, i.severity, i.status,
  i.reported_by, i.tags, i.location_ref, i.nearest_marker_code,
  round(i.nearest_marker_distance_m::numeric, 1), i.chainage_ref,
  round(i.chainage_m::numeric, 1), round(i.distance_to_line_m::numeric, 1), i.side,
  i.crosses_line, i.province_code, i.district_code, i.district_codes, i.zones,
  i.zone_measures, i.breaches, i.dismissal_reason, i.duplicate_of, i.resolved_at,
  i.version, i.created_at, i.updated_at
)::bordermark_incident_properties_row)
$$
"""

# The feature as the service builds it in CRS84 (app/incidents/queries.incident_feature,
# with COORD_DECIMALS = 7); tests/incidents/test_stored_features.py holds them equal.
FEATURE_FUNCTION = """
CREATE FUNCTION bordermark_incident_feature(i incidents, border_code text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT to_json(ROW('Feature', i.id, ST_AsGeoJSON(i.geom, 7)::json,
  bordermark_incident_properties(i, border_code))::bordermark_incident_feature_row)::text
$$
"""

STORE_FROM = """
INSERT INTO incident_features AS f (incident_id, feature)
SELECT n.id, bordermark_incident_feature(n, b.code)
FROM {rows} n JOIN borders b ON b.id = n.border_id
ON CONFLICT (incident_id) DO UPDATE SET feature = excluded.feature
"""

# Static SQL in each branch (planned once per session), as the tallies' trigger.
TRIGGER_FUNCTION = f"""
CREATE FUNCTION bordermark_store_incident_features() RETURNS trigger
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM incident_features f USING old_rows o WHERE f.incident_id = o.id;
  ELSE
    {STORE_FROM.format(rows="new_rows")};
  END IF;
  RETURN NULL;
END $$
"""  # noqa: S608

# From scratch: after this migration, after a change of the properties, and after writes
# that bypassed the triggers (session_replication_role = replica).
REBUILD_FUNCTION = f"""
CREATE FUNCTION bordermark_rebuild_incident_features() RETURNS void
LANGUAGE plpgsql SET timezone = 'UTC' AS $$
BEGIN
  DELETE FROM incident_features f WHERE NOT EXISTS
    (SELECT 1 FROM incidents i WHERE i.id = f.incident_id);
  {STORE_FROM.format(rows="incidents")};
END $$
"""  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "incident_features",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_features")),
    )
    op.execute(PROPERTIES_ROW)
    op.execute(FEATURE_ROW)
    op.execute(PROPERTIES_FUNCTION)
    op.execute(FEATURE_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute(REBUILD_FUNCTION)
    for event, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER incidents_features_{event.lower()} AFTER {event} ON incidents "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            "EXECUTE FUNCTION bordermark_store_incident_features()"
        )
    op.execute(
        """
        CREATE FUNCTION bordermark_truncate_incident_features() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          TRUNCATE incident_features;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER incidents_features_truncate AFTER TRUNCATE ON incidents "
        "FOR EACH STATEMENT EXECUTE FUNCTION bordermark_truncate_incident_features()"
    )
    op.execute("SELECT bordermark_rebuild_incident_features()")


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER incidents_features_{event} ON incidents")
    op.execute("DROP FUNCTION bordermark_truncate_incident_features()")
    op.execute("DROP FUNCTION bordermark_rebuild_incident_features()")
    op.execute("DROP FUNCTION bordermark_store_incident_features()")
    op.execute("DROP FUNCTION bordermark_incident_feature(incidents, text)")
    op.execute("DROP FUNCTION bordermark_incident_properties(incidents, text)")
    op.execute("DROP TYPE bordermark_incident_feature_row")
    op.execute("DROP TYPE bordermark_incident_properties_row")
    op.drop_table("incident_features")
