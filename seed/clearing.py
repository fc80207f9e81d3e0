"""Demo clearing works and border works of the seed reports (Lạng Sơn 2020, Cao Bằng 2023).
Ids are derived from a stable key, so loading twice stores nothing new."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.clearing.schemas import WorkCreate
from app.clearing.service import create_work
from seed.incidents import SEED_CALLER, incident_id

DATA = Path(__file__).parent / "data" / "clearing-works.csv"


async def load_demo_clearing_works(session: AsyncSession) -> int:
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    created = 0
    for row in rows:
        body = WorkCreate.model_validate(
            {
                "id": str(incident_id(f"clearing:{row['key']}")),
                "range": row["range"],
                "kind": row["kind"],
                "approval": {
                    "body": row["approval_body"] or None,
                    "ref": row["approval_ref"] or None,
                    "year": int(row["approval_year"]) if row["approval_year"] else None,
                },
                "party": row["party"],
                "planned_start": row["planned_start"] or None,
                "planned_end": row["planned_end"] or None,
                "actual_start": row["actual_start"] or None,
                "actual_end": row["actual_end"] or None,
                "status": row["status"],
                "notes": row["notes"],
            }
        )
        outcome = await create_work(session, caller=SEED_CALLER, body=body)
        created += int(outcome.created)
    return created
