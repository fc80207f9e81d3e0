"""cases with the other side: documents, settlement steps, approval procedures, breach
reviews; incidents gain their nature and two open states (referred, monitoring)

The provincial reports settle a border event in dated steps (reported to the Ministry,
referred to the Joint Committee's Vietnamese section, a diplomatic note, talks at a named
place, a joint field check, an agreement, watch) and put works on the line through an
approval procedure either side may start. A request for approval, a wildfire or an
approved work is not a breach of the agreement: `incidents.nature` says which kind of
thing an incident is, and only acts are matched against the breach rules.

Transitions take the day they really happened (`incident_history.effective_at`), so a
case settled in 2020 and entered in 2026 counts in 2020.

Revision ID: c4a8e2f6b1d3
Revises: 5d1e7b3a9c42
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4a8e2f6b1d3"
down_revision: str | None = "5d1e7b3a9c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "'reported', 'verified', 'escalated', 'in_negotiation', 'resolved', 'dismissed'"
NEW_STATUSES = OLD_STATUSES + ", 'referred', 'monitoring'"
OLD_OPEN = "('escalated', 'in_negotiation', 'reported', 'verified')"
NEW_OPEN = "('escalated', 'in_negotiation', 'monitoring', 'referred', 'reported', 'verified')"

# The feature's properties gain `nature` (last, so the stored text of other properties
# keeps its order); the function is the one of migration 6b383289a16b plus that member.
PROPERTIES_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_incident_properties(i incidents, border_code text)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT to_json(ROW(
  border_code, i.category, i.title, i.description, i.occurred_at, i.severity, i.status,
  i.reported_by, i.tags, i.location_ref, i.nearest_marker_code,
  round(i.nearest_marker_distance_m::numeric, 1), i.chainage_ref,
  round(i.chainage_m::numeric, 1), round(i.distance_to_line_m::numeric, 1), i.side,
  i.crosses_line, i.province_code, i.district_code, i.district_codes, i.zones,
  i.zone_measures, i.breaches, i.dismissal_reason, i.duplicate_of, i.resolved_at,
  i.version, i.created_at, i.updated_at, i.nature
)::bordermark_incident_properties_row)
$$
"""

OLD_PROPERTIES_FUNCTION = PROPERTIES_FUNCTION.replace(", i.nature\n", "\n")


def _open_index(statuses: str) -> None:
    op.execute("DROP INDEX ix_incidents_open_geog")
    op.execute(
        "CREATE INDEX ix_incidents_open_geog ON incidents USING gist ((geom::geography)) "
        f"WHERE status IN {statuses}"
    )


def _status_check(statuses: str) -> None:
    op.execute("ALTER TABLE incidents DROP CONSTRAINT ck_incidents_status")
    op.execute(
        f"ALTER TABLE incidents ADD CONSTRAINT ck_incidents_status CHECK (status IN ({statuses}))"
    )


def upgrade() -> None:
    _status_check(NEW_STATUSES)
    _open_index(NEW_OPEN)
    op.add_column(
        "incidents",
        sa.Column("nature", sa.String(20), server_default="act", nullable=False),
    )
    op.create_check_constraint(
        "nature",
        "incidents",
        "nature IN ('act', 'approval_request', 'approved_work', 'natural_event')",
    )
    op.add_column(
        "incident_history", sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute("ALTER TYPE bordermark_incident_properties_row ADD ATTRIBUTE nature text")
    op.execute(PROPERTIES_FUNCTION)

    op.create_table(
        "documents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("number", sa.String(100), nullable=True),
        sa.Column("issuer", sa.String(200), nullable=True),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("direction", sa.String(10), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("province_code", sa.String(40), nullable=True),
        sa.Column("attachment_sha256", sa.String(64), nullable=True),
        sa.Column("attachment_filename", sa.String(255), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('bao_cao', 'bien_ban', 'chi_thi', 'cong_ham', 'cong_van', 'de_an', "
            "'ke_hoach', 'nghi_quyet', 'other', 'quyet_dinh', 'thong_bao', 'thu')",
            name=op.f("ck_documents_kind"),
        ),
        sa.CheckConstraint(
            "direction IN ('incoming', 'internal', 'outgoing')",
            name=op.f("ck_documents_direction"),
        ),
        sa.ForeignKeyConstraint(
            ["attachment_sha256"],
            ["attachments.sha256"],
            name=op.f("fk_documents_attachment_sha256_attachments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(
        "ix_documents_number",
        "documents",
        ["kind", "number", "issuer"],
        unique=True,
        postgresql_where=sa.text("number IS NOT NULL"),
    )
    op.create_index("ix_documents_issued_on", "documents", ["issued_on"])
    op.create_index(
        "ix_documents_search_text",
        "documents",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "document_links",
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("target_type", sa.String(20), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("section", sa.String(200), nullable=True),
        sa.CheckConstraint(
            "target_type IN ('approval', 'clearing_work', 'incident', 'step')",
            name=op.f("ck_document_links_target_type"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            ondelete="CASCADE",
            name=op.f("fk_document_links_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint(
            "document_id", "target_type", "target_id", name=op.f("pk_document_links")
        ),
    )
    op.create_index("ix_document_links_target", "document_links", ["target_type", "target_id"])

    op.create_table(
        "incident_steps",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("level", sa.String(10), nullable=True),
        sa.Column("body", sa.String(200), nullable=True),
        sa.Column("counterpart", sa.String(200), nullable=True),
        sa.Column("place", sa.String(200), nullable=True),
        sa.Column("participants", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('agreement', 'call', 'joint_verification', 'monitoring', 'note_received', "
            "'note_sent', 'other', 'referred_to_joint_committee', 'reported_to_body', 'talks')",
            name=op.f("ck_incident_steps_kind"),
        ),
        sa.CheckConstraint(
            "level IN ('central', 'district', 'province')", name=op.f("ck_incident_steps_level")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_steps_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_incident_steps_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_steps")),
    )
    op.create_index(
        "ix_incident_steps_incident_id", "incident_steps", ["incident_id", "happened_on"]
    )
    op.create_index("ix_incident_steps_happened_on", "incident_steps", ["happened_on", "kind"])

    op.create_table(
        "approval_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("border_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_side", sa.String(10), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("work_title", sa.Text(), nullable=False),
        sa.Column("work_kind", sa.String(40), nullable=True),
        sa.Column("location_ref", sa.String(120), nullable=True),
        sa.Column("gate_name", sa.String(200), nullable=True),
        sa.Column("province_code", sa.String(40), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("work_id", sa.UUID(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "requested_by_side IN ('other', 'vn')", name=op.f("ck_approval_requests_side")
        ),
        sa.CheckConstraint(
            "status IN ('approved', 'commented', 'forwarded', 'refused', 'submitted', 'withdrawn')",
            name=op.f("ck_approval_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["border_id"], ["borders.id"], name=op.f("fk_approval_requests_border_id_borders")
        ),
        sa.ForeignKeyConstraint(
            ["work_id"],
            ["clearing_works.id"],
            name=op.f("fk_approval_requests_work_id_clearing_works"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_approval_requests_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    op.create_index(
        "ix_approval_requests_province_status", "approval_requests", ["province_code", "status"]
    )
    op.create_index("ix_approval_requests_work_id", "approval_requests", ["work_id"])
    op.create_index("ix_approval_requests_incident_id", "approval_requests", ["incident_id"])
    op.create_table(
        "approval_stages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("body", sa.String(200), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "stage IN ('approved', 'commented', 'forwarded', 'refused', 'submitted', 'withdrawn')",
            name=op.f("ck_approval_stages_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            ondelete="CASCADE",
            name=op.f("fk_approval_stages_request_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_approval_stages_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_stages")),
    )
    op.create_index(
        "ix_approval_stages_request_id", "approval_stages", ["request_id", "happened_on"]
    )

    op.create_table(
        "breach_reviews",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("article", sa.String(100), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column(
            "reviewed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "verdict IN ('confirmed', 'rejected')", name=op.f("ck_breach_reviews_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_breach_reviews_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("incident_id", "article", name=op.f("pk_breach_reviews")),
    )
    # The reports name re-clearing and maintenance clearing of a list of stretches together
    # ("phát lại, phát tu sửa ... 1042-1053/1, 1173-1183, ..."), without saying which is
    # which: a kind for a work the source does not split.
    op.execute(
        "INSERT INTO clearing_work_kinds (code, name_vi, name_en, is_clearing) VALUES "
        "('re_or_maintenance_clearing', 'Phát lại, phát tu sửa', "
        "'Re-clearing or maintenance clearing (not told apart by the source)', true) "
        "ON CONFLICT DO NOTHING"
    )
    op.execute("SELECT bordermark_rebuild_incident_features()")


def downgrade() -> None:
    op.execute(
        "UPDATE clearing_works SET kind = 're_clearing' WHERE kind = 're_or_maintenance_clearing'"
    )
    op.execute("DELETE FROM clearing_work_kinds WHERE code = 're_or_maintenance_clearing'")
    op.drop_table("breach_reviews")
    op.drop_table("approval_stages")
    op.drop_table("approval_requests")
    op.drop_table("incident_steps")
    op.drop_table("document_links")
    op.drop_table("documents")
    op.execute("ALTER TYPE bordermark_incident_properties_row DROP ATTRIBUTE nature")
    op.execute(OLD_PROPERTIES_FUNCTION)
    op.drop_column("incident_history", "effective_at")
    op.drop_constraint("ck_incidents_nature", "incidents")
    op.drop_column("incidents", "nature")
    op.execute(
        "UPDATE incidents SET status = 'verified' WHERE status IN ('referred', 'monitoring')"
    )
    _open_index(OLD_OPEN)
    _status_check(OLD_STATUSES)
    op.execute("SELECT bordermark_rebuild_incident_features()")
