from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import Timestamped, check_in


class WorkStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    completed = "completed"
    suspended = "suspended"
    cancelled = "cancelled"


OPEN_WORK_STATES = (WorkStatus.planned, WorkStatus.in_progress, WorkStatus.suspended)


class Party(StrEnum):
    vn = "vn"  # our side alone
    other = "other"  # the neighbour alone
    joint = "joint"


class ClearingWorkKind(Base):
    """Kinds of works, kept as data: clearing (initial), re_clearing (phát lại),
    maintenance_clearing (phát tu sửa), embankment, fence, road, other."""

    __tablename__ = "clearing_work_kinds"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    is_clearing: Mapped[bool] = mapped_column(nullable=False, server_default="false")


class ClearingWork(Timestamped, Base):
    __tablename__ = "clearing_works"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    range_ref: Mapped[str] = mapped_column(String(120), nullable=False)
    start_m: Mapped[float] = mapped_column(Float, nullable=False)
    end_m: Mapped[float] = mapped_column(Float, nullable=False)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)
    geom = mapped_column(Geometry("LINESTRING", 4326, spatial_index=False), nullable=False)
    kind: Mapped[str] = mapped_column(ForeignKey("clearing_work_kinds.code"), nullable=False)
    approval_body: Mapped[str | None] = mapped_column(String(200))
    approval_ref: Mapped[str | None] = mapped_column(String(200))
    approval_year: Mapped[int | None] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(10), nullable=False, server_default="joint")
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="planned")
    notes: Mapped[str | None] = mapped_column(Text)
    # Districts the stretch crosses, with the length in each: [{"code", "length_m"}].
    districts: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
    # Communes likewise (of the districts while there were districts; after 1 Jul 2025 the
    # only units below the province).
    communes: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
    province_codes: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default="[]")
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(check_in("status", [s.value for s in WorkStatus]), name="status"),
        CheckConstraint(check_in("party", [p.value for p in Party]), name="party"),
        CheckConstraint("end_m > start_m", name="forward"),
        Index("ix_clearing_works_geom", "geom", postgresql_using="gist"),
        Index("ix_clearing_works_border_id_start_m", "border_id", "start_m"),
        # The summary's works of a period (reports/queries.py).
        Index("ix_clearing_works_starts", text("coalesce(planned_start, actual_start)")),
        # When a work began (or is to): the OGC collection's datetime and temporal extent.
        Index("ix_clearing_works_began", text("coalesce(actual_start, planned_start)")),
    )


class ClearingWorkIncident(Base):
    __tablename__ = "clearing_work_incidents"

    work_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clearing_works.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id"), primary_key=True
    )


class ClearingCompletion(Base):
    """A sub-stretch of a work completed on a day (works are completed in parts)."""

    __tablename__ = "clearing_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clearing_works.id", ondelete="CASCADE"), nullable=False
    )
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    start_m: Mapped[float] = mapped_column(Float, nullable=False)
    end_m: Mapped[float] = mapped_column(Float, nullable=False)
    completed_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("end_m > start_m", name="forward"),
        Index("ix_clearing_completions_border_id_start_m", "border_id", "start_m", "end_m"),
        Index("ix_clearing_completions_work_id", "work_id"),
        Index("ix_clearing_completions_completed_on", "completed_on"),
    )
