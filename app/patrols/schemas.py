"""What a unit sends to record a patrol."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.answers import Answer
from app.markers.models import MarkerCondition


class MarkerCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marker: str = Field(max_length=40, examples=["1089", "mốc 1088/2"])
    condition: MarkerCondition
    notes: str | None = Field(default=None, max_length=2000)


class PatrolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(description="The client's id: a retry is safe")
    unit: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        examples=["Đồn Biên phòng Tân Thanh"],
        description="Who patrolled; a station's name by default",
    )
    station: str | None = Field(
        default=None,
        max_length=40,
        examples=["don-bp-tan-thanh"],
        description="The Border Guard station, by its code in /api/v1/units",
    )
    province: str = Field(max_length=40)
    border: str = Field(max_length=5)
    started_at: AwareDatetime
    ended_at: AwareDatetime
    route: str | None = Field(
        default=None, max_length=120, description="The stretch walked: VN-CN:1042-1053/1"
    )
    track: dict[str, Any] | None = Field(
        default=None, description="Or the GPS track: a GeoJSON LineString (CRS84)"
    )
    checked: list[MarkerCheck] = Field(default_factory=list, max_length=200)
    incident_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    notes: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _names_its_unit(self) -> PatrolCreate:
        if self.unit is None and self.station is None:
            raise ValueError("a patrol names its unit or its station")
        return self


class PatrolMonth(Answer):
    unit: str
    province: str | None
    month: str  # YYYY-MM, local time
    patrols: int
    km: float
    markers_checked: int


class PatrolReport(Answer):
    rows: list[PatrolMonth]


class UnwalkedSegment(Answer):
    id: int
    border: str
    ref: str
    length_m: float
    province: str
    last_walked_on: date | None


class NotPatrolled(Answer):
    days: int
    segments: list[UnwalkedSegment]
