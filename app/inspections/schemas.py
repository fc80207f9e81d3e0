"""What clients send to record an inspection of a marker or a repair of one."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.answers import Answer
from app.inspections.models import RepairKind, RepairSide, RepairStatus
from app.markers.models import MarkerCondition


class MarkerRef(BaseModel):
    border: str = Field(max_length=5, examples=["VN-CN"])
    marker: str = Field(
        max_length=40, description="Its code, or as documents write it: `mốc 1088/2`"
    )


class InspectionCreate(MarkerRef):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="The client's id: a retry is safe")
    inspected_on: date
    condition: MarkerCondition = Field(description="The condition found")
    unit: str | None = Field(default=None, max_length=200, examples=["Đồn Biên phòng Tà Lùng"])
    inspectors: str | None = Field(default=None, max_length=2000)
    joint: bool = False
    other_side_participants: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=4000)
    document_id: uuid.UUID | None = None
    section: str | None = Field(default=None, max_length=40)
    illustrative: bool = False


class RepairCreate(MarkerRef):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="The client's id: a retry is safe")
    kind: RepairKind
    side: RepairSide = Field(description="Who does it: vn, other or joint")
    status: RepairStatus
    planned_on: date | None = None
    done_on: date | None = None
    incident_id: uuid.UUID | None = None
    notes: str | None = Field(default=None, max_length=4000)
    document_id: uuid.UUID | None = None
    section: str | None = Field(default=None, max_length=40)
    illustrative: bool = False


class ConditionsOn(Answer):
    """Markers counted by condition as of a day (`not_inspected`: none by then)."""

    on: date
    province: str | None
    border: str | None
    by_condition: dict[str, int]
