"""incidents: categories, breach rules, incidents with context, history, attachments

Revision ID: 4c4e553b154d
Revises: 13190bc1abd1
Create Date: 2026-11-23 20:18:18.536657
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "4c4e553b154d"
down_revision: str | None = "13190bc1abd1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The starting taxonomy (DOMAIN.md). Reference data every deployment needs, so it lives
# in the migration; more categories are rows, not code.
CATEGORIES = [
    ("fence", "Rào, hàng rào", "Fence built on, across or near the line"),
    ("excavation", "Đào hào, đào đất", "Trench or digging"),
    ("cable", "Cáp quang, cáp", "Fibre or other cable laid"),
    ("surveillance_equipment", "Thiết bị giám sát, camera", "Surveillance cameras or sensors"),
    ("aerial_flight", "Bay flycam, thiết bị bay", "Drone or aircraft flight near the border"),
    ("construction", "Xây dựng công trình", "Construction near the line"),
    ("marker_damage", "Mốc bị hư hỏng, xê dịch", "Marker damaged, moved or destroyed"),
    (
        "marker_at_risk",
        "Mốc có nguy cơ sạt lở",
        "Marker or line at risk of landslide or subsidence",
    ),
    ("line_dispute", "Nhận thức khác nhau về hướng đường biên", "Disagreement on the line"),
    ("illegal_crossing", "Xuất nhập cảnh trái phép", "Illegal crossing"),
    (
        "cross_border_activity",
        "Canh tác, khai thác, chăn thả qua biên giới",
        "Cross-border logging, farming, burial, grazing",
    ),
    ("river_works", "Công trình trên sông suối biên giới", "Works on a boundary river"),
    ("fire", "Cháy rừng, đốt nương", "Forest fire or burning"),
    ("mining", "Khai thác khoáng sản", "Mining"),
    ("smuggling", "Buôn lậu", "Smuggling"),
    ("other", "Khác", "Other"),
]

HISTORY_APPEND_ONLY = [
    "CREATE TRIGGER incident_history_append_only BEFORE UPDATE OR DELETE ON incident_history "
    "FOR EACH ROW EXECUTE FUNCTION bordermark_refuse_audit_change()",
    "CREATE TRIGGER incident_history_no_truncate BEFORE TRUNCATE ON incident_history "
    "FOR EACH STATEMENT EXECUTE FUNCTION bordermark_refuse_audit_change()",
]


def upgrade() -> None:
    # pg_trgm (PostgreSQL contrib) indexes the folded text search.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "attachments",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_attachments")),
    )
    op.create_table(
        "incident_categories",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_vi", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_incident_categories")),
    )
    op.create_table(
        "breach_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("zone_code", sa.String(length=40), nullable=True),
        sa.Column("article", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "exempt_tags",
            postgresql.ARRAY(sa.String(length=60)),
            server_default="{}",
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["border_id"],
            ["borders.id"],
            name=op.f("fk_breach_rules_border_id_borders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["incident_categories.code"],
            name=op.f("fk_breach_rules_category_incident_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_rules")),
        sa.UniqueConstraint(
            "border_id",
            "category",
            "zone_code",
            "article",
            name=op.f("uq_breach_rules_border_id_category_zone_code_article"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_geospatial_table(
        "incidents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=10), server_default="medium", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="reported", nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String(length=60)), server_default="{}", nullable=False
        ),
        sa.Column("location_ref", sa.String(length=120), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("created_by_token_id", sa.UUID(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("dismissal_reason", sa.String(length=40), nullable=True),
        sa.Column("duplicate_of", sa.UUID(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("nearest_marker_code", sa.String(length=20), nullable=True),
        sa.Column("nearest_marker_distance_m", sa.Float(), nullable=True),
        sa.Column("chainage_ref", sa.String(length=40), nullable=True),
        sa.Column("chainage_m", sa.Float(), nullable=True),
        sa.Column("distance_to_line_m", sa.Float(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("crosses_line", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("province_code", sa.String(length=40), nullable=True),
        sa.Column("district_code", sa.String(length=40), nullable=True),
        sa.Column(
            "district_codes",
            postgresql.ARRAY(sa.String(length=40)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "zones", postgresql.ARRAY(sa.String(length=40)), server_default="{}", nullable=False
        ),
        sa.Column(
            "zone_measures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "breaches", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
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
            "severity IN ('low', 'medium', 'high', 'critical')", name=op.f("ck_incidents_severity")
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'verified', 'escalated', 'in_negotiation', 'resolved', 'dismissed')",
            name=op.f("ck_incidents_status"),
        ),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_incidents_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["incident_categories.code"],
            name=op.f("fk_incidents_category_incident_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(
        "ix_incidents_geog",
        "incidents",
        [sa.literal_column("(geom::geography)")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_geospatial_index(
        "ix_incidents_geom",
        "incidents",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_incidents_occurred_at_id", "incidents", ["occurred_at", "id"], unique=False)
    op.create_index(
        "ix_incidents_province_code_status", "incidents", ["province_code", "status"], unique=False
    )
    op.create_index(
        "ix_incidents_search_text",
        "incidents",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_incidents_zones", "incidents", ["zones"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "incident_attachments",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_attachments_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["attachments.sha256"],
            name=op.f("fk_incident_attachments_sha256_attachments"),
        ),
        sa.PrimaryKeyConstraint("incident_id", "sha256", name=op.f("pk_incident_attachments")),
    )
    op.create_table(
        "incident_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_token_id", sa.UUID(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "changes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("document_ref", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_history_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_history")),
    )
    op.create_index(
        op.f("ix_incident_history_incident_id"), "incident_history", ["incident_id"], unique=False
    )
    for statement in HISTORY_APPEND_ONLY:
        op.execute(statement)
    categories = sa.table(
        "incident_categories",
        sa.column("code", sa.String),
        sa.column("name_vi", sa.String),
        sa.column("name_en", sa.String),
    )
    op.bulk_insert(
        categories, [{"code": c, "name_vi": vi, "name_en": en} for c, vi, en in CATEGORIES]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_history_incident_id"), table_name="incident_history")
    op.drop_table("incident_history")
    op.drop_table("incident_attachments")
    op.drop_index("ix_incidents_zones", table_name="incidents", postgresql_using="gin")
    op.drop_index(
        "ix_incidents_search_text",
        table_name="incidents",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_incidents_province_code_status", table_name="incidents")
    op.drop_index("ix_incidents_occurred_at_id", table_name="incidents")
    op.drop_geospatial_index(
        "ix_incidents_geom", table_name="incidents", postgresql_using="gist", column_name="geom"
    )
    op.drop_index("ix_incidents_geog", table_name="incidents", postgresql_using="gist")
    op.drop_geospatial_table("incidents")
    op.drop_table("breach_rules")
    op.drop_table("incident_categories")
    op.drop_table("attachments")
    # pg_trgm stays, like PostGIS: other schemas may use it.
