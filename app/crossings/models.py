"""Border gates and crossings (cửa khẩu, lối mở, lối thông quan): a pair of names across
the line, a level, where it stands, and its status as a dated history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import Timestamped, check_in


class CrossingLevel(StrEnum):
    """Decree 34/2014 and the 2009 agreement's kinds, highest first."""

    international = "international"  # cửa khẩu quốc tế
    main = "main"  # cửa khẩu chính (song phương)
    secondary = "secondary"  # cửa khẩu phụ
    opening = "opening"  # lối mở
    clearance_lane = "clearance_lane"  # lối thông quan (of a gate)
    specialised_road = "specialised_road"  # đường chuyên dụng vận chuyển hàng hóa


class Serves(StrEnum):
    passengers = "passengers"
    goods = "goods"
    tourists = "tourists"
    border_residents = "border_residents"


class CrossingStatus(StrEnum):
    planned = "planned"  # proposed, or its opening being prepared
    approved = "approved"
    open = "open"
    suspended = "suspended"
    reopened = "reopened"
    upgraded = "upgraded"  # open, at a new level
    closed = "closed"


OPEN_STATES = frozenset({CrossingStatus.open, CrossingStatus.reopened, CrossingStatus.upgraded})


class DatedBy(StrEnum):
    """What a status change's day is: the day it happened, or the day (or month) of the
    report that found it so, when the report does not say when it happened."""

    event = "event"
    report = "report"


class Crossing(Timestamped, Base):
    __tablename__ = "crossings"

    id: Mapped[int] = mapped_column(Integer, Identity(always=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    name_vn: Mapped[str] = mapped_column(String(120), nullable=False)
    name_other: Mapped[str | None] = mapped_column(String(120))  # the other side's name
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    serves: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), nullable=False, server_default="{}"
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("crossings.id"))  # a gate's lane
    location_ref: Mapped[str | None] = mapped_column(String(120))  # `VN-CN:1055-1056`
    geom = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=False)
    place_illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False)
    province_code: Mapped[str] = mapped_column(String(40), nullable=False)
    other_side_unit: Mapped[str | None] = mapped_column(String(120))  # Quảng Tây, Nà Po
    status: Mapped[str | None] = mapped_column(String(12))  # the latest change's; none known
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(check_in("level", [v.value for v in CrossingLevel]), name="level"),
        CheckConstraint(check_in("status", [v.value for v in CrossingStatus]), name="status"),
        Index("ix_crossings_province_code", "province_code"),
        Index("ix_crossings_geom", "geom", postgresql_using="gist"),
    )


class CrossingStatusChange(Base):
    """Append-only: a crossing's history is never rewritten (a trigger refuses it)."""

    __tablename__ = "crossing_status_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    crossing_id: Mapped[int] = mapped_column(
        ForeignKey("crossings.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    level: Mapped[str | None] = mapped_column(String(20))  # the level from then on
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    dated_by: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    section: Mapped[str | None] = mapped_column(String(40))  # where the document says it
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(check_in("status", [v.value for v in CrossingStatus]), name="status"),
        CheckConstraint(check_in("level", [v.value for v in CrossingLevel]), name="level"),
        CheckConstraint(check_in("dated_by", [v.value for v in DatedBy]), name="dated_by"),
        Index("ix_crossing_status_changes_crossing", "crossing_id", "effective_on"),
    )


class CrossingLink(Base):
    """What concerns a crossing: an incident, a clearing work or an approval request."""

    __tablename__ = "crossing_links"

    crossing_id: Mapped[int] = mapped_column(
        ForeignKey("crossings.id", ondelete="CASCADE"), primary_key=True
    )
    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    linked_by: Mapped[str] = mapped_column(String(200), nullable=False)
    linked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(
            check_in("entity_type", ["approval", "clearing_work", "incident"]), name="entity_type"
        ),
        Index("ix_crossing_links_entity", "entity_type", "entity_id"),
    )
