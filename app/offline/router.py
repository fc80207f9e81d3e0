from __future__ import annotations

import contextlib
import os
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.audit.service import record
from app.auth.dependencies import CallerDep
from app.db import SessionDep
from app.exports import writers
from app.offline.package import find_unit, package_layers
from app.params import OnlyDeclaredParams
from app.timestamps import local_today

router = APIRouter(prefix="/api/v1/offline", tags=["offline"])
GPKG = writers.OGR_DRIVERS["gpkg"]


@router.get(
    "/{unit_code}.gpkg",
    summary="A unit's area for offline use: one GeoPackage of markers, line, zones, gates, "
    "open incidents",
    dependencies=[OnlyDeclaredParams],
)
async def offline_package(
    request: Request,
    unit_code: Annotated[str, Path(max_length=40, examples=["don-bp-tan-thanh"])],
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    unit = await find_unit(session, unit_code, caller)
    # A slot as for exports (slots.py): a package is several exports in one file.
    slot = contextlib.ExitStack()
    slot.enter_context(request.app.state.export_slots.taken(str(caller.token_id)))
    record(
        session,
        caller=caller,
        action="export",
        entity_type="offline_package",
        entity_id=unit.code,
        detail={"format": "gpkg"},
    )
    await session.commit()
    path: str | None = None
    try:
        for layer in package_layers(unit, caller):
            path = await writers.ogr_file(
                request.app.state.bulk_sessionmaker,
                layer.attrs_sql,
                layer.params,
                layer.columns,
                layer=layer.name,
                driver=GPKG,
                abandoned=request.is_disconnected,
                into=path,
            )
    except writers.ClientGone:
        return Response(status_code=499)
    except BaseException:
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise
    finally:
        slot.close()  # the file is written (or not): its connections are back in the pool
    assert path is not None
    stem = f"bordermark-{unit.code}-{local_today().isoformat()}"
    return await writers.file_response(path, GPKG, f"{stem}.gpkg")
