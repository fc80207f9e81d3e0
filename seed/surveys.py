"""Demo surveys, as the reports count them: Lạng Sơn 2020's unilateral survey under
Đề án 1740/ĐA-BNG-BGDG-m (64 terrain areas, the river area at 1011-1012, 13 areas at risk
of landslide and 12 fences possibly inside the sightline corridor). Only the river area is
placed: the report names no other."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.surveys.models import Finding, SurveyScope
from app.surveys.schemas import AreaIn, SurveyCreate
from app.surveys.service import create_and_commit
from seed.incidents import SEED_CALLER, document_id, read_csv


async def load_demo_surveys(session: AsyncSession) -> int:
    if (await session.execute(text("SELECT EXISTS (SELECT 1 FROM surveys)"))).scalar_one():
        return 0
    areas: dict[str, list[AreaIn]] = {}
    for row in read_csv("survey-areas.csv"):
        areas.setdefault(row["survey"], []).append(
            AreaIn(
                finding=Finding(row["finding"]),
                location=row["location"] or None,
                count=int(row["count"]),
                notes=row["notes"] or None,
            )
        )
    created = 0
    for row in read_csv("surveys.csv"):
        await create_and_commit(
            session,
            caller=SEED_CALLER,
            body=SurveyCreate(
                code=row["code"],
                border=row["border"],
                title=row["title"],
                scope=SurveyScope(row["scope"]),
                led_by=row["led_by"],
                province=row["province"],
                started_on=date.fromisoformat(row["started_on"]),
                ended_on=date.fromisoformat(row["ended_on"]),
                document_id=document_id(row["document"]),
                section=row["section"] or None,
                notes=row["notes"] or None,
                areas=areas.get(row["code"], []),
            ),
        )
        created += 1
    return created
