from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from app.db import Base
from app.timestamps import Timestamped, check_in


class Status(StrEnum):
    reported = "reported"
    verified = "verified"
    escalated = "escalated"  # reported to the Ministry (National Boundary Commission)
    referred = "referred"  # referred to the Joint Committee's Vietnamese section
    in_negotiation = "in_negotiation"  # raised with the other side
    monitoring = "monitoring"  # kept under watch ("theo dõi, giám sát"), not settled
    resolved = "resolved"
    dismissed = "dismissed"


# The states an incident is still being followed in, and as SQL the predicate of the open
# incidents' spatial index: the similar reports every POST answers with (queries._similar_sql)
# name the same list, and PostgreSQL uses the index only while they ask for no other state.
OPEN_STATUSES = frozenset(
    {
        Status.reported,
        Status.verified,
        Status.escalated,
        Status.referred,
        Status.in_negotiation,
        Status.monitoring,
    }
)
OPEN_STATUS_LIST_SQL = "(" + ", ".join(sorted(f"'{state.value}'" for state in OPEN_STATUSES)) + ")"


class Nature(StrEnum):
    """What kind of thing an incident is. Only an act is matched against the agreement's
    breach rules: a request for approval, an approved work or a wildfire is not a breach."""

    act = "act"  # something a party did on the line (built, dug, flew, moved a marker)
    approval_request = "approval_request"  # a side asks to build; not a breach
    approved_work = "approved_work"  # done under an approval
    natural_event = "natural_event"  # a wildfire, a landslide, a flood


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class IncidentCategory(Base):
    """The event taxonomy, kept as data (DOMAIN.md's events to start with)."""

    __tablename__ = "incident_categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)


class BreachRule(Base):
    """Which agreement article an event of a category may breach inside a zone. A rule
    with no zone applies wherever the event is; `exempt_tags` lists tags that exempt an
    event (e.g. `jointly_agreed`, `border_gate_facility`)."""

    __tablename__ = "breach_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    border_id: Mapped[int] = mapped_column(
        ForeignKey("borders.id", ondelete="CASCADE"), nullable=False
    )
    category: Mapped[str] = mapped_column(
        ForeignKey("incident_categories.code", ondelete="CASCADE"), nullable=False
    )
    zone_code: Mapped[str | None] = mapped_column(String(40))
    article: Mapped[str] = mapped_column(String(100), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    exempt_tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(60)), nullable=False, server_default="{}"
    )

    __table_args__ = (
        UniqueConstraint(
            "border_id", "category", "zone_code", "article", postgresql_nulls_not_distinct=True
        ),
    )


class PgBox(UserDefinedType[Any]):
    """PostgreSQL's own `box` (two corners), which SQLAlchemy has no type for."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "box"


# Reflection (Alembic's comparison of the models with the database) knows it by name too.
postgresql_base.ischema_names["box"] = PgBox


class Incident(Timestamped, Base):
    __tablename__ = "incidents"

    # Client-generated: resending the same id is how a field app retries safely.
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    category: Mapped[str] = mapped_column(ForeignKey("incident_categories.code"), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    severity: Mapped[str] = mapped_column(String(10), nullable=False, server_default="medium")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="reported")
    reported_by: Mapped[str] = mapped_column(String(200), nullable=False)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(60)), nullable=False, server_default="{}")
    location_ref: Mapped[str | None] = mapped_column(String(120))
    geom = mapped_column(Geometry("GEOMETRY", 4326, spatial_index=False), nullable=False)
    created_by_token_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    dismissal_reason: Mapped[str | None] = mapped_column(String(40))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    nature: Mapped[str] = mapped_column(String(20), nullable=False, server_default="act")
    # Folded (lower case, no diacritics) title, description and tags, for `q`.
    search_text: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # The geometry's bounding box, kept by PostgreSQL (migration 8a4d2c6e0b19): its SP-GiST
    # index, which includes the id, gives a bbox page its keys without reading the table
    # (app/ogc/statements.py). Never loaded with an incident.
    extent_box = mapped_column(PgBox(), Computed("box(geom)", persisted=True), deferred=True)

    # Context computed on arrival (and again when geometry, category or zones change).
    nearest_marker_code: Mapped[str | None] = mapped_column(String(20))
    nearest_marker_distance_m: Mapped[float | None] = mapped_column(Float)
    chainage_ref: Mapped[str | None] = mapped_column(String(40))
    chainage_m: Mapped[float | None] = mapped_column(Float)
    distance_to_line_m: Mapped[float] = mapped_column(Float, nullable=False)
    side: Mapped[str] = mapped_column(String(10), nullable=False)
    crosses_line: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    province_code: Mapped[str | None] = mapped_column(String(40))
    district_code: Mapped[str | None] = mapped_column(String(40))
    district_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default="{}"
    )
    # The commune valid on the event's day: below the district until 1 Jul 2025, then the
    # only unit below the province.
    commune_code: Mapped[str | None] = mapped_column(String(40))
    zones: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, server_default="{}")
    zone_measures: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )
    breaches: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")

    __table_args__ = (
        CheckConstraint(check_in("status", [s.value for s in Status]), name="status"),
        CheckConstraint(check_in("severity", [s.value for s in Severity]), name="severity"),
        CheckConstraint(check_in("nature", [n.value for n in Nature]), name="nature"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist"),
        Index("ix_incidents_geog", text("(geom::geography)"), postgresql_using="gist"),
        Index(
            "ix_incidents_extent_box",
            "extent_box",
            postgresql_using="spgist",
            postgresql_include=["id"],
        ),
        # Open incidents only (migration 6d1f3b8e2a47): a few in ten, and in a busy place
        # the similar-reports query no longer reads every settled incident near a new one.
        Index(
            "ix_incidents_open_geog",
            text("(geom::geography)"),
            postgresql_using="gist",
            postgresql_where=text(f"status IN {OPEN_STATUS_LIST_SQL}"),
        ),
        Index("ix_incidents_occurred_at_id", "occurred_at", "id"),
        # By geometry dimension, for the one-type OGC collections (migration 5d1e7b3a9c42).
        Index("ix_incidents_dimension", text("ST_Dimension(geom)"), "id"),
        Index("ix_incidents_zones", "zones", postgresql_using="gin"),
        Index(
            "ix_incidents_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_incidents_province_code_status", "province_code", "status"),
        # Covering indexes for the per-district summary (migration 3e7a9c2b5d14).
        Index(
            "ix_incidents_report",
            "occurred_at",
            postgresql_include=[
                "border_id",
                "district_code",
                "province_code",
                "category",
                "status",
                "resolved_at",
                "updated_at",
                "zones",
            ],
        ),
        Index(
            "ix_incidents_resolved",
            "resolved_at",
            postgresql_include=["border_id", "district_code", "province_code", "occurred_at"],
            postgresql_where=text("status = 'resolved'"),
        ),
    )


class IncidentHistory(Base):
    """Append-only: every change to an incident, who, when, what (a trigger refuses edits)."""

    __tablename__ = "incident_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    actor_token_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    document_ref: Mapped[str | None] = mapped_column(String(200))
    # When the change really happened, if not when it was entered (a case settled in 2020
    # and recorded in 2026 counts in 2020).
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    """A stored file, content-addressed by SHA-256 (one copy however often it is sent)."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class IncidentAttachment(Base):
    __tablename__ = "incident_attachments"

    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(ForeignKey("attachments.sha256"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class IncidentFeature(Base):
    """Each incident's GeoJSON feature (CRS84, every property) as text, written by triggers
    on incidents in the same statement as the incident (migration 6b383289a16b): pages of
    features are read from here instead of being built row by row."""

    __tablename__ = "incident_features"

    # No foreign key: its check would cost a lookup per written feature; the triggers
    # delete features with their incidents.
    incident_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    feature: Mapped[str] = mapped_column(Text, nullable=False)
