"""Concurrent single submissions stored together, as PostgreSQL groups commits.

Each POST hands its submission to the coalescer and waits. The coalescer takes every
submission waiting when it is free (there is no timer: a submission that arrives alone
goes at once; while one group is being stored, the next gathers; under load, when the
last group held more than one, it first lets the event loop run `gather_rounds` rounds so
that requests already received, still being parsed, join this group), stores the group in
one transaction with the statements of a batch (intake.store_together: one INSERT
computes every context, one commit), and answers each request with its own outcome or
refusal. A
context statement costs about as much for eight incidents as for one, so under load the
per-incident cost falls with the group size.

Nothing is acknowledged before its group's commit. If the group's transaction fails, every
request in it fails with that error (a 503 while the database is away) and nothing of it
is stored; the clients' retries are safe (the ids make them idempotent). A value
PostgreSQL refuses sinks the group's shared INSERT: each of its submissions is then
stored alone, in a transaction of its own, so only the faulty one is refused. A request
whose client has gone is still stored (its retry will find it)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.caller import Caller
from app.auth.models import Role
from app.auth.scopes import require_role
from app.errors import DomainError
from app.incidents import bulk
from app.incidents.intake import SubmitOutcome, outcome_of, store_one_by_one, store_together
from app.incidents.schemas import IncidentSubmission
from app.operations.background import background


@dataclass
class _Waiting:
    caller: Caller
    submission: IncidentSubmission
    crs_param: str | None
    answer: asyncio.Future[SubmitOutcome]


@dataclass
class SubmissionCoalescer:
    sessionmaker: async_sessionmaker[AsyncSession]
    max_vertices: int
    max_group: int = 64
    # Rounds of the event loop a group waits for requests on their way (ten grew the
    # groups; more did no better). A round lasts as long as the callbacks ready then
    # (microseconds of request handling): never a fixed wait.
    gather_rounds: int = 10
    running: bool = False
    groups: int = 0  # transactions that stored submissions (/metrics)
    submissions: int = 0  # the submissions they took
    _queue: asyncio.Queue[_Waiting] = field(default_factory=asyncio.Queue)
    _current: list[_Waiting] = field(default_factory=list)

    async def submit(
        self, *, caller: Caller, submission: IncidentSubmission, crs_param: str | None
    ) -> SubmitOutcome:
        """Store one submission with whatever else is waiting; its outcome once committed."""
        require_role(caller, Role.reporter, Role.officer)
        answer: asyncio.Future[SubmitOutcome] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Waiting(caller, submission, crs_param, answer))
        # shield: a request cancelled now (its client left) does not cancel the answer the
        # coalescer will still set once the group is stored; nobody will read that answer.
        try:
            return await asyncio.shield(answer)
        except asyncio.CancelledError:
            answer.add_done_callback(_unread)
            raise

    async def run(self) -> None:
        self.running = True
        try:
            last_group = 1
            while True:
                self._current = [await self._queue.get()]
                if last_group > 1:  # under load: let the requests on their way join
                    for _ in range(self.gather_rounds):
                        await asyncio.sleep(0)
                while len(self._current) < self.max_group and not self._queue.empty():
                    self._current.append(self._queue.get_nowait())
                last_group = len(self._current)
                await self._store(self._current)
                self._current = []
        finally:
            # Stopped (shutting down): what was not answered was not stored, or not
            # acknowledged; the clients retry.
            self.running = False
            while not self._queue.empty():
                self._current.append(self._queue.get_nowait())
            for w in self._current:
                _answer_with_error(w, ConnectionAbortedError("the service is shutting down"))

    async def _store(self, group: list[_Waiting]) -> None:
        items = [
            bulk.Item(n, w.submission, str(w.submission.id), w.caller, w.crs_param)
            for n, w in enumerate(group)
        ]
        try:
            async with self.sessionmaker() as session:
                # No savepoint: if the shared insert fails, this transaction is dropped and
                # each submission is stored alone in one of its own (_store_alone).
                stored = await store_together(
                    session, items=items, max_vertices=self.max_vertices, savepoint=False
                )
                if stored:
                    await session.commit()
        except Exception as exc:  # the group's transaction failed: so does each request
            for w in group:
                _answer_with_error(w, exc)
            return
        self.groups += 1
        self.submissions += len(group)
        if not stored:
            for w, item in zip(group, items, strict=True):
                await self._store_alone(w, item)
            return
        for w, item in zip(group, items, strict=True):
            try:
                _answer(w, outcome_of(item))
            except DomainError as refused:
                _answer_with_error(w, refused)

    async def _store_alone(self, w: _Waiting, item: bulk.Item) -> None:
        try:
            async with self.sessionmaker() as session:
                await store_one_by_one(session, [item], max_vertices=self.max_vertices)
                await session.commit()
            outcome = outcome_of(item)
        except Exception as exc:
            _answer_with_error(w, exc)
            return
        _answer(w, outcome)


def _unread(answer: asyncio.Future[SubmitOutcome]) -> None:
    if not answer.cancelled():
        answer.exception()  # retrieved: asyncio need not report it as never read


def _answer(w: _Waiting, outcome: SubmitOutcome) -> None:
    if not w.answer.done():
        w.answer.set_result(outcome)


def _answer_with_error(w: _Waiting, exc: BaseException) -> None:
    if not w.answer.done():
        w.answer.set_exception(exc)


def coalescing(coalescer: SubmissionCoalescer) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """Run the coalescer for the application's lifetime."""
    return background(coalescer.run())
