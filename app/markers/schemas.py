from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.geo.marker_codes import MarkerKind, canonical_marker_code
from app.markers.models import MarkerCondition

Elevation = Field(default=None, ge=-500, le=9_000, allow_inf_nan=False, description="metres")
Notes = Field(default=None, max_length=4_000)


class MarkerProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    border: str = Field(max_length=5, examples=["VN-CN"])
    code: str = Field(max_length=20, examples=["1088/2", "836(2)", "944/1(2)"])
    kind: MarkerKind | None = None
    condition: MarkerCondition = MarkerCondition.intact
    elevation_m: float | None = Elevation
    last_inspected_on: date | None = None
    notes: str | None = Notes

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return canonical_marker_code(value)


class MarkerCreate(BaseModel):
    """A GeoJSON Feature with a Point geometry (in `crs`, default EPSG:4326)."""

    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: MarkerProperties
    crs: dict[str, Any] | None = Field(
        default=None, description='GeoJSON 2008 named CRS, e.g. {"type": "name", ...}'
    )


class MarkerPatch(BaseModel):
    """Fields to change; absent fields stay, `null` clears (except condition)."""

    model_config = ConfigDict(extra="forbid")

    geometry: dict[str, Any] | None = None
    crs: dict[str, Any] | None = None
    condition: MarkerCondition | None = None
    elevation_m: float | None = Elevation
    last_inspected_on: date | None = None
    notes: str | None = Notes
