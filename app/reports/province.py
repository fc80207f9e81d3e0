"""The report view of a province's year: what a provincial report's border section says
(cases settled, reported to the Ministry, referred to the Joint Committee, notes sent,
talks held, joint checks, works approved or pending, kilometres cleared by kind, markers
repaired), from the incidents, their steps, the approval procedures, the clearing works
and the documents. Every section also says how much of it is illustrative (demo data
created to stand for a total a report gives without details).

Counting rules, each by the Vietnam calendar year:
- settled: incidents resolved in the year (their resolved_at, which a backdated
  transition sets to the day it happened);
- reported to the Ministry: incidents with a `reported_to_body` step at central level in
  the year, or a transition to `escalated` effective in the year;
- referred to the Joint Committee: a `referred_to_joint_committee` step or a transition to
  `referred` in the year;
- notes sent or received, talks, calls, joint checks: distinct occasions in the year (one
  note about three cases is one note): the same day, document, place and counterpart.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.crossings.models import OPEN_STATES
from app.crossings.queries import STATUS_ON
from app.db import plain_row
from app.documents.citations import format_citation
from app.errors import NotFound
from app.inspections.queries import conditions_on
from app.reports.service import Table
from app.timestamps import LOCAL_TIME_ZONE

_YEAR = f"""
year AS (
  SELECT (make_date(:year, 1, 1)::timestamp AT TIME ZONE '{LOCAL_TIME_ZONE}') AS s,
         (make_date(:year + 1, 1, 1)::timestamp AT TIME ZONE '{LOCAL_TIME_ZONE}') AS e,
         make_date(:year, 1, 1) AS first_day, make_date(:year, 12, 31) AS last_day
)"""

# The province's incidents, each with what the year saw of it.
_CASES = f"""
WITH {_YEAR},
inc AS (
  SELECT i.* FROM incidents i WHERE i.province_code = :province
),
steps AS (
  SELECT s.*, i.id AS case_id FROM incident_steps s JOIN inc i ON i.id = s.incident_id, year y
  WHERE s.happened_on BETWEEN y.first_day AND y.last_day
),
moves AS (
  SELECT h.incident_id, h.changes->'status'->>'to' AS to_status,
         coalesce(h.effective_at, h.at) AS on_at
  FROM incident_history h JOIN inc i ON i.id = h.incident_id, year y
  WHERE h.action = 'transition' AND coalesce(h.effective_at, h.at) >= y.s
    AND coalesce(h.effective_at, h.at) < y.e
)
SELECT i.id, i.title, i.category, i.nature, i.status, i.severity, i.chainage_ref,
       i.location_ref, i.district_code AS district, i.occurred_at, i.resolved_at,
       'illustrative_case' = ANY(i.tags) AS illustrative,
       i.occurred_at >= y.s AND i.occurred_at < y.e AS opened_in_year,
       i.status = 'resolved' AND i.resolved_at >= y.s AND i.resolved_at < y.e AS settled_in_year,
       EXISTS (SELECT 1 FROM steps s WHERE s.case_id = i.id AND s.kind = 'reported_to_body'
                 AND s.level = 'central')
         OR EXISTS (SELECT 1 FROM moves m WHERE m.incident_id = i.id
                      AND m.to_status = 'escalated') AS reported_to_ministry,
       EXISTS (SELECT 1 FROM steps s WHERE s.case_id = i.id
                 AND s.kind = 'referred_to_joint_committee')
         OR EXISTS (SELECT 1 FROM moves m WHERE m.incident_id = i.id
                      AND m.to_status = 'referred') AS referred_to_joint_committee,
       (SELECT count(*) FROM steps s WHERE s.case_id = i.id) AS steps_in_year,
       i.breaches
FROM inc i, year y
WHERE (i.occurred_at >= y.s AND i.occurred_at < y.e)
   OR (i.resolved_at >= y.s AND i.resolved_at < y.e)
   OR EXISTS (SELECT 1 FROM steps s WHERE s.case_id = i.id)
   OR EXISTS (SELECT 1 FROM moves m WHERE m.incident_id = i.id)
ORDER BY i.occurred_at, i.id
"""  # noqa: S608

# Distinct occasions of each kind of step in the year: a note about three cases is one
# (same day, document, place and counterpart).
_OCCASIONS = f"""
WITH {_YEAR}
SELECT s.kind,
       count(DISTINCT (s.happened_on::text || '|' || coalesce(s.document_id::text, '')
                               || '|' || coalesce(s.place, '') || '|'
                               || coalesce(s.counterpart, ''))) AS occasions,
       count(DISTINCT (s.happened_on::text || '|' || coalesce(s.document_id::text, '')
                               || '|' || coalesce(s.place, '') || '|'
                               || coalesce(s.counterpart, '')))
         FILTER (WHERE s.illustrative) AS illustrative
FROM incident_steps s JOIN incidents i ON i.id = s.incident_id, year y
WHERE i.province_code = :province AND s.happened_on BETWEEN y.first_day AND y.last_day
GROUP BY s.kind ORDER BY s.kind
"""  # noqa: S608

# Every step of the year, for the steps sheet (a document's citation beside it).
_STEPS = """
SELECT s.incident_id, i.title AS incident, s.kind, s.happened_on, s.level, s.body,
       s.counterpart, s.place, s.summary, d.kind AS document_kind,
       d.number AS document_number, d.issued_on AS document_issued_on, s.illustrative
FROM incident_steps s JOIN incidents i ON i.id = s.incident_id
LEFT JOIN documents d ON d.id = s.document_id
WHERE i.province_code = :province
  AND s.happened_on BETWEEN make_date(:year, 1, 1) AND make_date(:year, 12, 31)
ORDER BY s.happened_on, s.incident_id, s.id
"""

_APPROVALS = f"""
WITH {_YEAR},
staged AS (
  SELECT r.id, r.requested_by_side, r.requester, r.work_title, r.work_kind, r.location_ref,
         r.gate_name, r.illustrative,
         (SELECT min(s.happened_on) FROM approval_stages s WHERE s.request_id = r.id)
           AS submitted_on,
         (SELECT s.stage FROM approval_stages s, year y2 WHERE s.request_id = r.id
            AND s.happened_on <= y2.last_day ORDER BY s.happened_on DESC, s.id DESC LIMIT 1)
           AS stage_at_end,
         (SELECT max(s.happened_on) FROM approval_stages s WHERE s.request_id = r.id
            AND s.stage = 'approved') AS approved_on,
         (SELECT max(s.happened_on) FROM approval_stages s WHERE s.request_id = r.id
            AND s.stage = 'refused') AS refused_on,
         EXISTS (SELECT 1 FROM approval_stages s, year y3 WHERE s.request_id = r.id
                   AND s.happened_on BETWEEN y3.first_day AND y3.last_day) AS active_in_year
  FROM approval_requests r WHERE r.province_code = :province
)
SELECT st.*, st.submitted_on BETWEEN y.first_day AND y.last_day AS submitted_in_year,
       st.approved_on BETWEEN y.first_day AND y.last_day AS approved_in_year,
       st.refused_on BETWEEN y.first_day AND y.last_day AS refused_in_year,
       st.stage_at_end IN ('submitted', 'forwarded', 'commented') AS pending_at_end
FROM staged st, year y
WHERE st.active_in_year
   OR (st.submitted_on <= y.last_day AND st.stage_at_end IN ('submitted', 'forwarded', 'commented'))
ORDER BY st.submitted_on, st.id
"""  # noqa: S608

_CLEARING = """
SELECT w.kind, k.name_vi AS kind_name,
       count(DISTINCT w.id) FILTER (WHERE c.id IS NOT NULL) AS works,
       round((coalesce(sum(c.end_m - c.start_m), 0) / 1000)::numeric, 3) AS completed_km,
       bool_or(w.notes ILIKE '%minh họa%') AS illustrative_dates
FROM clearing_works w
JOIN clearing_work_kinds k ON k.code = w.kind
JOIN clearing_completions c ON c.work_id = w.id
  AND c.completed_on BETWEEN make_date(:year, 1, 1) AND make_date(:year, 12, 31)
WHERE w.province_codes ? :province AND k.is_clearing
GROUP BY w.kind, k.name_vi ORDER BY w.kind
"""

_WORKS = """
SELECT w.id, w.range_ref, w.kind, w.status, w.party, w.planned_start, w.actual_start,
       w.actual_end, round((w.length_m / 1000)::numeric, 3) AS length_km, w.notes
FROM clearing_works w
WHERE w.province_codes ? :province
  AND coalesce(w.actual_start, w.planned_start) <= make_date(:year, 12, 31)
  AND (w.actual_end IS NULL OR w.actual_end >= make_date(:year, 1, 1))
ORDER BY w.range_ref
"""

_DOCUMENTS = """
SELECT DISTINCT d.id, d.kind, d.number, d.issuer, d.issued_on, d.subject, d.illustrative
FROM documents d
WHERE (d.province_code = :province
       AND d.issued_on BETWEEN make_date(:year, 1, 1) AND make_date(:year, 12, 31))
   OR d.id IN (SELECT s.document_id FROM incident_steps s JOIN incidents i
                 ON i.id = s.incident_id
               WHERE i.province_code = :province
                 AND s.happened_on BETWEEN make_date(:year, 1, 1) AND make_date(:year, 12, 31))
ORDER BY d.issued_on NULLS LAST, d.id
"""


# The province's crossings: their status at the year's end, and the changes dated in it.
_GATES = f"""
WITH {_YEAR}
SELECT c.code, c.name_vn || coalesce(' – ' || c.name_other, '') AS name, c.level,
       c.location_ref, c.place_illustrative,
       {STATUS_ON} AS status_at_end,
       (SELECT string_agg(h.status || ' ' || h.effective_on
                          || CASE WHEN h.dated_by = 'report' THEN ' (ngày báo cáo)' ELSE '' END,
                          '; ' ORDER BY h.effective_on, h.id)
        FROM crossing_status_changes h, year
        WHERE h.crossing_id = c.id AND h.effective_on BETWEEN year.first_day AND year.last_day
       ) AS changes_in_year
FROM crossings c WHERE c.province_code = :province
ORDER BY c.code
"""  # noqa: S608


# Repairs and restorations of the province's markers done in the year.
_MARKER_REPAIRS = f"""
WITH {_YEAR}
SELECT m.code, r.kind, r.side, r.done_on, r.illustrative
FROM marker_repairs r JOIN markers m ON m.id = r.marker_id, year
WHERE m.province_code = :province AND r.status = 'done'
  AND r.done_on BETWEEN year.first_day AND year.last_day
"""  # noqa: S608


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await session.execute(text(sql), params)]


def _count(rows: list[dict[str, Any]], flag: str) -> dict[str, int]:
    chosen = [r for r in rows if r[flag]]
    return {"count": len(chosen), "illustrative": sum(1 for r in chosen if r["illustrative"])}


async def province_report(session: AsyncSession, province: str, year: int) -> dict[str, Any]:
    name = (
        await session.execute(
            text(
                "SELECT name_vi FROM admin_units WHERE code = :p AND level = 'province' "
                "ORDER BY valid_from DESC LIMIT 1"
            ),
            {"p": province},
        )
    ).scalar_one_or_none()
    if name is None:
        raise NotFound(f"no province {province}")
    params = {"province": province, "year": year}
    cases = await _rows(session, _CASES, params)
    occasions = {r["kind"]: r for r in await _rows(session, _OCCASIONS, params)}
    approvals = await _rows(session, _APPROVALS, params)
    clearing = await _rows(session, _CLEARING, params)
    works = await _rows(session, _WORKS, params)
    documents = await _rows(session, _DOCUMENTS, params)
    steps = await _rows(session, _STEPS, params)
    gates = await _rows(session, _GATES, {**params, "on": date(year, 12, 31)})
    marker_repairs = await _rows(session, _MARKER_REPAIRS, params)
    conditions = await conditions_on(session, on=date(year, 12, 31), province=province, border=None)

    def occasion(kind: str) -> dict[str, int]:
        row = occasions.get(kind, {})
        return {
            "count": int(row.get("occasions", 0)),
            "illustrative": int(row.get("illustrative") or 0),
        }

    opened = [c for c in cases if c["opened_in_year"]]
    by_category: dict[str, int] = {}
    for c in opened:
        by_category[c["category"]] = by_category.get(c["category"], 0) + 1
    repaired = [c for c in cases if c["settled_in_year"] and c["category"] == "marker_damage"]
    ours = [a for a in approvals if a["requested_by_side"] == "vn"]
    theirs = [a for a in approvals if a["requested_by_side"] == "other"]

    def approval_counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        return {
            flag.removesuffix("_in_year").removesuffix("_at_end"): _count(rows, flag)
            for flag in (
                "submitted_in_year",
                "approved_in_year",
                "refused_in_year",
                "pending_at_end",
            )
        }

    return {
        "province": province,
        "province_name": name,
        "year": year,
        "period": {"from": date(year, 1, 1).isoformat(), "to": date(year, 12, 31).isoformat()},
        "events": {
            "opened": {
                "count": len(opened),
                "illustrative": sum(1 for c in opened if c["illustrative"]),
            },
            "settled": _count(cases, "settled_in_year"),
            "reported_to_ministry": _count(cases, "reported_to_ministry"),
            "referred_to_joint_committee": _count(cases, "referred_to_joint_committee"),
            "notes_sent": occasion("note_sent"),
            "notes_received": occasion("note_received"),
            "talks": occasion("talks"),
            "calls": occasion("call"),
            "joint_verifications": occasion("joint_verification"),
            "agreements": occasion("agreement"),
            "under_watch": {
                "count": sum(1 for c in cases if c["status"] == "monitoring"),
                "illustrative": sum(
                    1 for c in cases if c["status"] == "monitoring" and c["illustrative"]
                ),
            },
            "opened_by_category": dict(sorted(by_category.items())),
        },
        "approvals": {
            "requested_by_vn": approval_counts(ours),
            "requested_by_other_side": approval_counts(theirs),
        },
        "clearing": {
            "completed_km_by_kind": [
                {**r, "completed_km": float(r["completed_km"])} for r in clearing
            ],
            "works": len(works),
        },
        "markers": {
            "repaired": {
                "count": len(repaired),
                "illustrative": sum(1 for c in repaired if c["illustrative"]),
            },
            "repairs_done": {
                "count": len(marker_repairs),
                "illustrative": sum(1 for r in marker_repairs if r["illustrative"]),
            },
            "by_condition_at_end": conditions["by_condition"],
        },
        "gates": {
            "recorded": True,
            "open_at_end": sum(1 for g in gates if g["status_at_end"] in OPEN_STATES),
            "changed_in_year": sum(1 for g in gates if g["changes_in_year"]),
            "crossings": gates,
        },
        "cases": [_case_row(c) for c in cases],
        "steps": [_step_row(step) for step in steps],
        "approval_requests": [plain_row(a) for a in approvals],
        "clearing_works": [plain_row(w) for w in works],
        "documents": [
            {**plain_row(d), "citation": format_citation(d["kind"], d["number"], d["issued_on"])}
            for d in documents
        ],
    }


_templates = Environment(
    loader=PackageLoader("app.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def report_html(report: dict[str, Any]) -> str:
    return _templates.get_template("province.html").render(r=report)


def _step_row(step: dict[str, Any]) -> dict[str, Any]:
    row = plain_row(step)
    kind = row.pop("document_kind")
    number, issued = row.pop("document_number"), step["document_issued_on"]
    row.pop("document_issued_on")
    row["document"] = format_citation(kind, number, issued) if kind else None
    return row


def _case_row(case: dict[str, Any]) -> dict[str, Any]:
    row = plain_row(case)
    row["articles"] = ", ".join(sorted({b["article"] for b in case["breaches"]}))
    del row["breaches"]
    return row


CASE_COLUMNS = [
    "id", "title", "category", "nature", "status", "chainage_ref", "district", "occurred_at",
    "resolved_at", "opened_in_year", "settled_in_year", "reported_to_ministry",
    "referred_to_joint_committee", "steps_in_year", "articles", "illustrative",
]  # fmt: skip


def report_tables(report: dict[str, Any]) -> list[Table]:
    """The report as spreadsheet tables: one summary sheet, then the lists behind it."""
    summary: list[dict[str, Any]] = []
    for section in ("events", "markers"):
        for key, value in report[section].items():
            if isinstance(value, dict) and "count" in value:
                summary.append({"section": section, "measure": key, **value})
    for side, counts in report["approvals"].items():
        for key, value in counts.items():
            summary.append({"section": f"approvals {side}", "measure": key, **value})
    for row in report["clearing"]["completed_km_by_kind"]:
        summary.append(
            {
                "section": "clearing",
                "measure": f"completed_km {row['kind']}",
                "count": row["completed_km"],
                "illustrative": None,
            }
        )
    return [
        Table("summary", ["section", "measure", "count", "illustrative"], summary),
        Table("cases", CASE_COLUMNS, report["cases"]),
        Table(
            "steps",
            [
                "incident_id",
                "incident",
                "kind",
                "happened_on",
                "level",
                "body",
                "counterpart",
                "place",
                "summary",
                "document",
                "illustrative",
            ],
            report["steps"],
        ),
        Table(
            "approvals",
            [
                "id",
                "requested_by_side",
                "requester",
                "work_title",
                "location_ref",
                "gate_name",
                "submitted_on",
                "stage_at_end",
                "approved_on",
                "refused_on",
                "illustrative",
            ],
            report["approval_requests"],
        ),
        Table(
            "clearing_works",
            [
                "range_ref",
                "kind",
                "status",
                "party",
                "length_km",
                "actual_start",
                "actual_end",
                "notes",
            ],
            report["clearing_works"],
        ),
        Table(
            "gates",
            ["code", "name", "level", "location_ref", "status_at_end", "changes_in_year"],
            report["gates"]["crossings"],
        ),
        Table(
            "documents",
            ["kind", "number", "issuer", "issued_on", "subject", "illustrative"],
            report["documents"],
        ),
    ]
