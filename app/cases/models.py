from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import check_in


class StepKind(StrEnum):
    """The steps the provincial reports take to settle a border event."""

    reported_to_body = "reported_to_body"  # to the Ministry, the province, the NBC
    referred_to_joint_committee = "referred_to_joint_committee"  # Vietnamese section
    note_sent = "note_sent"  # diplomatic note (công hàm) or letter to the other side
    note_received = "note_received"
    talks = "talks"  # hội đàm, at a named place and level
    call = "call"  # a telephone call with the other side
    joint_verification = "joint_verification"  # a joint technical team on the ground
    agreement = "agreement"  # the sides agreed how it is settled
    monitoring = "monitoring"  # kept under watch
    other = "other"


class Level(StrEnum):
    district = "district"
    province = "province"
    central = "central"


class Verdict(StrEnum):
    confirmed = "confirmed"
    rejected = "rejected"


class IncidentStep(Base):
    """A dated step of settling an incident. Never edited: a correction is a new step."""

    __tablename__ = "incident_steps"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    happened_on: Mapped[date] = mapped_column(Date, nullable=False)
    level: Mapped[str | None] = mapped_column(String(10))
    body: Mapped[str | None] = mapped_column(String(200))  # our side's body
    counterpart: Mapped[str | None] = mapped_column(String(200))  # the other side's
    place: Mapped[str | None] = mapped_column(String(200))  # "Km số 0", a gate
    # {"vn": ["..."], "other": ["..."]}: who took part, each side.
    participants: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    summary: Mapped[str | None] = mapped_column(Text)  # findings, minutes, what was said
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(check_in("kind", sorted(k.value for k in StepKind)), name="kind"),
        CheckConstraint(check_in("level", [v.value for v in Level]), name="level"),
        Index("ix_incident_steps_incident_id", "incident_id", "happened_on"),
        Index("ix_incident_steps_happened_on", "happened_on", "kind"),
    )


class BreachReview(Base):
    """An officer's verdict on an article the service suggested (or did not)."""

    __tablename__ = "breach_reviews"

    incident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("incidents.id"), primary_key=True
    )
    article: Mapped[str] = mapped_column(String(100), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(10), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reviewed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(check_in("verdict", [v.value for v in Verdict]), name="verdict"),
    )
