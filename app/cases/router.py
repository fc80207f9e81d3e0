from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from app.auth.dependencies import CallerDep
from app.cases import breaches, service
from app.cases.schemas import BreachAssessment, BreachReviewCreate, Step, StepCreate, Steps
from app.db import SessionDep

router = APIRouter(prefix="/api/v1", tags=["cases with the other side"])
IncidentId = Annotated[uuid.UUID, Path(description="The incident's UUID")]


@router.post(
    "/incidents/{incident_id}/steps",
    status_code=201,
    summary="Record a settlement step (note, talks, joint check, ...), optionally moving "
    "the incident as of its day",
    response_model=Step,
)
async def add_step(
    incident_id: IncidentId, body: StepCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    step_id, created = await service.add_step(
        session, caller=caller, incident_id=incident_id, body=body
    )
    steps = await service.steps_of(session, incident_id, caller=caller)
    step = next(s for s in steps if s["id"] == str(step_id))
    return JSONResponse(
        step,
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/incidents/{incident_id}/steps"},
    )


@router.get(
    "/incidents/{incident_id}/steps",
    summary="The settlement steps, oldest first",
    response_model=Steps,
)
async def list_steps(
    incident_id: IncidentId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    return JSONResponse(
        {
            "id": str(incident_id),
            "steps": await service.steps_of(session, incident_id, caller=caller),
        }
    )


@router.get(
    "/incidents/{incident_id}/breaches",
    summary="Every article of the agreement for this category: suggested or not, and why",
    response_model=BreachAssessment,
)
async def get_breaches(
    incident_id: IncidentId, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    return JSONResponse(await breaches.assessment(session, incident_id, caller=caller))


@router.post(
    "/incidents/{incident_id}/breach-reviews",
    summary="Confirm or reject an article for the incident",
    response_model=BreachAssessment,
)
async def review_breach(
    incident_id: IncidentId, body: BreachReviewCreate, session: SessionDep, caller: CallerDep
) -> JSONResponse:
    await service.review_breach(session, caller=caller, incident_id=incident_id, body=body)
    return JSONResponse(await breaches.assessment(session, incident_id, caller=caller))
