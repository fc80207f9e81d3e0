"""What the disputed-areas register answers (its response models)."""

from __future__ import annotations

import uuid
from datetime import date

from geojson_pydantic.geometries import Geometry

from app.answers import Answer
from app.cases.schemas import Step
from app.disputes.models import DisputeState


class DisputedArea(Answer):
    id: int
    code: str
    border: str
    province: str | None
    location: str | None
    geometry: Geometry | None
    our_view: str | None
    their_view: str | None
    since: date | None
    since_dated_by: str | None
    state: DisputeState
    settled_on: date | None
    incident_id: uuid.UUID | None
    document_id: uuid.UUID | None
    section: str | None
    notes: str | None
    version: int


class DisputedAreas(Answer):
    disputed_areas: list[DisputedArea]


class DisputedAreaWithTalks(DisputedArea):
    talks: list[Step]  # the settlement steps of its incident
