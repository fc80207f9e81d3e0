"""Demo documents and approval procedures of the seed reports. The reports themselves are
documents: every demo record cites the report and section it comes from."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals.models import Stage
from app.approvals.schemas import ApprovalCreate, StageCreate
from app.approvals.service import add_stage, create_request
from app.documents.schemas import DocumentCreate
from app.documents.service import create_document
from seed.incidents import SEED_CALLER, document_id, incident_id, link_document, read_csv


async def load_demo_documents(session: AsyncSession) -> int:
    created = 0
    for row in read_csv("documents.csv"):
        _, new = await create_document(
            session,
            caller=SEED_CALLER,
            body=DocumentCreate.model_validate(
                {
                    "id": str(document_id(row["key"])),
                    "kind": row["kind"],
                    "number": row["number"] or None,
                    "issuer": row["issuer"] or None,
                    "recipient": row["recipient"] or None,
                    "direction": row["direction"] or None,
                    "issued_on": row["issued_on"] or None,
                    "subject": row["subject"],
                    "province": row["province"] or None,
                    "illustrative": row["illustrative"] == "true",
                    "note": row["note"] or None,
                }
            ),
        )
        created += new
    return created


def _stage(row: dict[str, str]) -> StageCreate:
    return StageCreate(
        stage=Stage(row["stage"]),
        happened_on=date.fromisoformat(row["happened_on"]),
        body=row["body"] or None,
        document_id=document_id(row["document"]) if row["document"] else None,
        section=row["section"] or None,
        note=row["note"] or None,
        illustrative=row["illustrative"] == "true",
    )


async def load_demo_approvals(session: AsyncSession) -> int:
    stages: dict[str, list[dict[str, str]]] = {}
    for row in read_csv("approval-stages.csv"):
        stages.setdefault(row["approval"], []).append(row)
    created = 0
    for row in read_csv("approvals.csv"):
        first, *later = stages[row["key"]]
        request_id, new = await create_request(
            session,
            caller=SEED_CALLER,
            body=ApprovalCreate.model_validate(
                {
                    "id": str(incident_id(f"approval:{row['key']}")),
                    "border": row["border"],
                    "requested_by_side": row["side"],
                    "requester": row["requester"],
                    "work_title": row["work_title"],
                    "work_kind": row["work_kind"] or None,
                    "location": row["location"] or None,
                    "gate_name": row["gate_name"] or None,
                    "province": row["province"] or None,
                    "work_id": str(incident_id(f"clearing:{row['work']}")) if row["work"] else None,
                    "incident_id": str(incident_id(row["incident"])) if row["incident"] else None,
                    "illustrative": False,
                    "note": row["note"] or None,
                    "submitted": _stage(first).model_dump(),
                }
            ),
        )
        if not new:
            continue
        created += 1
        for later_row in later:
            await add_stage(
                session, caller=SEED_CALLER, request_id=request_id, stage=_stage(later_row)
            )
    return created


async def link_clearing_sources(session: AsyncSession) -> None:
    for row in read_csv("clearing-works.csv"):
        await link_document(
            session,
            row["document"],
            "clearing_work",
            incident_id(f"clearing:{row['key']}"),
            row["section"],
        )
    await session.commit()
