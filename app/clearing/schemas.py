from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.clearing.models import Party, WorkStatus
from app.text import CleanText


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: CleanText | None = Field(
        default=None, max_length=200, examples=["Ủy ban liên hợp biên giới"]
    )
    ref: CleanText | None = Field(
        default=None, max_length=200, examples=["Biên bản phiên họp lần thứ 12"]
    )
    year: int | None = Field(default=None, ge=1990, le=2100)


class WorkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Client id; resending it is safe.")
    range: str = Field(max_length=120, examples=["VN-CN:1248+470-1253"])
    kind: str = Field(max_length=40, examples=["re_clearing"])
    approval: Approval = Field(default_factory=Approval)
    party: Party = Party.joint
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    status: WorkStatus = WorkStatus.planned
    notes: CleanText | None = Field(default=None, max_length=10_000)
    incident_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class WorkPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: WorkStatus | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    notes: CleanText | None = Field(default=None, max_length=10_000)
    approval: Approval | None = None
    incident_ids: list[uuid.UUID] | None = Field(default=None, max_length=200)


class CompletionCreate(BaseModel):
    """A completed sub-stretch: a range inside the work's own (`1248+470-1249+200`)."""

    model_config = ConfigDict(extra="forbid")

    range: str = Field(max_length=120)
    completed_on: date
    note: str | None = Field(default=None, max_length=2_000)
