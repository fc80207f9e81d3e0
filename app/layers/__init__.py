"""Every layer the service draws, each declared once (spec.py): the OGC collections, the
vector tile layers and the file exports are read from LAYERS. To add a layer, declare it
in this package and list it here (docs/architecture.md)."""

from __future__ import annotations

from app.errors import NotFound
from app.layers.disputes import DISPUTED_AREAS
from app.layers.events import BY_GEOMETRY_TYPE, INCIDENTS
from app.layers.gates import CROSSINGS
from app.layers.line import BORDERS, DISTRICTS, MARKERS, SEGMENTS
from app.layers.patrols import PATROLS
from app.layers.records import INSPECTIONS, REPAIRS
from app.layers.spec import Layer
from app.layers.surveys import SURVEY_AREAS
from app.layers.works import APPROVALS, CLEARING_WORKS

LAYERS: dict[str, Layer] = {
    layer.id: layer
    for layer in [
        INCIDENTS,
        MARKERS,
        SEGMENTS,
        CLEARING_WORKS,
        APPROVALS,
        CROSSINGS,
        SURVEY_AREAS,
        PATROLS,
        INSPECTIONS,
        REPAIRS,
        DISPUTED_AREAS,
        BORDERS,
        DISTRICTS,
        *BY_GEOMETRY_TYPE,
    ]
}
TILE_LAYERS = {id: layer for id, layer in LAYERS.items() if layer.tiles is not None}


def collection(layer_id: str) -> Layer:
    """The OGC collection `layer_id`, or 404."""
    found = LAYERS.get(layer_id)
    if found is None:
        raise NotFound(f"no collection {layer_id!r}; collections: {', '.join(LAYERS)}")
    return found


def tile_layer(layer_id: str) -> Layer:
    """The tile layer `layer_id`, or 404."""
    found = TILE_LAYERS.get(layer_id)
    if found is None:
        raise NotFound(f"no tile layer {layer_id!r}; layers: {', '.join(TILE_LAYERS)}")
    return found
