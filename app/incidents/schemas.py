from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.answers import Answer
from app.incidents.models import Nature, Severity, Status
from app.text import CleanText, nfc

MAX_TAGS = 20
# A border event is dated between the first land-border treaties' era and the next day
# (a device's clock a little ahead): year 1 or 2999 is a wrong clock or a typo, and an
# event dated so would fall in no province's or district's time (nobody's scope).
EARLIEST_OCCURRENCE = datetime(1950, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
BACKDATING_WITHOUT_DOCUMENT = timedelta(days=1)


def plausible_occurrence(value: datetime) -> datetime:
    if value < EARLIEST_OCCURRENCE:
        raise ValueError(f"an event before {EARLIEST_OCCURRENCE:%Y} is not plausible")
    if value > datetime.now(UTC) + FUTURE_SLACK:
        raise ValueError("an event cannot be dated more than a day ahead")
    return value


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = sorted({nfc(t).strip() for t in tags if t.strip()})
    if len(cleaned) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    if any(len(t) > 60 for t in cleaned):
        raise ValueError("a tag is at most 60 characters")
    return cleaned


class IncidentProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(max_length=40, examples=["fence"])
    title: CleanText = Field(min_length=1, max_length=300)
    description: CleanText | None = Field(default=None, max_length=20_000)
    occurred_at: AwareDatetime = Field(description="When it happened, with a time zone.")
    severity: Severity = Severity.medium
    reported_by: CleanText | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list)
    border: str | None = Field(default=None, max_length=5, description="Default: nearest.")
    nature: Nature = Field(
        default=Nature.act,
        description="act (matched against the breach rules), approval_request, "
        "approved_work or natural_event (never a breach).",
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _clean_tags(value)

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        return plausible_occurrence(value)


class IncidentSubmission(BaseModel):
    """A GeoJSON Feature: `geometry` (in `crs`), or a `location` the service resolves:
    a marker `VN-CN:1089`, a chainage `VN-CN:1248+470` or a range `VN-CN:1042-1053/1`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    id: uuid.UUID = Field(description="Client-generated; resending it is safe.")
    geometry: dict[str, Any] | None = None
    location: str | None = Field(default=None, max_length=120)
    crs: dict[str, Any] | None = None
    properties: IncidentProperties


class IncidentPatch(BaseModel):
    """Fields to change. Absent fields stay; a new geometry or location replaces the place."""

    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(default=None, max_length=40)
    title: CleanText | None = Field(default=None, min_length=1, max_length=300)
    description: CleanText | None = Field(default=None, max_length=20_000)
    occurred_at: AwareDatetime | None = None
    severity: Severity | None = None
    tags: list[str] | None = None
    nature: Nature | None = None
    geometry: dict[str, Any] | None = None
    location: str | None = Field(default=None, max_length=120)
    crs: dict[str, Any] | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _clean_tags(value)

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        return None if value is None else plausible_occurrence(value)


DismissalReason = Literal["duplicate_of", "not_a_violation", "resolved_elsewhere", "other"]


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Status
    note: CleanText | None = Field(default=None, max_length=5_000)
    document_ref: CleanText | None = Field(
        default=None, max_length=200, examples=["Công văn số 1232/UBND-THNC"]
    )
    reason: DismissalReason | None = None
    duplicate_of: uuid.UUID | None = None
    effective_at: AwareDatetime | None = Field(
        default=None,
        description="When the change really happened (default: now). Backdating more than "
        "a day needs the document that records it (document_ref).",
        examples=["2020-10-16T09:00:00+07:00"],
    )

    @model_validator(mode="after")
    def _reason(self) -> TransitionRequest:
        if self.effective_at is not None:
            if self.effective_at > datetime.now(UTC) + FUTURE_SLACK:
                raise ValueError("effective_at cannot be in the future")
            backdated = datetime.now(UTC) - self.effective_at > BACKDATING_WITHOUT_DOCUMENT
            if backdated and not self.document_ref:
                raise ValueError(
                    "a change dated more than a day back needs document_ref: the note, "
                    "minutes or report that records it"
                )
        if self.to is Status.dismissed and self.reason is None:
            raise ValueError("dismissing needs a reason")
        if self.reason == "duplicate_of" and self.duplicate_of is None:
            raise ValueError("reason duplicate_of needs duplicate_of: the incident it repeats")
        return self


class BatchRequest(BaseModel):
    # Items are validated one by one in the service, so one bad item sinks nothing else.
    features: list[Any] = Field(min_length=1, max_length=5_000)  # the setting bounds it lower
    type: Literal["FeatureCollection"] = "FeatureCollection"


def occurred_iso(value: datetime) -> str:
    return value.isoformat()


# What the incident endpoints answer beside GeoJSON (their response models).


class BatchItemResult(Answer):
    index: int
    id: str | None  # the feature's client id, when it gave one
    result: Literal["created", "duplicate", "conflict", "invalid", "forbidden"]
    problem: dict[str, Any] | None  # an RFC 9457 problem when not stored


class BatchResult(Answer):
    results: list[BatchItemResult]  # one per feature, in the batch's order
    counts: dict[str, int]  # per result


class Category(Answer):
    code: str
    name_vi: str
    name_en: str


class HistoryEntry(Answer):
    at: datetime
    actor: str | None
    action: str
    changes: dict[str, Any] | None
    note: str | None
    document_ref: str | None
    effective_at: datetime


class History(Answer):
    id: uuid.UUID
    history: list[HistoryEntry]


class SimilarIncident(Answer):
    id: uuid.UUID
    title: str
    status: Status
    occurred_at: datetime
    category: str
    distance_m: float


class Similar(Answer):
    id: uuid.UUID
    similar: list[SimilarIncident]


class Attachment(Answer):
    sha256: str
    filename: str
    media_type: str
    size_bytes: int
    uploaded_at: datetime
    uploaded_by: str | None


class Attachments(Answer):
    attachments: list[Attachment]


class StoredAttachment(Answer):
    sha256: str
    media_type: str
    size_bytes: int
    filename: str
    href: str
