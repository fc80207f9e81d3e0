"""Marker inspections (what a unit found at a marker on a day) and repairs or restorations
(planned or done, by which side). A marker's condition is its latest inspection's."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.markers.models import MarkerCondition
from app.timestamps import check_in


class RepairKind(StrEnum):
    repair = "repair"  # sửa chữa (light or full)
    restoration = "restoration"  # khôi phục (a lost or destroyed marker)
    relocation = "relocation"  # di dời


class RepairStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class RepairSide(StrEnum):
    vn = "vn"
    other = "other"
    joint = "joint"


class MarkerInspection(Base):
    __tablename__ = "marker_inspections"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("markers.id"), nullable=False)
    inspected_on: Mapped[date] = mapped_column(Date, nullable=False)
    unit: Mapped[str | None] = mapped_column(String(200))  # who went: a station, the office
    inspectors: Mapped[str | None] = mapped_column(Text)
    joint: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    other_side_participants: Mapped[str | None] = mapped_column(Text)
    condition: Mapped[str] = mapped_column(String(10), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    section: Mapped[str | None] = mapped_column(String(40))
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # The patrol that checked the marker, when a patrol did.
    patrol_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("patrols.id", ondelete="CASCADE")
    )

    __table_args__ = (
        CheckConstraint(
            check_in("condition", [c.value for c in MarkerCondition]), name="condition"
        ),
        Index("ix_marker_inspections_marker", "marker_id", "inspected_on"),
        Index("ix_marker_inspections_patrol", "patrol_id"),
    )


class MarkerRepair(Base):
    __tablename__ = "marker_repairs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("markers.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    side: Mapped[str] = mapped_column(String(6), nullable=False)  # who does it
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    planned_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id")
    )
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    section: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(check_in("kind", [k.value for k in RepairKind]), name="kind"),
        CheckConstraint(check_in("side", [s.value for s in RepairSide]), name="side"),
        CheckConstraint(check_in("status", [s.value for s in RepairStatus]), name="status"),
        # A done repair has its day; a planned one may not.
        CheckConstraint("status <> 'done' OR done_on IS NOT NULL", name="done_on"),
        Index("ix_marker_repairs_marker", "marker_id"),
    )
