"""Surveys of the line (khảo sát): unilateral or joint, led by a body, over areas each
with what was found there. An area may have no known place: a report that counts "13
areas at risk of landslide" without naming them gives 13 areas and no places."""

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
from app.timestamps import check_in


class SurveyScope(StrEnum):
    unilateral = "unilateral"  # đơn phương
    joint = "joint"  # song phương


class Finding(StrEnum):
    terrain = "terrain"  # a stretch surveyed on the ground (khu vực theo địa hình)
    river = "river"  # a stretch along a river or stream (sông suối)
    landslide_risk = "landslide_risk"
    fence_in_sightline = "fence_in_sightline"
    river_shift = "river_shift"
    diverging_views = "diverging_views"  # the sides see the line's course differently
    patrol_road = "patrol_road"
    monitoring_equipment = "monitoring_equipment"
    other = "other"


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, Identity(always=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(String(12), nullable=False)
    led_by: Mapped[str] = mapped_column(String(200), nullable=False)
    province_code: Mapped[str] = mapped_column(String(40), nullable=False)
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id")
    )
    section: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(check_in("scope", [s.value for s in SurveyScope]), name="scope"),
        Index("ix_surveys_province_code", "province_code"),
    )


class SurveyArea(Base):
    __tablename__ = "survey_areas"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    finding: Mapped[str] = mapped_column(String(24), nullable=False)
    location_ref: Mapped[str | None] = mapped_column(String(120))  # `VN-CN:1011-1012`
    geom = mapped_column(Geometry("GEOMETRY", 4326, spatial_index=False))  # none: not given
    views: Mapped[str | None] = mapped_column(Text)  # both sides' views, where they differ
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")

    __table_args__ = (
        CheckConstraint(check_in("finding", [f.value for f in Finding]), name="finding"),
        Index("ix_survey_areas_survey", "survey_id", "finding"),
        Index("ix_survey_areas_geom", "geom", postgresql_using="gist"),
    )
