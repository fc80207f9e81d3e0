from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.answers import Answer
from app.approvals.models import Side, Stage
from app.documents.schemas import CitedDocument
from app.text import CleanText


def _plausible_day(value: date) -> date:
    if value.year < 1950 or value > date.today():
        raise ValueError("a stage happens between 1950 and today")
    return value


class StageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    happened_on: date
    body: CleanText | None = Field(
        default=None, max_length=200, examples=["Phân ban Việt Nam, Ủy ban liên hợp biên giới"]
    )
    document_id: uuid.UUID | None = None
    section: CleanText | None = Field(default=None, max_length=200)
    note: CleanText | None = Field(default=None, max_length=5_000)
    illustrative: bool = False

    @field_validator("happened_on")
    @classmethod
    def _day(cls, value: date) -> date:
        return _plausible_day(value)


class ApprovalCreate(BaseModel):
    """A request for approval of a work on the border, with its first stage (submitted)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Client-generated; resending is safe.")
    border: str = Field(max_length=5, examples=["VN-CN"])
    requested_by_side: Side
    requester: CleanText = Field(min_length=1, max_length=200, examples=["Phía Trung Quốc"])
    work_title: CleanText = Field(min_length=1, max_length=2_000)
    work_kind: str | None = Field(default=None, max_length=40, examples=["building"])
    location: str | None = Field(
        default=None,
        max_length=120,
        examples=["VN-CN:1090-1091"],
        description="The marker, chainage or range it concerns.",
    )
    gate_name: CleanText | None = Field(default=None, max_length=200)
    province: str | None = Field(default=None, max_length=40)
    work_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    illustrative: bool = False
    note: CleanText | None = Field(default=None, max_length=5_000)
    submitted: StageCreate = Field(description="The submission: its day, body and document.")

    @field_validator("submitted")
    @classmethod
    def _first_stage(cls, value: StageCreate) -> StageCreate:
        if value.stage is not Stage.submitted:
            raise ValueError("a request starts with its submitted stage")
        return value


# What the approval endpoints answer (their response models).


class ApprovalRequest(Answer):
    id: uuid.UUID
    border: str
    requested_by_side: Side
    requester: str | None
    work_title: str
    work_kind: str | None
    location_ref: str | None
    gate_name: str | None
    province: str | None
    status: str  # the latest stage's outcome
    work_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    illustrative: bool
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_on: date | None
    last_on: date | None


class ApprovalRequests(Answer):
    approvals: list[ApprovalRequest]
    numberMatched: int  # the OGC API's spelling
    numberReturned: int


class ApprovalStage(Answer):
    stage: Stage
    happened_on: date
    body: str | None
    document_id: uuid.UUID | None
    note: str | None
    illustrative: bool
    recorded_by: str | None
    recorded_at: datetime
    document: str | None  # the citation of its document


class ApprovalRequestDetail(ApprovalRequest):
    stages: list[ApprovalStage]  # oldest first
    documents: list[CitedDocument]
