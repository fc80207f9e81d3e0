"""marker inspections and repairs: what was found at a marker, and its repairs

Revision ID: d5a9c3e7b1f4
Revises: c1d8e4a7f2b6
Create Date: 2026-12-07 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5a9c3e7b1f4"
down_revision: str | None = "c1d8e4a7f2b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recorded() -> list[sa.Column[object]]:
    return [
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "marker_inspections",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("marker_id", sa.Integer(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(200), nullable=True),
        sa.Column("inspectors", sa.Text(), nullable=True),
        sa.Column("joint", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("other_side_participants", sa.Text(), nullable=True),
        sa.Column("condition", sa.String(10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("section", sa.String(40), nullable=True),
        *_recorded(),
        sa.CheckConstraint(
            "condition IN ('intact', 'damaged', 'displaced', 'destroyed', 'at_risk')",
            name=op.f("ck_marker_inspections_condition"),
        ),
        sa.ForeignKeyConstraint(
            ["marker_id"], ["markers.id"], name=op.f("fk_marker_inspections_marker_id_markers")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_marker_inspections_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marker_inspections")),
    )
    op.create_index(
        "ix_marker_inspections_marker", "marker_inspections", ["marker_id", "inspected_on"]
    )
    op.create_table(
        "marker_repairs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("marker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("side", sa.String(6), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("section", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *_recorded(),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "kind IN ('repair', 'restoration', 'relocation')", name=op.f("ck_marker_repairs_kind")
        ),
        sa.CheckConstraint("side IN ('vn', 'other', 'joint')", name=op.f("ck_marker_repairs_side")),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'cancelled')",
            name=op.f("ck_marker_repairs_status"),
        ),
        sa.CheckConstraint(
            "status <> 'done' OR done_on IS NOT NULL", name=op.f("ck_marker_repairs_done_on")
        ),
        sa.ForeignKeyConstraint(
            ["marker_id"], ["markers.id"], name=op.f("fk_marker_repairs_marker_id_markers")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_marker_repairs_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_marker_repairs_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marker_repairs")),
    )
    op.create_index("ix_marker_repairs_marker", "marker_repairs", ["marker_id"])


def downgrade() -> None:
    op.drop_table("marker_repairs")
    op.drop_table("marker_inspections")
