from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from app.auth.dependencies import CallerDep
from app.chainage.near import NearStretchDep
from app.db import SessionDep
from app.params import OnlyDeclaredParams
from app.surveys import queries, service
from app.surveys.schemas import SurveyCreate, Surveys, SurveyWithAreas

router = APIRouter(prefix="/api/v1", tags=["surveys"])


@router.get(
    "/surveys",
    summary="Surveys of the line, their areas counted by finding",
    response_model=Surveys,
    dependencies=[OnlyDeclaredParams],
)
async def list_surveys(
    session: SessionDep,
    caller: CallerDep,
    province: Annotated[str | None, Query(max_length=40)] = None,
    border: Annotated[str | None, Query(max_length=5)] = None,
    year: Annotated[int | None, Query(ge=1950, le=2100, description="Under way that year")] = None,
    near: NearStretchDep = None,
) -> JSONResponse:
    found = await queries.list_surveys(
        session, province=province, border=border, year=year, near=near
    )
    return JSONResponse({"surveys": found})


@router.get(
    "/surveys/{survey_id}",
    summary="A survey and its areas (GeoJSON)",
    response_model=SurveyWithAreas,
)
async def get_survey(
    survey_id: Annotated[int, Path(ge=1, le=2_147_483_647)], session: SessionDep, caller: CallerDep
) -> JSONResponse:
    return JSONResponse(await queries.get_survey(session, survey_id))


@router.post(
    "/surveys",
    status_code=201,
    summary="Record a survey and its areas (officer)",
    response_model=SurveyWithAreas,
)
async def create_survey(body: SurveyCreate, session: SessionDep, caller: CallerDep) -> JSONResponse:
    survey_id = await service.create_and_commit(session, caller=caller, body=body)
    return JSONResponse(
        await queries.get_survey(session, survey_id),
        status_code=201,
        headers={"Location": f"/api/v1/surveys/{survey_id}"},
    )
