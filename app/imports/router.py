from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.auth.scopes import require_role
from app.db import SessionDep
from app.errors import InvalidInput, PayloadTooLarge
from app.imports.reader import UnreadableFile, file_info, read_rows
from app.imports.schemas import ImportResult
from app.imports.service import import_rows
from app.params import CrsParam, SettingsDep, epsg_param

router = APIRouter(prefix="/api/v1", tags=["imports"])
SUFFIXES = {".geojson", ".json", ".csv", ".gpkg"}
MAX_IMPORT_BYTES = 50 * 1024 * 1024


@router.post(
    "/markers:import",
    summary="Import markers from GeoJSON, CSV or GeoPackage (admin)",
    response_model=ImportResult,
)
async def import_markers(
    settings: SettingsDep,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="GeoJSON, CSV (lon/lat or wkt) or GeoPackage")],
    dry_run: Annotated[bool, Query(description="Validate every row, write nothing")] = False,
    crs: CrsParam = None,
) -> JSONResponse:
    require_role(caller, Role.admin)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"the file must end in one of {sorted(SUFFIXES)}", field="file")
    fd, name = tempfile.mkstemp(suffix=suffix)
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := await file.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    raise PayloadTooLarge(f"imports are limited to {MAX_IMPORT_BYTES} bytes")
                out.write(chunk)
        try:
            _, file_epsg = file_info(path)
        except UnreadableFile as exc:
            raise InvalidInput(str(exc), field="file") from exc
        epsg = epsg_param(crs) if crs else (file_epsg or 4326)
        report = await import_rows(
            session,
            caller=caller,
            kind="markers",
            rows=read_rows(path),
            epsg=epsg,
            max_vertices=settings.max_vertices,
            dry_run=dry_run,
        )
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    return JSONResponse(asdict(report))
