"""What clients send to record a survey and its areas."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ConfigDict, Field

from app.answers import Answer
from app.surveys.models import Finding, SurveyScope


class AreaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: Finding
    location: str | None = Field(
        default=None,
        max_length=120,
        description="A marker or range, as documents write it: `VN-CN:khu vực mốc 1011-1012`",
    )
    geometry: dict[str, Any] | None = Field(default=None, description="Or a polygon (CRS84)")
    views: str | None = Field(default=None, max_length=4000)
    notes: str | None = Field(default=None, max_length=4000)
    illustrative: bool = False
    count: int = Field(
        default=1, ge=1, le=500, description="So many areas alike, none placed (a report's count)"
    )


class SurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    border: str = Field(max_length=5)
    title: str = Field(min_length=1, max_length=2000)
    scope: SurveyScope
    led_by: str = Field(min_length=1, max_length=200, examples=["Bộ Nông nghiệp và PTNT"])
    province: str = Field(max_length=40)
    started_on: date | None = None
    ended_on: date | None = None
    document_id: uuid.UUID | None = None
    section: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, max_length=4000)
    areas: list[AreaIn] = Field(default_factory=list, max_length=200)


class SurveyDocument(Answer):
    id: uuid.UUID
    kind: str
    number: str | None
    issued_on: date | None


class Survey(Answer):
    id: int
    code: str
    border: str
    title: str
    scope: SurveyScope
    led_by: str | None
    province: str | None
    started_on: date | None
    ended_on: date | None
    document: SurveyDocument | None
    section: str | None
    notes: str | None
    areas_by_finding: dict[str, int]


class Surveys(Answer):
    surveys: list[Survey]


class SurveyArea(Feature[Geometry, dict[str, Any]]):
    """An area of a survey (an unplaced one has a null geometry)."""


class SurveyAreas(FeatureCollection[SurveyArea]):
    pass


class SurveyWithAreas(Survey):
    areas: SurveyAreas
