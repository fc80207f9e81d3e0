from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select

from app.auth.caller import Caller
from app.auth.dependencies import CallerDep
from app.config import Settings
from app.db import SessionDep
from app.errors import InvalidInput, PayloadTooLarge
from app.geo.geometry import count_positions
from app.geojson import (
    raw_geojson,
)
from app.incidents import attachments, edits, intake, queries, schemas
from app.incidents.coalesce import SubmissionCoalescer
from app.incidents.filters import IncidentFilterDep, list_cursor
from app.incidents.models import IncidentCategory
from app.incidents.schemas import BatchRequest, IncidentPatch, IncidentSubmission, TransitionRequest
from app.paging import page_response
from app.params import (
    CrsParam,
    CursorParam,
    LimitParam,
    OnlyDeclaredParams,
    SettingsDep,
    app_settings,
    etag_of,
    if_match_version,
    page_size,
)

router = APIRouter(prefix="/api/v1", tags=["incidents"])
IncidentId = Annotated[uuid.UUID, Path(description="The incident's UUID")]


async def _visible_incident(
    incident_id: IncidentId, session: SessionDep, caller: CallerDep
) -> uuid.UUID:
    await queries.require_visible_id(session, caller, incident_id)
    return incident_id


# The incident's id once the caller may see it: 404 otherwise, before anything else.
VisibleIncident = Annotated[uuid.UUID, Depends(_visible_incident)]


def _similar_settings(settings: Settings) -> queries.SimilarSettings:
    return queries.SimilarSettings(settings.similar_within_m, settings.similar_within_days)


async def _feature_response(
    request: Request,
    session: Any,
    incident_id: uuid.UUID,
    caller: Caller,
    *,
    status_code: int = 200,
    with_similar: bool = False,
) -> Response:
    feature, version = await queries.incident_feature_json(
        session,
        incident_id,
        caller=caller,
        similar=_similar_settings(app_settings(request)) if with_similar else None,
    )
    headers = {"ETag": etag_of(version), "Location": f"/api/v1/incidents/{incident_id}"}
    return raw_geojson(feature, status_code=status_code, headers=headers)


@router.post(
    "/incidents",
    status_code=201,
    summary="Submit an incident; resending the same id is safe "
    "(201 first, 200 after, 409 if changed)",
)
async def submit_incident(
    settings: SettingsDep,
    request: Request,
    body: IncidentSubmission,
    session: SessionDep,
    caller: CallerDep,
    crs: CrsParam = None,
) -> Response:
    coalescer: SubmissionCoalescer | None = request.app.state.coalescer
    if coalescer is not None and coalescer.running:
        # Give back the connection the token lookup may hold while this waits: the group's
        # transaction needs one from the same pool.
        await session.close()
        outcome = await coalescer.submit(caller=caller, submission=body, crs_param=crs)
    else:
        outcome = await intake.submit_and_commit(
            session,
            caller=caller,
            submission=body,
            crs_param=crs,
            max_vertices=settings.max_vertices,
        )
    return await _feature_response(
        request,
        session,
        outcome.incident_id,
        caller,
        status_code=201 if outcome.result == "created" else 200,
        with_similar=True,
    )


@router.post(
    "/incidents:batch",
    summary="Sync up to 500 incidents; one result per item, in order",
    response_model=schemas.BatchResult,
)
async def submit_batch(
    settings: SettingsDep,
    request: Request,
    body: BatchRequest,
    session: SessionDep,
    caller: CallerDep,
    crs: CrsParam = None,
) -> JSONResponse:
    if len(body.features) > settings.max_batch_items:
        raise InvalidInput(
            f"a batch holds at most {settings.max_batch_items} features", field="features"
        )
    # Validating geometries runs in the event loop: the batch's vertices together are
    # bounded before any of it, so one batch cannot hold every other request.
    vertices = 0
    for raw in body.features:
        if isinstance(raw, dict):
            vertices += count_positions(raw.get("geometry"), settings.max_batch_vertices)
        if vertices > settings.max_batch_vertices:
            raise PayloadTooLarge(
                f"a batch holds at most {settings.max_batch_vertices} vertices in all; "
                "send its reports in smaller batches"
            )
    results = await intake.submit_batch_and_commit(
        session,
        caller=caller,
        features=body.features,
        crs_param=crs,
        max_vertices=settings.max_vertices,
        sessionmaker=request.app.state.sessionmaker,
        parts=settings.batch_parts,
        part_min_items=settings.batch_part_min_items,
    )
    counts: dict[str, int] = {}
    for r in results:
        counts[r.result] = counts.get(r.result, 0) + 1
    return JSONResponse({"results": [r.as_json() for r in results], "counts": counts})


@router.get(
    "/incident-categories",
    summary="The event taxonomy (codes and names)",
    response_model=list[schemas.Category],
)
async def list_categories(session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(IncidentCategory.code, IncidentCategory.name_vi, IncidentCategory.name_en).order_by(
            IncidentCategory.code
        )
    )
    return [{"code": code, "name_vi": vi, "name_en": en} for code, vi, en in rows]


@router.get(
    "/incidents",
    summary="Incidents as GeoJSON with combinable filters, newest first",
    dependencies=[OnlyDeclaredParams],
)
async def list_incidents(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    filters: IncidentFilterDep,
    limit: LimitParam = None,
    cursor: CursorParam = None,
) -> Response:
    size = page_size(limit, default=settings.default_page_size, maximum=settings.max_page_size)
    after = list_cursor(cursor, filters) if cursor else None
    page = await queries.list_incidents(session, filters, caller=caller, limit=size, after=after)
    return page_response(request, page)


@router.get("/incidents/{incident_id}", summary="One incident with its context and attachments")
async def get_incident(
    request: Request, incident_id: IncidentId, session: SessionDep, caller: CallerDep
) -> Response:
    return await _feature_response(request, session, incident_id, caller)


@router.patch("/incidents/{incident_id}", summary="Edit an incident (If-Match required)")
async def patch_incident(
    settings: SettingsDep,
    request: Request,
    incident_id: IncidentId,
    body: IncidentPatch,
    session: SessionDep,
    caller: CallerDep,
    crs: CrsParam = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    await edits.patch_and_commit(
        session,
        caller=caller,
        incident_id=incident_id,
        patch=body,
        if_match=if_match_version(if_match),
        crs_param=crs,
        max_vertices=settings.max_vertices,
    )
    return await _feature_response(request, session, incident_id, caller)


@router.post(
    "/incidents/{incident_id}/transitions", summary="Move an incident through its lifecycle"
)
async def post_transition(
    request: Request,
    incident_id: IncidentId,
    body: TransitionRequest,
    session: SessionDep,
    caller: CallerDep,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    await edits.transition_and_commit(
        session,
        caller=caller,
        incident_id=incident_id,
        request=body,
        if_match=if_match_version(if_match),
    )
    return await _feature_response(request, session, incident_id, caller)


@router.get(
    "/incidents/{incident_id}/history",
    summary="Every change, oldest first",
    response_model=schemas.History,
)
async def get_history(
    incident_id: IncidentId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    return JSONResponse(
        {
            "id": str(incident_id),
            "history": await queries.history(session, incident_id, caller=caller),
        }
    )


@router.get(
    "/incidents/{incident_id}/similar",
    summary="Open incidents of the same category nearby",
    response_model=schemas.Similar,
)
async def get_similar(
    settings: SettingsDep,
    request: Request,
    incident_id: VisibleIncident,
    session: SessionDep,
    caller: CallerDep,
) -> JSONResponse:
    found = await queries.similar(
        session, incident_id, caller=caller, settings=_similar_settings(settings)
    )
    return JSONResponse({"id": str(incident_id), "similar": found})


@router.post(
    "/incidents/{incident_id}/attachments",
    status_code=201,
    summary="Upload a photo or PDF",
    response_model=schemas.StoredAttachment,
)
async def upload_attachment(
    settings: SettingsDep,
    request: Request,
    incident_id: VisibleIncident,
    session: SessionDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP, HEIC, GIF, TIFF or PDF")],
) -> JSONResponse:
    attachments.refuse_declared_oversize(
        request.headers.get("content-length"), settings.attachment_max_bytes
    )
    await attachments.require_can_attach(session, caller=caller, incident_id=incident_id)
    stored = attachments.store(
        file.file, root=settings.attachments_dir, max_bytes=settings.attachment_max_bytes
    )
    filename = (file.filename or stored.sha256)[:255]
    created = await attachments.attach(
        session, caller=caller, incident_id=incident_id, stored=stored, filename=filename
    )
    body = {
        "sha256": stored.sha256,
        "media_type": stored.media_type,
        "size_bytes": stored.size_bytes,
        "filename": filename,
        "href": f"/api/v1/incidents/{incident_id}/attachments/{stored.sha256}",
    }
    return JSONResponse(body, status_code=201 if created else 200)


@router.get(
    "/incidents/{incident_id}/attachments",
    summary="Attachments of an incident",
    response_model=schemas.Attachments,
)
async def list_attachments(
    incident_id: IncidentId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    feature, _ = await queries.incident_feature_json(session, incident_id, caller=caller)
    return JSONResponse({"attachments": json.loads(feature)["properties"]["attachments"]})


@router.get("/incidents/{incident_id}/attachments/{sha256}", summary="Download an attachment")
async def download_attachment(
    settings: SettingsDep,
    request: Request,
    incident_id: VisibleIncident,
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    session: SessionDep,
    caller: CallerDep,
) -> FileResponse:
    media_type, filename = await attachments.attachment_of(session, incident_id, sha256)
    path = attachments.content_path(settings.attachments_dir, sha256)
    return FileResponse(
        path,
        media_type=media_type,
        filename=attachments.served_filename(filename, media_type),
        headers={"X-Content-Type-Options": "nosniff"},
    )
