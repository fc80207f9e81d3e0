"""Patrols of the line (tuần tra): a unit, a time span, a route (a stretch of the line or
a GPS track), the markers it checked (each check an inspection) and the incidents it
reported."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Patrol(Base):
    __tablename__ = "patrols"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    unit: Mapped[str] = mapped_column(String(200), nullable=False)  # a Border Guard station
    # The station in the register of units, when the patrol names one (its name is `unit`).
    station_code: Mapped[str | None] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(String(40), nullable=False)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    route_ref: Mapped[str | None] = mapped_column(String(120))  # `VN-CN:1042-1053/1`
    geom = mapped_column(Geometry("GEOMETRY", 4326, spatial_index=False), nullable=False)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)  # geodesic
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint("ended_at >= started_at", name="span"),
        Index("ix_patrols_province_started", "province_code", "started_at"),
        Index("ix_patrols_geom", "geom", postgresql_using="gist"),
    )


class PatrolIncident(Base):
    __tablename__ = "patrol_incidents"

    patrol_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id"), primary_key=True
    )
