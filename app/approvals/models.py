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
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import Timestamped, check_in


class Side(StrEnum):
    vn = "vn"
    other = "other"


class Stage(StrEnum):
    """The stages of the procedure for building on the border (2009 agreement): a side
    submits, a body forwards it on (province to the Ministry, to the Joint Committee's
    section), bodies comment, the competent body approves or refuses; a side may withdraw."""

    submitted = "submitted"
    forwarded = "forwarded"
    commented = "commented"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"


DECIDED = frozenset({Stage.approved, Stage.refused, Stage.withdrawn})
# What may follow each stage: nothing follows a decision.
NEXT: dict[Stage, frozenset[Stage]] = {
    stage: frozenset() if stage in DECIDED else frozenset(Stage) - {Stage.submitted}
    for stage in Stage
}


class ApprovalRequest(Timestamped, Base):
    """A request by either side to build or work on the border: who asks, for what, where;
    its status is its latest stage."""

    __tablename__ = "approval_requests"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    requested_by_side: Mapped[str] = mapped_column(String(10), nullable=False)
    requester: Mapped[str] = mapped_column(String(200), nullable=False)
    work_title: Mapped[str] = mapped_column(Text, nullable=False)
    work_kind: Mapped[str | None] = mapped_column(String(40))
    location_ref: Mapped[str | None] = mapped_column(String(120))  # `VN-CN:1090-1091`
    gate_name: Mapped[str | None] = mapped_column(String(200))
    # Where the work would stand: the middle of its stretch, or its marker (none for a
    # request named by its gate only). A point: one geometry type for a QGIS layer.
    geom = mapped_column(Geometry("POINT", 4326, spatial_index=False))
    province_code: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    work_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("clearing_works.id")
    )
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id")
    )
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint(check_in("requested_by_side", [s.value for s in Side]), name="side"),
        CheckConstraint(check_in("status", sorted(s.value for s in Stage)), name="status"),
        Index("ix_approval_requests_province_status", "province_code", "status"),
        Index("ix_approval_requests_work_id", "work_id"),
        Index("ix_approval_requests_incident_id", "incident_id"),
        Index("ix_approval_requests_geom", "geom", postgresql_using="gist"),
    )


class ApprovalStage(Base):
    __tablename__ = "approval_stages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("approval_requests.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[str] = mapped_column(String(12), nullable=False)
    happened_on: Mapped[date] = mapped_column(Date, nullable=False)
    body: Mapped[str | None] = mapped_column(String(200))  # by which body
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    note: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(check_in("stage", sorted(s.value for s in Stage)), name="stage"),
        Index("ix_approval_stages_request_id", "request_id", "happened_on"),
    )
