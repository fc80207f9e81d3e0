"""clearing works: kinds (as data), works along stretches, completions, linked incidents

Revision ID: aa77a73c43e8
Revises: e93904fb7817
Create Date: 2026-11-23 20:53:21.507128
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "aa77a73c43e8"
down_revision: str | None = "e93904fb7817"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = [
    ("clearing", "Phát quang", "Initial clearing", True),
    ("re_clearing", "Phát lại", "Re-clearing", True),
    ("maintenance_clearing", "Phát tu sửa", "Maintenance clearing", True),
    ("embankment", "Kè chống sạt lở", "Anti-landslide embankment", False),
    ("fence", "Hàng rào", "Border fence", False),
    ("road", "Đường", "Road", False),
    ("other", "Công trình khác", "Other works", False),
]


# The 2D stretch of a measured line between two geodesic metres (chainage range -> line).
STRETCH_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_stretch(measured_line geometry, m1 float8, m2 float8)
RETURNS geometry LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ST_LineMerge(ST_Force2D(ST_LocateBetween(measured_line, m1, m2)))
$$
"""


def upgrade() -> None:
    op.execute(STRETCH_FUNCTION)
    op.create_table(
        "clearing_work_kinds",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_vi", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("is_clearing", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_clearing_work_kinds")),
    )
    op.create_geospatial_table(
        "clearing_works",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("range_ref", sa.String(length=120), nullable=False),
        sa.Column("start_m", sa.Float(), nullable=False),
        sa.Column("end_m", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
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
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("approval_body", sa.String(length=200), nullable=True),
        sa.Column("approval_ref", sa.String(length=200), nullable=True),
        sa.Column("approval_year", sa.Integer(), nullable=True),
        sa.Column("party", sa.String(length=10), server_default="joint", nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), server_default="planned", nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "districts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column(
            "province_codes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
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
            "party IN ('vn', 'other', 'joint')", name=op.f("ck_clearing_works_party")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'completed', 'suspended', 'cancelled')",
            name=op.f("ck_clearing_works_status"),
        ),
        sa.CheckConstraint("end_m > start_m", name=op.f("ck_clearing_works_forward")),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_clearing_works_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["kind"],
            ["clearing_work_kinds.code"],
            name=op.f("fk_clearing_works_kind_clearing_work_kinds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_works")),
    )
    op.create_index(
        "ix_clearing_works_border_id_start_m",
        "clearing_works",
        ["border_id", "start_m"],
        unique=False,
    )
    op.create_geospatial_index(
        "ix_clearing_works_geom",
        "clearing_works",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "clearing_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.UUID(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("start_m", sa.Float(), nullable=False),
        sa.Column("end_m", sa.Float(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("end_m > start_m", name=op.f("ck_clearing_completions_forward")),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_clearing_completions_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["clearing_works.id"],
            name=op.f("fk_clearing_completions_work_id_clearing_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_completions")),
    )
    op.create_index(
        "ix_clearing_completions_border_id_start_m",
        "clearing_completions",
        ["border_id", "start_m", "end_m"],
        unique=False,
    )
    op.create_index(
        "ix_clearing_completions_work_id", "clearing_completions", ["work_id"], unique=False
    )
    op.create_table(
        "clearing_work_incidents",
        sa.Column("work_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_clearing_work_incidents_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["clearing_works.id"],
            name=op.f("fk_clearing_work_incidents_work_id_clearing_works"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_id", "incident_id", name=op.f("pk_clearing_work_incidents")),
    )

    kinds = sa.table(
        "clearing_work_kinds",
        sa.column("code", sa.String),
        sa.column("name_vi", sa.String),
        sa.column("name_en", sa.String),
        sa.column("is_clearing", sa.Boolean),
    )
    op.bulk_insert(
        kinds,
        [{"code": c, "name_vi": vi, "name_en": en, "is_clearing": k} for c, vi, en, k in KINDS],
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS bordermark_stretch(geometry, float8, float8)")
    op.drop_table("clearing_work_incidents")
    op.drop_index("ix_clearing_completions_work_id", table_name="clearing_completions")
    op.drop_index("ix_clearing_completions_border_id_start_m", table_name="clearing_completions")
    op.drop_table("clearing_completions")
    op.drop_geospatial_index(
        "ix_clearing_works_geom",
        table_name="clearing_works",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_index("ix_clearing_works_border_id_start_m", table_name="clearing_works")
    op.drop_geospatial_table("clearing_works")
    op.drop_table("clearing_work_kinds")
