"""crossings: border gates and crossings, their status history and what concerns them

Revision ID: c1d8e4a7f2b6
Revises: a7f3c5e9d2b4
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c1d8e4a7f2b6"
down_revision: str | None = "a7f3c5e9d2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = (
    "level IN ('international', 'main', 'secondary', 'opening', 'clearance_lane', "
    "'specialised_road')"
)
STATUSES = (
    "status IN ('planned', 'approved', 'open', 'suspended', 'reopened', 'upgraded', 'closed')"
)


def upgrade() -> None:
    op.create_table(
        "crossings",
        sa.Column("id", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("name_vn", sa.String(120), nullable=False),
        sa.Column("name_other", sa.String(120), nullable=True),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("serves", postgresql.ARRAY(sa.String(20)), server_default="{}", nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("location_ref", sa.String(120), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT", srid=4326, spatial_index=False, from_text="ST_GeomFromEWKT"
            ),
            nullable=False,
        ),
        sa.Column("place_illustrative", sa.Boolean(), nullable=False),
        sa.Column("province_code", sa.String(40), nullable=False),
        sa.Column("other_side_unit", sa.String(120), nullable=True),
        sa.Column("status", sa.String(12), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(LEVELS, name=op.f("ck_crossings_level")),
        sa.CheckConstraint(STATUSES, name=op.f("ck_crossings_status")),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_crossings_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["crossings.id"], name=op.f("fk_crossings_parent_id_crossings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossings")),
        sa.UniqueConstraint("code", name=op.f("uq_crossings_code")),
    )
    op.create_index("ix_crossings_province_code", "crossings", ["province_code"])
    op.create_index("ix_crossings_geom", "crossings", ["geom"], postgresql_using="gist")
    op.create_table(
        "crossing_status_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("crossing_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("level", sa.String(20), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("dated_by", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("section", sa.String(40), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(STATUSES, name=op.f("ck_crossing_status_changes_status")),
        sa.CheckConstraint(LEVELS, name=op.f("ck_crossing_status_changes_level")),
        sa.CheckConstraint(
            "dated_by IN ('event', 'report')", name=op.f("ck_crossing_status_changes_dated_by")
        ),
        sa.ForeignKeyConstraint(
            ["crossing_id"],
            ["crossings.id"],
            name=op.f("fk_crossing_status_changes_crossing_id_crossings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_crossing_status_changes_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossing_status_changes")),
    )
    op.create_index(
        "ix_crossing_status_changes_crossing",
        "crossing_status_changes",
        ["crossing_id", "effective_on"],
    )
    op.create_table(
        "crossing_links",
        sa.Column("crossing_id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(40), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "entity_type IN ('approval', 'clearing_work', 'incident')",
            name=op.f("ck_crossing_links_entity_type"),
        ),
        sa.ForeignKeyConstraint(
            ["crossing_id"],
            ["crossings.id"],
            name=op.f("fk_crossing_links_crossing_id_crossings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "crossing_id", "entity_type", "entity_id", name=op.f("pk_crossing_links")
        ),
    )
    op.create_index("ix_crossing_links_entity", "crossing_links", ["entity_type", "entity_id"])
    # The history is append-only in the database itself, as the incidents' is.
    op.execute(
        "CREATE TRIGGER crossing_status_changes_append_only BEFORE UPDATE OR DELETE "
        "ON crossing_status_changes FOR EACH ROW "
        "EXECUTE FUNCTION bordermark_refuse_audit_change()"
    )
    op.execute(
        "CREATE TRIGGER crossings_notify_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON crossings FOR EACH STATEMENT EXECUTE FUNCTION bordermark_notify_tiles()"
    )


def downgrade() -> None:
    op.drop_table("crossing_links")
    op.drop_table("crossing_status_changes")
    op.drop_table("crossings")
