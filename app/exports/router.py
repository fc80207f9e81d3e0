from __future__ import annotations

import os
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.responses import Response

from app.audit.service import record
from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.clearing.models import WorkStatus
from app.db import SessionDep
from app.exports import layers, writers
from app.geojson import GEOJSON_MEDIA_TYPE
from app.incidents.router import IncidentFilterDep

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
    # error there is a problem response, not a download cut short after its headers.
    if fmt == "geojson":
        return StreamingResponse(
            await writers.started(
                writers.geojson_stream(sessionmaker, layer.feature_sql, layer.params)
            ),
            media_type=GEOJSON_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{stem}.geojson"'},
        )
    if fmt == "csv":
        return StreamingResponse(
            await writers.started(
                writers.csv_stream(sessionmaker, layer.attrs_sql, layer.params, layer.columns)
            ),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    driver = writers.OGR_DRIVERS[fmt]
    path = await writers.ogr_file(
        sessionmaker, layer.attrs_sql, layer.params, layer.columns, layer=layer.name, driver=driver
    )
    return FileResponse(
        path,
        media_type=driver.media_type,
        filename=f"{stem}.{driver.suffix}",
        background=BackgroundTask(os.unlink, path),
    )


@router.get("/incidents", summary="Incidents (same filters as the list) as GeoJSON, CSV, GPKG, KML")
async def export_incidents(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    filters: IncidentFilterDep,
    format: ExportFormat = "geojson",
) -> Response:
    return await _export(request, session, caller, layers.incidents(filters, caller), format)


@router.get("/markers", summary="Markers as GeoJSON, CSV, GPKG, KML")
async def export_markers(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: BorderQuery = None,
    format: ExportFormat = "geojson",
) -> Response:
    return await _export(request, session, caller, layers.markers(border), format)


@router.get("/segments", summary="Segments as GeoJSON, CSV, GPKG, KML")
async def export_segments(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: BorderQuery = None,
    format: ExportFormat = "geojson",
) -> Response:
    return await _export(request, session, caller, layers.segments(border), format)


@router.get("/clearing-works", summary="Clearing works as GeoJSON, CSV, GPKG, KML")
async def export_clearing_works(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    border: BorderQuery = None,
    status: Annotated[list[WorkStatus] | None, Query()] = None,
    format: ExportFormat = "geojson",
) -> Response:
    statuses = [s.value for s in status or []]
    return await _export(request, session, caller, layers.clearing_works(border, statuses), format)
