"""Demo incidents: the border events of the seed reports, placed by their marker or
chainage, with the settlement steps the reports tell (app/cases), dated as the reports
date them or, where they do not, with an illustrative date said so in the data.

Where a report gives a total without details ("16 vụ việc ... giải quyết ổn thỏa"), the
total's unnamed members are created as illustrative cases (tag `illustrative_case`), so
that the province's report view reproduces the report's number (data/report-totals.csv).
Every incident cites its source report and section (a document link).

Ids are derived from stable keys, so loading twice stores nothing new."""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.cases.models import StepKind
from app.cases.schemas import StepCreate
from app.cases.service import add_step
from app.documents.models import LinkTarget
from app.documents.service import cite
from app.errors import Conflict
from app.incidents.edits import transition_and_commit
from app.incidents.intake import submit
from app.incidents.lifecycle import TRANSITIONS
from app.incidents.models import Status
from app.incidents.schemas import IncidentSubmission, TransitionRequest

DATA = Path(__file__).parent / "data"
NAMESPACE = uuid.UUID("6f1d2c1e-93a4-4c55-9f0e-6b6f7264656d")
SEED_CALLER = Caller(token_id=None, name="demo seed", role=Role.admin)
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def incident_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, key)


def document_id(key: str) -> uuid.UUID:
    return incident_id(f"document:{key}")


def step_id(incident_key: str, key: str) -> uuid.UUID:
    return incident_id(f"step:{incident_key}:{key}")


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def link_document(
    session: AsyncSession, document: str, target_type: str, target: uuid.UUID, section: str | None
) -> None:
    await cite(
        session, document_id(document), [(LinkTarget(target_type), str(target))], section or None
    )


async def citation_of(session: AsyncSession, document: str) -> str:
    from app.documents.citations import format_citation

    row = (
        await session.execute(
            text("SELECT kind, number, issued_on, issuer FROM documents WHERE id = :id"),
            {"id": document_id(document)},
        )
    ).one()
    cited = format_citation(row.kind, row.number, row.issued_on)
    return f"{cited} của {row.issuer}" if row.issuer else cited


def _report_totals_members() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The unnamed members of the totals the reports give: (incident rows, step rows)."""
    incidents, steps = [], []
    for total in read_csv("report-totals.csv"):
        named = [n for n in total["named"].split(";") if n]
        count = int(total["total"])
        year = int(total["year"])
        for k in range(count - len(named)):
            number = len(named) + k + 1
            key = f"{total['province']}-{year}-{total['measure']}-{number}"
            occurred = date(year, 1, 15) + timedelta(days=14 * k)
            settled = total["measure"] == "settled"
            title = (
                f"Vụ việc phát sinh trên biên giới, đã giải quyết ổn thỏa ({number}/{count}, "
                "minh họa)"
                if settled
                else f"Vụ việc vi phạm Hiệp định báo cáo Bộ Ngoại giao ({number}/{count}, minh họa)"
            )
            incidents.append(
                {
                    "key": key,
                    "location": f"VN-CN:{int(total['first_marker']) + 7 * k}+250",
                    "category": total["category"],
                    "nature": "act",
                    "title": title,
                    "description": f"Thành viên minh họa của tổng số báo cáo nêu: "
                    f"“{total['what']}”. Loại, vị trí, ngày và diễn biến đều minh họa.",
                    "occurred_at": f"{occurred.isoformat()}T09:00:00+07:00",
                    "severity": "medium",
                    "tags": "illustrative_case;illustrative_place;illustrative_date",
                    "document": total["document"],
                    "section": total["section"],
                }
            )
            common = {
                "incident": key,
                "document": total["document"],
                "section": total["section"],
                "illustrative": "true",
                "place": "",
            }
            if settled:
                steps += [
                    {
                        **common,
                        "key": "talks",
                        "kind": "talks",
                        "happened_on": (occurred + timedelta(days=10)).isoformat(),
                        "level": "district",
                        "body": "UBND huyện biên giới",
                        "counterpart": "Chính quyền huyện đối diện (Quảng Tây)",
                        "summary": "Trao đổi, làm việc với huyện phía đối diện.",
                        "status": "in_negotiation",
                    },
                    {
                        **common,
                        "key": "settled",
                        "kind": "agreement",
                        "happened_on": (occurred + timedelta(days=20)).isoformat(),
                        "level": "district",
                        "body": "UBND huyện biên giới",
                        "counterpart": "Chính quyền huyện đối diện (Quảng Tây)",
                        "summary": "Giải quyết ổn thỏa và dứt điểm.",
                        "status": "resolved",
                    },
                ]
            else:
                steps.append(
                    {
                        **common,
                        "key": "ministry",
                        "kind": "reported_to_body",
                        "happened_on": (occurred + timedelta(days=10)).isoformat(),
                        "level": "central",
                        "body": "Bộ Ngoại giao",
                        "counterpart": "",
                        "summary": "Báo cáo, đề xuất Bộ Ngoại giao chỉ đạo giải quyết.",
                        "status": "escalated",
                    }
                )
    return incidents, steps


async def _submit(session: AsyncSession, row: dict[str, str]) -> bool:
    citation = await citation_of(session, row["document"])
    source = f"{citation}, mục {row['section']}" if row["section"] else citation
    submission = IncidentSubmission.model_validate(
        {
            "type": "Feature",
            "id": str(incident_id(row["key"])),
            "location": row["location"],
            "properties": {
                "category": row["category"],
                "title": row["title"],
                "description": f"{row['description']} Nguồn: {source}.",
                "occurred_at": row["occurred_at"],
                "severity": row["severity"],
                "reported_by": source[:200],
                "tags": [t for t in row["tags"].split(";") if t],
                "nature": row["nature"],
            },
        }
    )
    try:
        outcome = await submit(
            session, caller=SEED_CALLER, submission=submission, crs_param=None, max_vertices=10_000
        )
    except Conflict:
        # Never overwrite a stored incident: say how to start again instead.
        raise Conflict(
            f"demo incident {row['key']} is stored with other content, loaded by an earlier "
            "version of the demo; load the demo into an empty database (`make clean-data` "
            "empties the private cluster)"
        ) from None
    await link_document(session, row["document"], "incident", submission.id, row["section"])
    await session.commit()
    return outcome.result != "duplicate"


async def _step(session: AsyncSession, row: dict[str, str]) -> None:
    incident = incident_id(row["incident"])
    this_step = step_id(row["incident"], row["key"])
    exists = (
        await session.execute(
            text("SELECT 1 FROM incident_steps WHERE id = :id"), {"id": this_step}
        )
    ).first()
    if exists is not None:
        return
    day = date.fromisoformat(row["happened_on"])
    target = Status(row["status"]) if row["status"] else None
    current = Status(
        (
            await session.execute(
                text("SELECT status FROM incidents WHERE id = :id"), {"id": incident}
            )
        ).scalar_one()
    )
    if target is not None and target is not current and target not in TRANSITIONS[current]:
        # The reports start where a case is already verified: verify it that day first.
        await transition_and_commit(
            session,
            caller=SEED_CALLER,
            incident_id=incident,
            request=TransitionRequest(
                to=Status.verified,
                note="Xác minh (theo báo cáo nguồn)",
                document_ref=await citation_of(session, row["document"]),
                effective_at=datetime.combine(day, time(9, 0), tzinfo=LOCAL),
            ),
            if_match=None,
        )
    await add_step(
        session,
        caller=SEED_CALLER,
        incident_id=incident,
        body=StepCreate(
            id=this_step,
            kind=StepKind(row["kind"]),
            happened_on=day,
            level=row["level"] or None,
            body=row["body"] or None,
            counterpart=row["counterpart"] or None,
            place=row["place"] or None,
            summary=row["summary"] or None,
            document_id=document_id(row["document"]) if row["document"] else None,
            section=row["section"] or None,
            illustrative=row["illustrative"] == "true",
            status=None if target is None or target is current else target,
        ),
    )


async def load_demo_incidents(session: AsyncSession) -> int:
    """Submit each event once and record its steps. Commits. Returns how many were new."""
    members, member_steps = _report_totals_members()
    created = 0
    for row in read_csv("incidents.csv") + members:
        created += await _submit(session, row)
    for row in read_csv("steps.csv") + member_steps:
        await _step(session, row)
    return created
