"""What clients send to record crossings, their status changes and what concerns them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.answers import Answer
from app.crossings.models import CrossingLevel, CrossingStatus, DatedBy, Serves


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CrossingStatus
    effective_on: date = Field(description="The day it took effect (or the report's day)")
    dated_by: DatedBy = Field(
        default=DatedBy.event,
        description="`report` when the day is the report's, the change itself undated",
    )
    level: CrossingLevel | None = Field(
        default=None, description="The level from then on (upgrades)"
    )
    reason: str | None = Field(default=None, max_length=2000)
    document_id: uuid.UUID | None = None
    section: str | None = Field(default=None, max_length=40)


class CrossingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")
    border: str = Field(max_length=5, examples=["VN-CN"])
    name_vn: str = Field(min_length=1, max_length=120, examples=["Tà Lùng"])
    name_other: str | None = Field(default=None, max_length=120, examples=["Thủy Khẩu"])
    level: CrossingLevel
    serves: list[Serves] = Field(default_factory=list)
    part_of: str | None = Field(default=None, max_length=60, description="A gate's code")
    location: str = Field(
        max_length=120,
        description="A marker, a marker pair or a chainage: `VN-CN:1055-1056`, `mốc 853`",
    )
    place_illustrative: bool = False
    province: str = Field(max_length=40)
    other_side_unit: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, max_length=4000)
    status: StatusChangeIn | None = Field(default=None, description="Its first known status")


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["incident", "clearing_work", "approval"]
    id: str = Field(max_length=40)


class Concern(Answer):
    type: str  # incident | clearing_work | approval
    id: str
    title: str | None
    href: str


class Concerns(Answer):
    """What concerns a crossing (the answer to a new link)."""

    id: int
    concerns: list[Concern]
