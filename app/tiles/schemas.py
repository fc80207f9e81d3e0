"""TileJSON 3.0 as this service writes it for each layer (its response model)."""

from __future__ import annotations

from app.answers import Answer


class VectorLayer(Answer):
    id: str
    fields: dict[str, str]  # attribute -> MVT type (String, Number, Boolean)


class TileJson(Answer):
    tilejson: str  # "3.0.0"
    name: str
    minzoom: int
    maxzoom: int
    bounds: list[float]  # west, south, east, north (degrees)
    tiles: list[str]  # the tile URL template
    vector_layers: list[VectorLayer]
