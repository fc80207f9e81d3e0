from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response

from app.areas.models import AdminLevel
from app.audit.service import record
from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.clearing.models import WorkStatus
from app.db import SessionDep
from app.exports import layers, writers
from app.exports.slots import releasing
from app.geojson import GEOJSON_MEDIA_TYPE
from app.incidents.filters import IncidentFilterDep
from app.layers import LAYERS
from app.params import OnlyDeclaredParams

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
ExportFormat = Literal["geojson", "csv", "gpkg", "kml"]
BorderQuery = Annotated[str | None, Query(max_length=5)]


async def _export(
    request: Request,
    session: SessionDep,
    caller: Caller,
    layer: layers.LayerQuery,
    fmt: ExportFormat,
) -> Response:
    # A slot first (slots.py): refused exports run nothing and are not audited.
    slot = contextlib.ExitStack()
    slot.enter_context(request.app.state.export_slots.taken(str(caller.token_id)))
    try:
        return await _run_export(request, session, caller, layer, fmt, slot)
    except BaseException:
        slot.close()
        raise


async def _run_export(
    request: Request,
    session: SessionDep,
    caller: Caller,
    layer: layers.LayerQuery,
    fmt: ExportFormat,
    slot: contextlib.ExitStack,
) -> Response:
    # Every export is audited (who took which data, with which filters) before it starts.
    record(
        session,
        caller=caller,
        action="export",
        entity_type=layer.name,
        entity_id=None,
        detail={"format": fmt, "query": str(request.url.query)},
    )
    await session.commit()
    sessionmaker = request.app.state.bulk_sessionmaker  # the bulk pool: see app/db.py
    stem = f"bordermark-{layer.name}-{date.today().isoformat()}"
    # The streams run their statement before the response exists (writers.started): an
    # error there is a problem response, not a download cut short after its headers. They
    # hold their slot until they end or their client goes away.
    if fmt != "gpkg":
        stream, media_type = _stream(sessionmaker, layer, fmt)
        return StreamingResponse(
            releasing(await writers.started(stream), slot),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'},
        )
    driver = writers.OGR_DRIVERS[fmt]
    try:
        path = await writers.ogr_file(
            sessionmaker,
            layer.attrs_sql,
            layer.params,
            layer.columns,
            layer=layer.name,
            driver=driver,
            abandoned=request.is_disconnected,
        )
    except writers.ClientGone:
        return Response(status_code=499)  # nobody reads it; the log says what happened
    slot.close()  # the file is written: its connection is back in the pool
    return await writers.file_response(path, driver, f"{stem}.{driver.suffix}")


def _stream(
    sessionmaker: async_sessionmaker[AsyncSession], layer: layers.LayerQuery, fmt: ExportFormat
) -> tuple[AsyncGenerator[bytes, None], str]:
    """A streamed format's rows (not yet started) and media type."""
    if fmt == "geojson":
        return writers.geojson_stream(
            sessionmaker, layer.feature_sql, layer.params
        ), GEOJSON_MEDIA_TYPE
    if fmt == "csv":
        stream = writers.csv_stream(sessionmaker, layer.attrs_sql, layer.params, layer.columns)
        return stream, "text/csv; charset=utf-8"
    stream = writers.kml_stream(
        sessionmaker,
        layer.attrs_sql,
        layer.params,
        layer.columns,
        layer=layer.name,
        look=layer.kml,
    )
    return stream, writers.KML_MEDIA_TYPE


@router.get(
    "/incidents",
    summary="Incidents (same filters as the list) as GeoJSON, CSV, GPKG, KML",
    dependencies=[OnlyDeclaredParams],
)
async def export_incidents(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    filters: IncidentFilterDep,
    format: ExportFormat = "geojson",
) -> Response:
    return await _export(request, session, caller, layers.incidents(filters, caller), format)


@router.get(
    "/units",
    summary="Provinces, districts, communes and stations as GeoJSON, CSV, GPKG, KML",
    dependencies=[OnlyDeclaredParams],
)
async def export_units(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    level: Annotated[list[AdminLevel] | None, Query()] = None,
    on: Annotated[date | None, Query(description="Only the units valid that day")] = None,
    format: ExportFormat = "geojson",
) -> Response:
    chosen = layers.units([lv.value for lv in level or []], on)
    return await _export(request, session, caller, chosen, format)


@router.get(
    "/clearing-works",
    summary="Clearing works as GeoJSON, CSV, GPKG, KML",
    dependencies=[OnlyDeclaredParams],
)
async def export_clearing_works(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: BorderQuery = None,
    status: Annotated[list[WorkStatus] | None, Query()] = None,
    format: ExportFormat = "geojson",
) -> Response:
    statuses = [s.value for s in status or []]
    return await _export(
        request, session, caller, layers.on_border("clearing-works", border, statuses), format
    )


def _on_border(layer_id: str) -> Callable[..., Awaitable[Response]]:
    """The export endpoint of a layer of the line filtered by border alone."""

    async def export(
        request: Request,
        session: SessionDep,
        caller: CallerDep,
        border: BorderQuery = None,
        format: ExportFormat = "geojson",
    ) -> Response:
        chosen = layers.on_border(layer_id, border, caller=caller)
        return await _export(request, session, caller, chosen, format)

    return export


# Layers whose export takes only `border`: an endpoint each, from their declaration.
_BORDER_ONLY = (
    "markers",
    "segments",
    "crossings",
    "survey-areas",
    "patrols",
    "marker-inspections",
    "marker-repairs",
    "disputed-areas",
)
for _layer in (LAYERS[layer_id] for layer_id in _BORDER_ONLY):
    router.add_api_route(
        f"/{_layer.id}",
        _on_border(_layer.id),
        methods=["GET"],
        name=f"export_{_layer.id.replace('-', '_')}",
        summary=f"{_layer.title} as GeoJSON, CSV, GPKG, KML",
        dependencies=[OnlyDeclaredParams],
    )
