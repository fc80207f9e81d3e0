"""Disputed and outstanding areas (khu vực còn vướng mắc, tồn tại): where the two sides'
views of the line differ, since when, in what state; the talks about it are the steps of
the incident that follows it."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, ForeignKey, Identity, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import Timestamped, check_in


class DisputeState(StrEnum):
    open = "open"  # raised, no talks yet
    under_talks = "under_talks"
    settled = "settled"


class DisputedArea(Timestamped, Base):
    __tablename__ = "disputed_areas"

    id: Mapped[int] = mapped_column(Integer, Identity(always=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    province_code: Mapped[str] = mapped_column(String(40), nullable=False)
    location_ref: Mapped[str | None] = mapped_column(String(120))
    geom = mapped_column(Geometry("GEOMETRY", 4326, spatial_index=False))  # none: not given
    our_view: Mapped[str | None] = mapped_column(Text)
    their_view: Mapped[str | None] = mapped_column(Text)
    since: Mapped[date | None] = mapped_column(Date)
    since_dated_by: Mapped[str] = mapped_column(String(10), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    settled_on: Mapped[date | None] = mapped_column(Date)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id")
    )
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    section: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(check_in("state", [s.value for s in DisputeState]), name="state"),
        CheckConstraint(check_in("since_dated_by", ["event", "report"]), name="since_dated_by"),
        CheckConstraint("state <> 'settled' OR settled_on IS NOT NULL", name="settled_on"),
        Index("ix_disputed_areas_province_code", "province_code"),
        Index("ix_disputed_areas_geom", "geom", postgresql_using="gist"),
    )
