from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.answers import Answer
from app.cases.models import Level, StepKind, Verdict
from app.documents.schemas import CitedDocument
from app.incidents.models import Status
from app.text import CleanText


class Participants(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vn: list[CleanText] = Field(default_factory=list, max_length=50)
    other: list[CleanText] = Field(default_factory=list, max_length=50)


class StepCreate(BaseModel):
    """A dated settlement step. With `status`, the incident moves to it as of the step's
    day, in the same transaction (a note sent: in_negotiation; an agreement: resolved)."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Client-generated; resending is safe.")
    kind: StepKind
    happened_on: date = Field(description="The day it happened (Vietnam calendar).")
    level: Level | None = None
    body: CleanText | None = Field(
        default=None, max_length=200, examples=["Bộ Ngoại giao (Ủy ban Biên giới quốc gia)"]
    )
    counterpart: CleanText | None = Field(default=None, max_length=200, examples=["Quảng Tây"])
    place: CleanText | None = Field(default=None, max_length=200, examples=["Km số 0"])
    participants: Participants = Field(default_factory=Participants)
    summary: CleanText | None = Field(default=None, max_length=20_000)
    document_id: uuid.UUID | None = Field(
        default=None, description="The note, minutes or report that records it."
    )
    section: CleanText | None = Field(default=None, max_length=200)
    illustrative: bool = False
    status: Status | None = Field(
        default=None, description="Move the incident to this status as of happened_on."
    )

    @field_validator("happened_on")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if value.year < 1950 or value > date.today():
            raise ValueError("a step happens between 1950 and today")
        return value


class BreachReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article: str = Field(min_length=1, max_length=100, examples=["Art. 7(3)"])
    verdict: Verdict
    note: CleanText | None = Field(default=None, max_length=5_000)


# What the settlement and breach endpoints answer (their response models).


class Step(Answer):
    id: uuid.UUID
    kind: StepKind
    happened_on: date
    level: Level | None
    body: str | None
    counterpart: str | None
    place: str | None
    participants: dict[str, list[str]] | None
    summary: str | None
    document_id: uuid.UUID | None
    illustrative: bool
    recorded_by: str | None
    recorded_at: datetime
    documents: list[CitedDocument]


class Steps(Answer):
    id: uuid.UUID
    steps: list[Step]


class Review(Answer):
    verdict: Verdict
    note: str | None
    by: str | None
    at: datetime


class RuleAssessment(Answer):
    article: str
    zone: str | None
    summary: str
    suggested: bool  # the service found the incident breaches it
    why: str
    review: Review | None


class BreachAssessment(Answer):
    id: uuid.UUID
    category: str
    nature: str | None
    rules: list[RuleAssessment]
    confirmed: list[str]
    rejected: list[str]
