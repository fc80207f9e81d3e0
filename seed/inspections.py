"""Demo inspections and repairs of markers, as the reports tell them: the landslide risk
found at 556/1-556/2, 560-561 and 836(2), Nà Po's light repair of 615 and China's proposal
to restore 821 (Cao Bằng 2023). The reports date none of the inspections: their days are
the steps' and are marked illustrative."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.inspections.models import RepairKind, RepairSide, RepairStatus
from app.inspections.schemas import InspectionCreate, RepairCreate
from app.inspections.service import record_inspection_and_commit, record_repair_and_commit
from app.markers.models import MarkerCondition
from seed.incidents import SEED_CALLER, document_id, incident_id, read_csv


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


async def load_demo_inspections(session: AsyncSession) -> int:
    created = 0
    for row in read_csv("marker-inspections.csv"):
        _, new = await record_inspection_and_commit(
            session,
            caller=SEED_CALLER,
            body=InspectionCreate(
                id=incident_id(f"inspection:{row['key']}"),
                border=row["border"],
                marker=row["marker"],
                inspected_on=date.fromisoformat(row["inspected_on"]),
                condition=MarkerCondition(row["condition"]),
                unit=row["unit"] or None,
                joint=row["joint"] == "true",
                document_id=document_id(row["document"]),
                section=row["section"] or None,
                illustrative=row["illustrative"] == "true",
                notes=row["notes"] or None,
            ),
        )
        created += new
    for row in read_csv("marker-repairs.csv"):
        _, new = await record_repair_and_commit(
            session,
            caller=SEED_CALLER,
            body=RepairCreate(
                id=incident_id(f"repair:{row['key']}"),
                border=row["border"],
                marker=row["marker"],
                kind=RepairKind(row["kind"]),
                side=RepairSide(row["side"]),
                status=RepairStatus(row["status"]),
                planned_on=_day(row["planned_on"]),
                done_on=_day(row["done_on"]),
                incident_id=incident_id(row["incident"]) if row["incident"] else None,
                document_id=document_id(row["document"]),
                section=row["section"] or None,
                illustrative=row["illustrative"] == "true",
                notes=row["notes"] or None,
            ),
        )
        created += new
    return created
