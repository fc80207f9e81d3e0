"""patrols: patrols of the line, the incidents they reported, the markers they checked

Revision ID: a4e8c2d6f1b9
Revises: f3c7a1e9d5b2
Create Date: 2026-12-07 16:10:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "a4e8c2d6f1b9"
down_revision: str | None = "f3c7a1e9d5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrols",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("province_code", sa.String(40), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route_ref", sa.String(120), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="GEOMETRY",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
            ),
            nullable=False,
        ),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_patrols_span")),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_patrols_border_id_borders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrols")),
    )
    op.create_index("ix_patrols_province_started", "patrols", ["province_code", "started_at"])
    op.create_index("ix_patrols_geom", "patrols", ["geom"], postgresql_using="gist")
    op.create_table(
        "patrol_incidents",
        sa.Column("patrol_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name=op.f("fk_patrol_incidents_patrol_id_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_patrol_incidents_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("patrol_id", "incident_id", name=op.f("pk_patrol_incidents")),
    )
    op.add_column("marker_inspections", sa.Column("patrol_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_marker_inspections_patrol_id_patrols"),
        "marker_inspections",
        "patrols",
        ["patrol_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_marker_inspections_patrol", "marker_inspections", ["patrol_id"])
    op.execute(
        "CREATE TRIGGER patrols_notify_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON patrols FOR EACH STATEMENT EXECUTE FUNCTION bordermark_notify_tiles()"
    )


def downgrade() -> None:
    op.drop_index("ix_marker_inspections_patrol", "marker_inspections")
    op.drop_constraint(
        op.f("fk_marker_inspections_patrol_id_patrols"), "marker_inspections", type_="foreignkey"
    )
    op.drop_column("marker_inspections", "patrol_id")
    op.drop_table("patrol_incidents")
    op.drop_table("patrols")
