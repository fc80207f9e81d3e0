from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from app.areas import units
from app.areas.models import AdminLevel
from app.areas.schemas import CounterpartDetail, CounterpartUnits, UnitDetail, Units
from app.auth.dependencies import CallerDep
from app.auth.scopes import read_scope
from app.db import SessionDep
from app.params import OnlyDeclaredParams
from app.timestamps import local_today

router = APIRouter(prefix="/api/v1", tags=["units"])
UnitCode = Annotated[str, Path(max_length=40, description="A unit's code: lang-son, xa-mau-son")]


@router.get(
    "/units",
    summary="Provinces, districts, communes and Border Guard stations, with their validity",
    dependencies=[OnlyDeclaredParams],
    response_model=Units,
)
async def list_units(
    session: SessionDep,
    caller: CallerDep,
    level: Annotated[list[AdminLevel] | None, Query()] = None,
    on: Annotated[
        date | None, Query(description="Only the units valid that day (default: every version)")
    ] = None,
    province: Annotated[
        str | None, Query(max_length=40, description="A province and the units in it")
    ] = None,
    name: Annotated[
        str | None, Query(max_length=120, description="Part of a name, diacritics optional")
    ] = None,
) -> JSONResponse:
    found = await units.list_units(
        session,
        levels=[lv.value for lv in level or []],
        on=on,
        province=province,
        name=name,
    )
    return JSONResponse({"units": found})


@router.get(
    "/units/{unit_code}",
    summary="A unit's versions, the units under it, and a province's border lengths",
    dependencies=[OnlyDeclaredParams],
    response_model=UnitDetail,
)
async def get_unit(
    unit_code: UnitCode,
    session: SessionDep,
    caller: CallerDep,
    on: Annotated[
        date | None, Query(description="The day the units under it are read on (default today)")
    ] = None,
) -> JSONResponse:
    return JSONResponse(await units.get_unit(session, unit_code, on=on or local_today()))


@router.get(
    "/counterpart-units",
    summary="Units across the line: provinces, prefectures and counties of the neighbours",
    dependencies=[OnlyDeclaredParams],
    response_model=CounterpartUnits,
)
async def list_counterparts(
    session: SessionDep,
    caller: CallerDep,
    country: Annotated[str | None, Query(min_length=2, max_length=2, examples=["CN"])] = None,
    facing: Annotated[
        str | None, Query(max_length=40, description="Those facing this Vietnamese province")
    ] = None,
) -> JSONResponse:
    found = await units.list_counterparts(
        session, country=country, facing=facing, scope=read_scope(caller)
    )
    return JSONResponse({"counterpart_units": found})


@router.get(
    "/counterpart-units/{counterpart}",
    summary="A unit across the line, the gates that name it and the talks held with it",
    dependencies=[OnlyDeclaredParams],
    response_model=CounterpartDetail,
)
async def get_counterpart(
    counterpart: Annotated[str, Path(max_length=40, examples=["quang-tay"])],
    session: SessionDep,
    caller: CallerDep,
) -> JSONResponse:
    return JSONResponse(await units.get_counterpart(session, counterpart, scope=read_scope(caller)))
