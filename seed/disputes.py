"""Demo disputed areas, as the reports name them: the line at marker 1163 (Lạng Sơn 2020).
Cao Bằng 2023 reports "khu vực còn vướng mắc, tồn tại" without naming one: none is
invented for it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.disputes.models import DisputeState
from app.disputes.service import DisputedAreaCreate, create_and_commit
from seed.incidents import SEED_CALLER, document_id, incident_id, read_csv


async def load_demo_disputes(session: AsyncSession) -> int:
    if (await session.execute(text("SELECT EXISTS (SELECT 1 FROM disputed_areas)"))).scalar_one():
        return 0
    created = 0
    for row in read_csv("disputed-areas.csv"):
        await create_and_commit(
            session,
            caller=SEED_CALLER,
            body=DisputedAreaCreate(
                code=row["code"],
                border=row["border"],
                province=row["province"],
                location=row["location"] or None,
                our_view=row["our_view"] or None,
                their_view=row["their_view"] or None,
                since=date.fromisoformat(row["since"]) if row["since"] else None,
                since_dated_by=row["since_dated_by"],
                state=DisputeState(row["state"]),
                incident_id=incident_id(row["incident"]) if row["incident"] else None,
                document_id=document_id(row["document"]) if row["document"] else None,
                section=row["section"] or None,
                notes=row["notes"] or None,
            ),
        )
        created += 1
    return created
