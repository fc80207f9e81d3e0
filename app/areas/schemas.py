"""What the registers of units answer (their response models)."""

from __future__ import annotations

import uuid
from datetime import date

from geojson_pydantic.geometries import Geometry

from app.answers import Answer
from app.areas.models import AdminLevel


class Unit(Answer):
    code: str
    level: AdminLevel
    name_vi: str
    name_ascii: str | None
    parent: str | None
    province: str | None
    valid_from: date
    valid_to: date | None
    document: str | None  # the decision that made or changed it
    source: str | None
    area_km2: float | None


class Units(Answer):
    units: list[Unit]


class UnitVersion(Unit):
    geometry: Geometry | None


class BorderLength(Answer):
    border: str
    modelled_km: float  # the demo line's length placed in the province
    official_km: float | None  # as the province's documents give it
    official_source: str | None


class UnitDetail(Answer):
    code: str
    on: date
    versions: list[UnitVersion]  # oldest first
    units_under: list[Unit]  # valid on `on`
    border_lengths: list[BorderLength] | None = None  # provinces only


class CounterpartUnit(Answer):
    code: str
    country: str
    level: str
    name_vi: str
    name_local: str | None
    name_en: str | None
    parent: str | None
    facing: list[str]  # our provinces across the line
    source: str | None
    crossings: list[str]  # the gates that name it
    talks: int
    last_talk_on: date | None


class CounterpartUnits(Answer):
    counterpart_units: list[CounterpartUnit]


class Talk(Answer):
    step_id: uuid.UUID
    incident_id: uuid.UUID
    kind: str
    happened_on: date
    level: str | None
    counterpart: str | None
    place: str | None
    summary: str | None


class CounterpartDetail(CounterpartUnit):
    talks_with: list[Talk]  # newest first
