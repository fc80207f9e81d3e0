"""foundation: PostGIS, VN-2000 CRS rows, borders, markers, segments, admin units, tokens, audit

Revision ID: 13190bc1abd1
Revises: (none)
Create Date: 2026-11-23 19:57:28.679806
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "13190bc1abd1"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostGIS 3.3's spatial_ref_sys predates the VN-2000 TM-3 codes 9205-9218; PROJ knows them.
# Rows are written from pyproj's definitions so ST_Transform can reach every supported CRS.
VN2000_TM3 = range(9205, 9219)

# Which side of a line a point lies on: +1 left, -1 right, 0 on it (the sign of the cross
# product with the line's direction at the closest point). Used for chainage and context.
SIDE_OF_LINE_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_side_of_line(line geometry, pt geometry)
RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  WITH t AS (SELECT ST_LineLocatePoint(line, pt) AS f),
  ab AS (
    SELECT ST_LineInterpolatePoint(line, greatest(f - 1e-7, 0)) AS a,
           ST_LineInterpolatePoint(line, least(f + 1e-7, 1)) AS b
    FROM t
  )
  SELECT sign((ST_X(b) - ST_X(a)) * (ST_Y(pt) - ST_Y(a))
            - (ST_Y(b) - ST_Y(a)) * (ST_X(pt) - ST_X(a)))::integer
  FROM ab
$$
"""

# The 2D point at geodesic metre `m` of a measured line (chainage -> point).
POINT_AT_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_point_at(measured_line geometry, m float8)
RETURNS geometry LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ST_Force2D(ST_GeometryN(ST_LocateAlong(measured_line, m), 1))
$$
"""

# The audit log is append-only in the database itself, whatever the application does.
# (One statement per string: asyncpg runs no multi-statement text.)
AUDIT_APPEND_ONLY = [
    """
CREATE OR REPLACE FUNCTION bordermark_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION bordermark_refuse_audit_change()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION bordermark_refuse_audit_change()",
]


def _add_missing_vn2000_crs() -> None:
    import warnings

    from pyproj import CRS

    conn = op.get_bind()
    for code in VN2000_TM3:
        exists = conn.execute(sa.text("SELECT 1 FROM spatial_ref_sys WHERE srid = :s"), {"s": code})
        if exists.first():
            continue
        crs = CRS.from_epsg(code)
        with warnings.catch_warnings():  # PROJ strings are lossy; PostGIS prefers the auth code
            warnings.simplefilter("ignore", UserWarning)
            proj4 = crs.to_proj4()
        conn.execute(
            sa.text(
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                "VALUES (:s, 'EPSG', :s, :wkt, :proj4)"
            ),
            {"s": code, "wkt": crs.to_wkt("WKT1_GDAL"), "proj4": proj4},
        )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    _add_missing_vn2000_crs()
    op.create_geospatial_table(
        "admin_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("name_vi", sa.String(length=120), nullable=False),
        sa.Column("name_ascii", sa.String(length=120), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint("level IN ('province', 'district')", name=op.f("ck_admin_units_level")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_admin_units_validity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_units")),
        sa.UniqueConstraint("code", "valid_from", name=op.f("uq_admin_units_code_valid_from")),
    )
    op.create_geospatial_index(
        "ix_admin_units_geom",
        "admin_units",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("province_code", sa.String(length=40), nullable=True),
        sa.Column("district_code", sa.String(length=40), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role <> 'officer' OR province_code IS NOT NULL) AND (role <> 'reporter' OR district_code IS NOT NULL)",
            name=op.f("ck_api_tokens_scope"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'officer', 'reporter', 'analyst')", name=op.f("ck_api_tokens_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor_token_id", sa.UUID(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=True),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id"], unique=False)
    op.create_geospatial_table(
        "borders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name_vi", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("left_country", sa.String(length=2), nullable=False),
        sa.Column("right_country", sa.String(length=2), nullable=False),
        sa.Column("orientation", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "measured_geom",
            Geometry(
                geometry_type="LINESTRINGM",
                srid=4326,
                dimension=3,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("official_length_km", sa.Float(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("accuracy", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_borders")),
        sa.UniqueConstraint("code", name=op.f("uq_borders_code")),
    )
    op.create_geospatial_index(
        "ix_borders_geom",
        "borders",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "border_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["border_id"],
            ["borders.id"],
            name=op.f("fk_border_parts_border_id_borders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_border_parts")),
    )
    op.create_index(op.f("ix_border_parts_border_id"), "border_parts", ["border_id"], unique=False)
    op.create_index(
        "ix_border_parts_geog",
        "border_parts",
        [sa.literal_column("(geom::geography)")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "border_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_vi", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("article", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["border_id"],
            ["borders.id"],
            name=op.f("fk_border_zones_border_id_borders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_border_zones")),
        sa.UniqueConstraint("border_id", "code", name=op.f("uq_border_zones_border_id_code")),
    )
    op.create_geospatial_table(
        "markers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("aux_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("bank_index", sa.Integer(), server_default="0", nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("elevation_m", sa.Float(), nullable=True),
        sa.Column("condition", sa.String(length=10), server_default="intact", nullable=False),
        sa.Column("last_inspected_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("line_fraction", sa.Float(), nullable=False),
        sa.Column("chainage_m", sa.Float(), nullable=False),
        sa.Column("offset_from_line_m", sa.Float(), nullable=False),
        sa.Column("province_code", sa.String(length=40), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "condition IN ('intact', 'damaged', 'displaced', 'destroyed', 'at_risk')",
            name=op.f("ck_markers_condition"),
        ),
        sa.CheckConstraint(
            "kind IN ('main', 'auxiliary', 'double', 'triple')", name=op.f("ck_markers_kind")
        ),
        sa.CheckConstraint(
            "aux_index >= 0 AND bank_index BETWEEN 0 AND 3", name=op.f("ck_markers_code_parts")
        ),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_markers_border_id_borders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_markers")),
        sa.UniqueConstraint("border_id", "code", name=op.f("uq_markers_border_id_code")),
        sa.UniqueConstraint(
            "border_id",
            "number",
            "aux_index",
            "bank_index",
            name=op.f("uq_markers_border_id_number_aux_index_bank_index"),
        ),
    )
    op.create_index(
        "ix_markers_border_id_chainage_m", "markers", ["border_id", "chainage_m"], unique=False
    )
    op.create_index(
        "ix_markers_geog",
        "markers",
        [sa.literal_column("(geom::geography)")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_geospatial_index(
        "ix_markers_geom",
        "markers",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("from_marker_id", sa.Integer(), nullable=False),
        sa.Column("to_marker_id", sa.Integer(), nullable=False),
        sa.Column("start_m", sa.Float(), nullable=False),
        sa.Column("end_m", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("sightline_width_m", sa.Float(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('land', 'river')", name=op.f("ck_segments_kind")),
        sa.CheckConstraint("end_m >= start_m", name=op.f("ck_segments_forward")),
        sa.ForeignKeyConstraint(
            ["border_id"],
            ["borders.id"],
            name=op.f("fk_segments_border_id_borders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_marker_id"],
            ["markers.id"],
            name=op.f("fk_segments_from_marker_id_markers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_marker_id"],
            ["markers.id"],
            name=op.f("fk_segments_to_marker_id_markers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint(
            "border_id", "from_marker_id", name=op.f("uq_segments_border_id_from_marker_id")
        ),
    )
    op.create_index(
        "ix_segments_border_id_start_m", "segments", ["border_id", "start_m"], unique=False
    )
    op.create_geospatial_index(
        "ix_segments_geom",
        "segments",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.execute(SIDE_OF_LINE_FUNCTION)
    op.execute(POINT_AT_FUNCTION)
    for statement in AUDIT_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS bordermark_refuse_audit_change()")
    op.execute("DROP FUNCTION IF EXISTS bordermark_side_of_line(geometry, geometry)")
    op.execute("DROP FUNCTION IF EXISTS bordermark_point_at(geometry, float8)")
    op.drop_geospatial_index(
        "ix_segments_geom", table_name="segments", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("ix_segments_border_id_start_m", table_name="segments")
    op.drop_geospatial_table("segments")
    op.drop_geospatial_index(
        "ix_markers_geom", table_name="markers", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("ix_markers_geog", table_name="markers", postgresql_using="gist")
    op.drop_index("ix_markers_border_id_chainage_m", table_name="markers")
    op.drop_geospatial_table("markers")
    op.drop_table("border_zones")
    op.drop_index("ix_border_parts_geog", table_name="border_parts", postgresql_using="gist")
    op.drop_index(op.f("ix_border_parts_border_id"), table_name="border_parts")
    op.drop_geospatial_table("border_parts")
    op.drop_geospatial_index(
        "ix_borders_geom", table_name="borders", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("borders")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_tokens")
    op.drop_geospatial_index(
        "ix_admin_units_geom", table_name="admin_units", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("admin_units")
    # PostGIS and the VN-2000 rows added to spatial_ref_sys stay: they are correct EPSG
    # definitions, and dropping the extension would take other schemas' objects with it.
