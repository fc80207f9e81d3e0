"""stored incident features: each incident's GeoJSON feature kept as text, written by the
same statement that writes the incident, so that pages of features are read, not built

Building a feature (30 properties with json_build_object) costs PostgreSQL about 14 us a
row: on the dense bbox page of `make bench` (1,000 features) 14 of the statement's 26 ms.
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

# Inlined by PostgreSQL where it is called (plain SQL, STABLE): no cost over writing the
# expression out in each query.
PROPERTIES_FUNCTION = """
CREATE FUNCTION bordermark_incident_properties(i incidents, border_code text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT json_build_object(
  'border', border_code, 'category', i.category, 'title', i.title,
  'description', i.description, 'occurred_at', i.occurred_at, 'severity', i.severity,
  'status', i.status, 'reported_by', i.reported_by, 'tags', i.tags,
  'location_ref', i.location_ref, 'nearest_marker', i.nearest_marker_code,
  'nearest_marker_distance_m', round(i.nearest_marker_distance_m::numeric, 1),
  'chainage_ref', i.chainage_ref, 'chainage_m', round(i.chainage_m::numeric, 1),
  'distance_to_line_m', round(i.distance_to_line_m::numeric, 1), 'side', i.side,
  'crosses_line', i.crosses_line, 'province', i.province_code, 'district', i.district_code,
  'districts', i.district_codes, 'zones', i.zones, 'zone_measures', i.zone_measures,
  'breaches', i.breaches, 'dismissal_reason', i.dismissal_reason,
  'duplicate_of', i.duplicate_of, 'resolved_at', i.resolved_at, 'version', i.version,
  'created_at', i.created_at, 'updated_at', i.updated_at
)
$$
"""

# The feature as the service builds it in CRS84 (app/incidents/queries.incident_feature,
# with COORD_DECIMALS = 7); tests/incidents/test_stored_features.py holds them equal.
FEATURE_FUNCTION = """
CREATE FUNCTION bordermark_incident_feature(i incidents, border_code text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT json_build_object('type', 'Feature', 'id', i.id,
  'geometry', ST_AsGeoJSON(i.geom, 7)::json,
  'properties', bordermark_incident_properties(i, border_code))::text
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
"""

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
"""


def upgrade() -> None:
    op.create_table(
        "incident_features",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_features")),
    )
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
    op.drop_table("incident_features")
