"""New incidents: one pipeline for a single report, a synced batch and the coalescer's
groups (a single report is a batch of one). Every submission ends with an explicit outcome:
created, a duplicate (its replay), or refused with its problem.

Idempotency rests on the primary key (the client's UUID) and `INSERT ... ON CONFLICT DO
NOTHING`: a concurrent duplicate waits for the first insert to commit, then finds the row
and compares content hashes. Nothing is acknowledged before the commit.

Commit rule: functions named `..._and_commit` commit; the others never do, and their
caller commits before it acknowledges anything.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.service import record_many
from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.errors import (
    INVALID_DATA_DETAIL,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    invalid_data,
    status_of,
)
from app.incidents import bulk
from app.incidents.history import emit_events, write_history
from app.incidents.models import Status
from app.incidents.schemas import IncidentSubmission


@dataclass(frozen=True)
class SubmitOutcome:
    result: Literal["created", "duplicate"]
    incident_id: uuid.UUID


async def submit(
    session: AsyncSession,
    *,
    caller: Caller,
    submission: IncidentSubmission,
    crs_param: str | None,
    max_vertices: int,
) -> SubmitOutcome:
    """Store one submission (or recognise its replay), or raise its refusal."""
    require_role(caller, Role.reporter, Role.officer)
    item = bulk.Item(0, submission, str(submission.id), caller, crs_param)
    await store(session, [item], max_vertices=max_vertices)
    return outcome_of(item)


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


def outcome_of(item: bulk.Item) -> SubmitOutcome:
    """A stored item's outcome, or its refusal raised."""
    if item.refused is not None:
        raise item.refused
    assert item.outcome is not None, "an item leaves store() created, a duplicate or refused"
    return SubmitOutcome(item.outcome, item.submission.id)


async def store(session: AsyncSession, items: list[bulk.Item], *, max_vertices: int) -> None:
    """Store `items` together, in a few statements for them all; should PostgreSQL refuse
    a value of the shared insert (one validation let through), each item again on its
    own, which refuses that item alone."""
    if not await store_together(session, items=items, max_vertices=max_vertices):
        await store_one_by_one(session, items, max_vertices=max_vertices)


async def store_together(
    session: AsyncSession, *, items: list[bulk.Item], max_vertices: int, savepoint: bool = True
) -> bool:
    """Check, place and store `items` together (from one caller or several), with their
    context, history, audit and events; each item's outcome or refusal is set. False when
    PostgreSQL refused a value of the shared insert: nothing was written, and the
    transaction can go on only if the insert had its `savepoint` (bulk.insert_new)."""
    await bulk.check_categories(session, items)
    live = [i for i in items if i.refused is None]
    await bulk.resolve_places(session, live, max_vertices=max_vertices)
    await bulk.check_area(session, live)
    placed = [i for i in live if i.refused is None and i.place is not None]
    stored, ran = await bulk.insert_new(session, placed, savepoint=savepoint)
    if not ran:
        return False
    await bulk.settle_replays(session, placed, stored)
    created = [i for i in items if i.outcome == "created"]
    if created:
        await _write_created(session, created, stored)
    return True


async def store_one_by_one(
    session: AsyncSession, items: list[bulk.Item], *, max_vertices: int
) -> None:
    """The items not yet refused, each stored alone in a savepoint: a value PostgreSQL
    refuses (such as a NUL character) refuses that item only."""
    for item in items:
        if item.refused is not None:
            continue
        alone = bulk.Item(item.index, item.submission, item.given_id, item.caller, item.crs_param)
        try:
            async with session.begin_nested():
                ran = await store_together(session, items=[alone], max_vertices=max_vertices)
        except DBAPIError as exc:
            if not invalid_data(exc):
                raise
            ran = False
        item.outcome, item.refused = alone.outcome, alone.refused
        if not ran:
            item.outcome, item.refused = None, InvalidInput(INVALID_DATA_DETAIL)


async def _write_created(
    session: AsyncSession, created: list[bulk.Item], stored: dict[Any, Any]
) -> None:
    """History, audit and events of new incidents (their context came with the insert):
    history and audit one statement per caller among them, the events together."""
    by_caller: dict[Caller, list[bulk.Item]] = {}
    for item in created:
        by_caller.setdefault(item.caller, []).append(item)
    for caller, theirs in by_caller.items():
        categories = [(i.submission.id, i.submission.properties.category) for i in theirs]
        await write_history(
            session,
            entries=[
                (incident_id, {"status": {"to": Status.reported.value}, "category": category})
                for incident_id, category in categories
            ],
            caller=caller,
            action="created",
        )
        await record_many(
            session,
            caller=caller,
            action="incident.create",
            entity_type="incident",
            entries=[
                (str(i.submission.id), {"border": _border(i), "category": category})
                for i, (_, category) in zip(theirs, categories, strict=True)
            ],
        )
    await emit_events(
        session,
        "incident.created",
        [(i.submission.id, {}) for i in created],
        rows={
            i.submission.id: {**stored[i.submission.id]._mapping, "border": _border(i)}
            for i in created
        },
    )


def _border(item: bulk.Item) -> str:
    assert item.place is not None  # created items were placed
    return item.place.border


@dataclass
class BatchItemResult:
    index: int
    id: str | None
    result: Literal["created", "duplicate", "conflict", "invalid", "forbidden"]
    problem: dict[str, Any] | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        """Its member of the batch's answer (not dataclasses.asdict, which deep-copies)."""
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


def _result(item: bulk.Item) -> BatchItemResult:
    if item.refused is None:
        assert item.outcome is not None
        return BatchItemResult(item.index, str(item.submission.id), item.outcome)
    error = item.refused
    kind: Literal["conflict", "forbidden", "invalid"] = (
        "conflict"
        if isinstance(error, Conflict)
        else "forbidden"
        if isinstance(error, Forbidden)
        else "invalid"
    )
    return BatchItemResult(item.index, item.given_id, kind, _problem(error))


async def submit_batch_and_commit(
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
    """Every item checked and stored together; a bad item is reported and sinks nothing
    else. Results are returned only after the commit.

    A large batch is stored in `parts` at once, each a transaction on its own connection
    (the first the request's `session`, the others from `sessionmaker`): PostgreSQL places
    and writes a batch on one core, and the machine has more. Items with the same id fall
    in the same part, so a repeat inside the batch is still a duplicate. The answer waits
    for every part; should a part fail, the answer is an error though other parts are
    stored, and the client's retry finds those as duplicates."""
    require_role(caller, Role.reporter, Role.officer)
    invalid: list[BatchItemResult] = []
    items: list[bulk.Item] = []
    for index, raw in enumerate(features):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            submission = IncidentSubmission.model_validate(raw)
            items.append(bulk.Item(index, submission, str(raw_id), caller, crs_param))
        except ValidationError as exc:
            item_id = str(raw_id) if raw_id is not None else None
            invalid.append(BatchItemResult(index, item_id, "invalid", _validation_problem(exc)))
    split = max(1, min(parts, len(items) // part_min_items)) if sessionmaker else 1
    by_part: list[list[bulk.Item]] = [[] for _ in range(split)]
    for item in items:
        by_part[item.submission.id.int % split].append(item)

    async def own_session(part: list[bulk.Item]) -> None:
        assert sessionmaker is not None  # split > 1 only with one
        async with sessionmaker() as part_session:
            await _store_part_and_commit(part_session, part, max_vertices)

    done = await asyncio.gather(
        _store_part_and_commit(session, by_part[0], max_vertices),
        *[own_session(part) for part in by_part[1:]],
        return_exceptions=True,  # every part ends before the answer: none left midway
    )
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    results = invalid + [_result(item) for item in items]
    return sorted(results, key=lambda r: r.index)


async def _store_part_and_commit(
    session: AsyncSession, items: list[bulk.Item], max_vertices: int
) -> None:
    await store(session, items, max_vertices=max_vertices)
    await session.commit()
