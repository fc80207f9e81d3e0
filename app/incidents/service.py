"""Writes to incidents: at-most-once submission, batch sync, edits, transitions.

Idempotency rests on the primary key (the client's UUID) and `INSERT ... ON CONFLICT DO
NOTHING`: a concurrent duplicate waits for the first insert to commit, then finds the
row and compares content hashes. Nothing is acknowledged before the commit.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.areas.service import require_area
from app.audit.service import record, record_many
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.db import cached_text
from app.errors import (
    INVALID_DATA_DETAIL,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    check_version,
    invalid_data,
    status_of,
)
from app.events.service import Event, emit_many
from app.incidents import bulk
from app.incidents.context import compute_context
from app.incidents.lifecycle import require_transition
from app.incidents.location import Place, resolve_place
from app.incidents.models import Status
from app.incidents.queries import require_visible, visibility
from app.incidents.schemas import IncidentPatch, IncidentSubmission, TransitionRequest
from app.incidents.submission import content_hash, require_category, search_text
from app.params import input_epsg


@dataclass(frozen=True)
class SubmitOutcome:
    result: Literal["created", "duplicate"]
    incident_id: uuid.UUID


_HISTORY_SQL = """
INSERT INTO incident_history (incident_id, actor_token_id, actor_name, action, changes, note,
                              document_ref, effective_at)
SELECT e.incident_id, CAST(:token AS uuid), :name, :action, e.changes, :note, :doc,
       CAST(:effective AS timestamptz)
FROM jsonb_to_recordset(CAST(:entries AS jsonb)) AS e(incident_id uuid, changes jsonb)
"""


async def _history(
    session: AsyncSession,
    *,
    entries: list[tuple[uuid.UUID, dict[str, Any]]],
    caller: Caller,
    action: str,
    note: str | None = None,
    document_ref: str | None = None,
    effective_at: datetime | None = None,
) -> None:
    """One history row per (incident, changes), in one statement (a batch of 500: one
    execution, not 500)."""
    await session.execute(
        cached_text(_HISTORY_SQL),
        {
            "token": caller.token_id,
            "name": caller.name,
            "action": action,
            "note": note,
            "doc": document_ref,
            "effective": effective_at,
            "entries": json.dumps(
                [{"incident_id": str(i), "changes": c} for i, c in entries],
                ensure_ascii=False,
                default=str,
            ),
        },
    )


async def submit(
    session: AsyncSession,
    *,
    caller: Caller,
    submission: IncidentSubmission,
    crs_param: str | None,
    max_vertices: int,
) -> SubmitOutcome:
    """Store one submission (or recognise its replay): a batch of one (bulk.py), so one
    report and a synced queue take the same checks and statements. Does not commit: the
    caller commits before acknowledging."""
    require_role(caller, Role.reporter, Role.officer)
    item = bulk.Item(0, submission, str(submission.id), caller, crs_param)
    if await store_together(session, items=[item], max_vertices=max_vertices) is None:
        # A value PostgreSQL refused: the one-by-one path says which.
        return await submit_alone(
            session,
            caller=caller,
            submission=submission,
            crs_param=crs_param,
            max_vertices=max_vertices,
        )
    return outcome_of(item)


def outcome_of(item: bulk.Item) -> SubmitOutcome:
    """A stored item's outcome, or its refusal raised."""
    if item.refused is not None:
        raise item.refused
    return SubmitOutcome("created" if item.place else "duplicate", item.submission.id)


async def submit_alone(
    session: AsyncSession,
    *,
    caller: Caller,
    submission: IncidentSubmission,
    crs_param: str | None,
    max_vertices: int,
) -> SubmitOutcome:
    """One submission stored one by one (service._store): what a value PostgreSQL refuses
    raises here, for this submission alone. Does not commit."""
    outcome, created = await _store(
        session,
        caller=caller,
        submission=submission,
        crs_param=crs_param,
        max_vertices=max_vertices,
    )
    await _after_create(session, [created] if created else [])
    return outcome


async def store_together(
    session: AsyncSession, *, items: list[bulk.Item], max_vertices: int, savepoint: bool = True
) -> list[_Created] | None:
    """Check, place and store `items` together (from one caller or several), with their
    context, history, audit and events. Each item ends refused, created (its place set) or
    a duplicate (neither). None when PostgreSQL refused a value of the shared insert:
    nothing was written, and the transaction can go on only if the insert had its
    `savepoint` (bulk.insert_new). Does not commit."""
    await bulk.check_categories(session, items)
    live = [i for i in items if i.refused is None]
    await bulk.resolve_places(session, live, max_vertices=max_vertices)
    await bulk.check_area(session, live)
    placed = [i for i in live if i.refused is None and i.place is not None]
    stored, ran = await bulk.insert_new(session, placed, savepoint=savepoint)
    if not ran:
        return None
    await bulk.settle_replays(session, placed, stored)
    created = [
        _Created(i.submission.id, i.place.border, i.submission.properties.category, i.caller)
        for i in items
        if i.refused is None and i.place is not None
    ]
    await _after_create(session, created, stored=stored)
    return created


async def _store(
    session: AsyncSession,
    *,
    caller: Caller,
    submission: IncidentSubmission,
    crs_param: str | None,
    max_vertices: int,
) -> tuple[SubmitOutcome, _Created | None]:
    """Insert one submission, or recognise its replay: (outcome, the new row for
    _after_create, which writes its context, history, audit and event; None for a replay)."""
    require_role(caller, Role.reporter, Role.officer)
    props = submission.properties
    await require_category(session, props.category, "properties.category")
    place = await resolve_place(
        session,
        geometry=submission.geometry,
        location=submission.location,
        epsg=input_epsg(crs_param, submission.crs),
        border_hint=props.border,
        max_vertices=max_vertices,
    )
    await require_area(session, caller, wkb_hex=place.wkb_hex, what="the incident")
    digest = content_hash(submission)
    inserted = (
        await session.execute(
            text(
                """
                INSERT INTO incidents (id, content_hash, border_id, category, title, description,
                    occurred_at, severity, status, reported_by, tags, location_ref, geom,
                    created_by_token_id, search_text, nature, distance_to_line_m, side)
                VALUES (:id, :hash, :border_id, :category, :title, :description, :occurred_at,
                    :severity, 'reported', :reported_by, :tags, :location_ref,
                    ST_GeomFromWKB(decode(:wkb, 'hex'), 4326), :token, :search, :nature,
                    0, 'unknown')
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """
            ),
            {
                "id": submission.id,
                "hash": digest,
                "border_id": place.border_id,
                "category": props.category,
                "title": props.title,
                "description": props.description,
                "occurred_at": props.occurred_at,
                "severity": props.severity.value,
                "reported_by": props.reported_by or caller.name,
                "tags": props.tags,
                "location_ref": place.location_ref,
                "wkb": place.wkb_hex,
                "token": caller.token_id,
                "search": search_text(props.title, props.description, props.tags),
                "nature": props.nature.value,
            },
        )
    ).scalar_one_or_none()
    if inserted is None:
        stored = (
            await session.execute(
                text("SELECT content_hash FROM incidents WHERE id = :id"), {"id": submission.id}
            )
        ).scalar_one()
        if stored != digest:
            raise Conflict(
                f"incident {submission.id} was already submitted with different content; "
                "send it again unchanged, or use a new id for a new report (or PATCH to edit)",
                extra={"id": str(submission.id)},
            )
        return SubmitOutcome("duplicate", submission.id), None
    return SubmitOutcome("created", submission.id), _Created(
        submission.id, place.border, props.category, caller
    )


@dataclass(frozen=True)
class _Created:
    id: uuid.UUID
    border: str
    category: str
    caller: Caller


async def _after_create(
    session: AsyncSession, created: list[_Created], *, stored: Mapping[Any, Any] | None = None
) -> None:
    """Context, history, audit and events of new incidents: a statement for them all,
    history and audit one per caller among them. The rows the shared insert `stored`
    (bulk.insert_new) have their context already, and what their events tell."""
    if not created:
        return
    if stored is None:
        await compute_context(session, [c.id for c in created])
    by_caller: dict[Caller, list[_Created]] = {}
    for c in created:
        by_caller.setdefault(c.caller, []).append(c)
    for caller, theirs in by_caller.items():
        await _history(
            session,
            entries=[
                (c.id, {"status": {"to": Status.reported.value}, "category": c.category})
                for c in theirs
            ],
            caller=caller,
            action="created",
        )
        await record_many(
            session,
            caller=caller,
            action="incident.create",
            entity_type="incident",
            entries=[(str(c.id), {"border": c.border, "category": c.category}) for c in theirs],
        )
    await _emit(
        session,
        "incident.created",
        [(c.id, {}) for c in created],
        rows={c.id: {**stored[c.id]._mapping, "border": c.border} for c in created}
        if stored is not None
        else None,
    )


async def submit_and_commit(
    session: AsyncSession,
    *,
    caller: Caller,
    submission: IncidentSubmission,
    crs_param: str | None,
    max_vertices: int,
) -> SubmitOutcome:
    outcome = await submit(
        session,
        caller=caller,
        submission=submission,
        crs_param=crs_param,
        max_vertices=max_vertices,
    )
    await session.commit()
    return outcome


@dataclass
class BatchItemResult:
    index: int
    id: str | None
    result: Literal["created", "duplicate", "conflict", "invalid", "forbidden"]
    problem: dict[str, Any] | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        """Its member of the batch's answer. Not dataclasses.asdict, which deep-copies each
        member: 1.8 -> 0.07 ms for a batch of 500 created (timeit)."""
        return {"index": self.index, "id": self.id, "result": self.result, "problem": self.problem}


def _problem(error: DomainError) -> dict[str, Any]:
    return {
        "type": f"/problems/{error.slug}",
        "title": error.title,
        "status": status_of(error),
        "detail": error.detail,
        **error.extra,
    }


def _validation_problem(exc: ValidationError) -> dict[str, Any]:
    errors = [
        FieldError(".".join(str(p) for p in e["loc"]) or "feature", e["msg"]).as_dict()
        for e in exc.errors()
    ]
    return {
        "type": "/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": "the feature has invalid fields: " + ", ".join(e["field"] for e in errors),
        "errors": errors,
    }


async def submit_batch(
    session: AsyncSession,
    *,
    caller: Caller,
    features: list[Any],
    crs_param: str | None,
    max_vertices: int,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    parts: int = 1,
    part_min_items: int = 1,
) -> list[BatchItemResult]:
    """Every item checked and stored together (bulk.py: a few statements for the batch); a
    bad item is reported and sinks nothing else. Results are returned only after the
    commit.

    A large batch is stored in `parts` at once, each a transaction on its own connection
    (the first the request's `session`, the others from `sessionmaker`): PostgreSQL places
    and writes a batch on one core, and the machine has more. On the bench million, batches
    of 500 in one transaction against two parts: 2,506 against 3,718 reports/s
    (`bench/alternate.py --scenario batch`, six rounds each, 2026-12-06). Items with the
    same id fall in the same part, so a repeat inside the batch is still a duplicate. The
    answer waits for every part; should a part fail, the answer is an error though other
    parts are stored, and the client's retry finds those as duplicates: nothing
    acknowledged is lost, nothing is stored twice."""
    require_role(caller, Role.reporter, Role.officer)
    results: dict[int, BatchItemResult] = {}
    items: list[bulk.Item] = []
    for index, raw in enumerate(features):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            submission = IncidentSubmission.model_validate(raw)
            items.append(bulk.Item(index, submission, str(raw_id), caller, crs_param))
        except ValidationError as exc:
            item_id = str(raw_id) if raw_id is not None else None
            results[index] = BatchItemResult(index, item_id, "invalid", _validation_problem(exc))
    split = max(1, min(parts, len(items) // part_min_items)) if sessionmaker else 1
    by_part: list[list[bulk.Item]] = [[] for _ in range(split)]
    for item in items:
        by_part[item.submission.id.int % split].append(item)

    async def own_session(part: list[bulk.Item]) -> None:
        assert sessionmaker is not None  # split > 1 only with one
        async with sessionmaker() as part_session:
            await _store_part(part_session, caller, part, crs_param, max_vertices, results)

    done = await asyncio.gather(
        _store_part(session, caller, by_part[0], crs_param, max_vertices, results),
        *[own_session(part) for part in by_part[1:]],
        return_exceptions=True,  # every part ends before the answer: none left midway
    )
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    return [results[i] for i in sorted(results)]


async def _store_part(
    session: AsyncSession,
    caller: Caller,
    items: list[bulk.Item],
    crs_param: str | None,
    max_vertices: int,
    results: dict[int, BatchItemResult],
) -> None:
    """Store `items` of a batch in one transaction of `session`, committed; their results
    into `results`."""
    stored = await store_together(session, items=items, max_vertices=max_vertices)
    if stored is None:  # a value PostgreSQL refused: store one by one, which isolates it
        await _store_each(session, caller, items, crs_param, max_vertices, results)
    else:
        for item in items:
            sid = str(item.submission.id)
            if item.refused is not None:
                results[item.index] = _refusal(item.index, item.given_id, item.refused)
            elif item.place is not None:
                results[item.index] = BatchItemResult(item.index, sid, "created")
            else:
                results[item.index] = BatchItemResult(item.index, sid, "duplicate")
    await session.commit()


def _refusal(index: int, item_id: str, error: DomainError) -> BatchItemResult:
    kind: Literal["conflict", "forbidden", "invalid"] = (
        "conflict"
        if isinstance(error, Conflict)
        else "forbidden"
        if isinstance(error, Forbidden)
        else "invalid"
    )
    return BatchItemResult(index, item_id, kind, _problem(error))


async def _store_each(
    session: AsyncSession,
    caller: Caller,
    items: list[bulk.Item],
    crs_param: str | None,
    max_vertices: int,
    results: dict[int, BatchItemResult],
) -> None:
    """The one-by-one path, each item in its own savepoint: a value PostgreSQL refuses
    (such as a NUL character) sinks that item only."""
    created: list[_Created] = []
    for item in items:
        sid = str(item.submission.id)
        try:
            async with session.begin_nested():
                outcome, new = await _store(
                    session,
                    caller=caller,
                    submission=item.submission,
                    crs_param=crs_param,
                    max_vertices=max_vertices,
                )
            if new:
                created.append(new)
            results[item.index] = BatchItemResult(item.index, sid, outcome.result)
        except (Conflict, Forbidden, InvalidInput, NotFound) as exc:
            results[item.index] = _refusal(item.index, item.given_id, exc)
        except DBAPIError as exc:
            if not invalid_data(exc):
                raise
            refused = InvalidInput(INVALID_DATA_DETAIL)
            results[item.index] = _refusal(item.index, item.given_id, refused)
    await _after_create(session, created)


_CURRENT_SQL = """
SELECT i.id, i.version, i.status, i.category, i.title, i.description, i.occurred_at,
       i.severity, i.tags, i.nature, i.location_ref, i.border_id, b.code AS border,
       i.province_code,
       encode(ST_AsBinary(i.geom), 'hex') AS wkb
FROM incidents i JOIN borders b ON b.id = i.border_id WHERE i.id = :id FOR UPDATE OF i
"""


async def load_writable(session: AsyncSession, caller: Caller, incident_id: uuid.UUID) -> Any:
    """The incident, locked for this transaction, once the caller may change it: 404 when
    the caller cannot see it, 403 outside its area (a reporter's district)."""
    current = (await session.execute(text(_CURRENT_SQL), {"id": incident_id})).one_or_none()
    if current is None:
        raise NotFound(f"no incident {incident_id}")
    require_visible(caller, current.province_code, incident_id)
    await require_area(session, caller, wkb_hex=current.wkb, what=f"incident {incident_id}")
    return current


_EDITABLE = ("category", "title", "description", "occurred_at", "severity", "tags", "nature")


async def patch_incident(
    session: AsyncSession,
    *,
    caller: Caller,
    incident_id: uuid.UUID,
    patch: IncidentPatch,
    if_match: int | None,
    crs_param: str | None,
    max_vertices: int,
) -> None:
    """Reporters add information in their district, officers edit in their province.
    Needs If-Match. A new place, category or time recomputes the context. Commits."""
    require_role(caller, Role.reporter, Role.officer)
    current = await load_writable(session, caller, incident_id)
    check_version(current.version, if_match, what=f"incident {incident_id}", required=True)
    fields = patch.model_fields_set
    values: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for name in _EDITABLE:
        if name not in fields:
            continue
        new = getattr(patch, name)
        if new is None and name in (
            "category",
            "title",
            "occurred_at",
            "severity",
            "tags",
            "nature",
        ):
            raise InvalidInput(f"{name} cannot be cleared", field=name)
        old = getattr(current, name)
        stored_new = new.value if hasattr(new, "value") else new
        if stored_new != old:
            values[name] = stored_new
            changes[name] = {"from": old, "to": stored_new}
    if "category" in values:
        await require_category(session, values["category"], "category")
    place: Place | None = None
    if patch.geometry is not None or patch.location is not None:
        place = await resolve_place(
            session,
            geometry=patch.geometry,
            location=patch.location,
            epsg=input_epsg(crs_param, patch.crs),
            border_hint=current.border,
            max_vertices=max_vertices,
        )
        await require_area(session, caller, wkb_hex=place.wkb_hex, what="the new place")
        if place.wkb_hex.lower() != str(current.wkb).lower():
            changes["geometry"] = {
                "location": {"from": current.location_ref, "to": place.location_ref}
            }
        else:
            place = None
    if not changes:
        return
    assignments = [f"{name} = :{name}" for name in values]  # names from _EDITABLE only
    params: dict[str, Any] = {**values, "id": incident_id}
    if place is not None:
        assignments += [
            "geom = ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)",
            "location_ref = :location_ref",
            "border_id = :border_id",
        ]
        params.update(wkb=place.wkb_hex, location_ref=place.location_ref, border_id=place.border_id)
    merged = {
        name: values.get(name, getattr(current, name)) for name in ("title", "description", "tags")
    }
    assignments.append("search_text = :search")
    params["search"] = search_text(merged["title"], merged["description"], merged["tags"])
    await session.execute(
        text(
            f"UPDATE incidents SET {', '.join(assignments)}, version = version + 1, "
            "updated_at = now() WHERE id = :id"
        ),
        params,
    )
    if place is not None or {"category", "occurred_at", "tags", "nature"} & set(values):
        await compute_context(session, [incident_id])
    await _history(session, entries=[(incident_id, changes)], caller=caller, action="updated")
    record(
        session,
        caller=caller,
        action="incident.update",
        entity_type="incident",
        entity_id=str(incident_id),
        detail={"fields": sorted(changes)},
    )
    await session.commit()


async def transition(
    session: AsyncSession,
    *,
    caller: Caller,
    incident_id: uuid.UUID,
    request: TransitionRequest,
    if_match: int | None,
) -> None:
    """Officers move incidents of their province through the lifecycle. Commits."""
    require_role(caller, Role.officer)
    current = await load_writable(session, caller, incident_id)
    check_version(current.version, if_match, what=f"incident {incident_id}", required=False)
    source = Status(current.status)
    require_transition(source, request.to)
    if request.duplicate_of is not None:
        if request.duplicate_of == incident_id:
            raise InvalidInput("an incident cannot duplicate itself", field="duplicate_of")
        # Only one the officer may see: another province's id is as unknown as a random one.
        params: dict[str, Any] = {"d": request.duplicate_of}
        exists = (
            await session.execute(
                text(f"SELECT 1 FROM incidents i WHERE i.id = :d AND {visibility(caller, params)}"),
                params,
            )
        ).first()
        if exists is None:
            raise InvalidInput(f"no incident {request.duplicate_of}", field="duplicate_of")
    now = request.effective_at or datetime.now(UTC)
    if request.effective_at is not None and request.effective_at < current.occurred_at:
        raise InvalidInput(
            f"effective_at {request.effective_at.isoformat()} is before the event "
            f"({current.occurred_at.isoformat()})",
            field="effective_at",
        )
    await session.execute(
        text(
            """
            UPDATE incidents SET status = CAST(:to AS varchar), version = version + 1,
              updated_at = now(),
              resolved_at = CASE WHEN CAST(:to AS varchar) = 'resolved'
                                 THEN CAST(:now AS timestamptz) ELSE NULL END,
              dismissal_reason = CASE WHEN CAST(:to AS varchar) = 'dismissed'
                                      THEN CAST(:reason AS varchar) ELSE NULL END,
              duplicate_of = CASE WHEN CAST(:to AS varchar) = 'dismissed'
                                  THEN CAST(:dup AS uuid) ELSE NULL END
            WHERE id = :id
            """
        ),
        {
            "to": request.to.value,
            "now": now,
            "reason": request.reason,
            "dup": request.duplicate_of,
            "id": incident_id,
        },
    )
    changes: dict[str, Any] = {"status": {"from": source.value, "to": request.to.value}}
    if request.reason:
        changes["reason"] = request.reason
    if request.duplicate_of:
        changes["duplicate_of"] = str(request.duplicate_of)
    if request.effective_at is not None:
        changes["effective_at"] = request.effective_at.isoformat()
    await _history(
        session,
        entries=[(incident_id, changes)],
        caller=caller,
        action="transition",
        note=request.note,
        document_ref=request.document_ref,
        effective_at=request.effective_at,
    )
    record(
        session,
        caller=caller,
        action="incident.transition",
        entity_type="incident",
        entity_id=str(incident_id),
        detail=changes,
    )
    await _emit(session, "incident.transitioned", [(incident_id, changes)])
    await session.commit()


async def _emit(
    session: AsyncSession,
    event_type: str,
    items: list[tuple[uuid.UUID, dict[str, Any]]],
    *,
    rows: Mapping[uuid.UUID, Mapping[Any, Any]] | None = None,
) -> None:
    """One event per incident (with its extra payload), from the rows as they now stand:
    read here unless given (bulk.EVENT_COLUMNS and the border's code, by id)."""
    if rows is None:
        rows = {
            row.id: row._mapping
            for row in await session.execute(
                text(
                    f"SELECT {', '.join(f'i.{c}' for c in bulk.EVENT_COLUMNS)}, b.code AS border "
                    "FROM incidents i JOIN borders b ON b.id = i.border_id "
                    "WHERE i.id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": [str(incident_id) for incident_id, _ in items]},
            )
        }
    events = []
    for incident_id, extra in items:
        row = rows[incident_id]
        payload = {
            "id": str(incident_id),
            "href": f"/api/v1/incidents/{incident_id}",
            "title": row["title"],
            "category": row["category"],
            "status": row["status"],
            "severity": row["severity"],
            "occurred_at": row["occurred_at"].isoformat(),
            "border": row["border"],
            "province": row["province_code"],
            "district": row["district_code"],
            "chainage_ref": row["chainage_ref"],
            "side": row["side"],
            **extra,
        }
        events.append(
            Event(event_type, payload, row["border"], row["province_code"], row["category"])
        )
    await emit_many(session, events)
