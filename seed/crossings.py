"""Demo gates and crossings, each as a report names it (seed/data/crossings.csv), with the
status changes the reports state (crossing-status.csv) and what concerns them.

A report that names no marker for a gate leaves its place open: it is put at the line's
marker nearest its district's seat and marked `place_illustrative`, with a note saying so.
A status the report finds without dating it is dated by the report (`dated_by: report`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.crossings.models import CrossingLevel, CrossingStatus, DatedBy, Serves
from app.crossings.schemas import CrossingCreate, LinkIn, StatusChangeIn
from app.crossings.service import change_status_and_commit, create_and_commit, link_and_commit
from seed.incidents import SEED_CALLER, document_id, incident_id, read_csv

LINKED_KEY = {
    "incident": lambda key: incident_id(key),
    "clearing_work": lambda key: incident_id(f"clearing:{key}"),
    "approval": lambda key: incident_id(f"approval:{key}"),
}


async def _nearest_marker(session: AsyncSession, border: str, district: str) -> str:
    """The marker of `border` nearest the seat of `district` (district-seats.csv)."""
    seat = next(r for r in read_csv("district-seats.csv") if r["district"] == district)
    code = (
        await session.execute(
            text(
                "SELECT m.code FROM markers m JOIN borders b ON b.id = m.border_id "
                "WHERE b.code = :border ORDER BY m.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), "
                "4326) LIMIT 1"
            ),
            {"border": border, "lon": float(seat["seat_lon"]), "lat": float(seat["seat_lat"])},
        )
    ).scalar_one()
    return str(code)


def _change(row: dict[str, str]) -> StatusChangeIn:
    return StatusChangeIn(
        status=CrossingStatus(row["status"]),
        level=CrossingLevel(row["level"]) if row["level"] else None,
        effective_on=date.fromisoformat(row["effective_on"]),
        dated_by=DatedBy(row["dated_by"]),
        reason=row["reason"] or None,
        document_id=document_id(row["document"]),
        section=row["section"] or None,
    )


async def load_demo_crossings(session: AsyncSession) -> int:
    if (await session.execute(text("SELECT EXISTS (SELECT 1 FROM crossings)"))).scalar_one():
        return 0
    ids: dict[str, int] = {}
    for row in read_csv("crossings.csv"):
        location = row["location"]
        if not location:
            marker = await _nearest_marker(session, row["border"], row["district"])
            location = f"{row['border']}:{marker}"
        ids[row["code"]] = await create_and_commit(
            session,
            caller=SEED_CALLER,
            body=CrossingCreate(
                code=row["code"],
                border=row["border"],
                name_vn=row["name_vn"],
                name_other=row["name_other"] or None,
                level=CrossingLevel(row["level"]),
                serves=[Serves(s) for s in row["serves"].split(";") if s],
                part_of=row["part_of"] or None,
                location=location,
                place_illustrative=not row["location"] or row["code"] == "mong-cai",
                province=row["province"],
                other_side_unit=row["other_side_unit"] or None,
                note=row["note"] or None,
            ),
        )
    for row in read_csv("crossing-status.csv"):
        await change_status_and_commit(
            session, caller=SEED_CALLER, crossing_id=ids[row["crossing"]], change=_change(row)
        )
    for row in read_csv("crossing-links.csv"):
        await link_and_commit(
            session,
            caller=SEED_CALLER,
            crossing_id=ids[row["crossing"]],
            link=LinkIn(type=row["type"], id=str(LINKED_KEY[row["type"]](row["key"]))),
        )
    return len(ids)
