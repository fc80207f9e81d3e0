"""The event feed as a caller may read it: where a stream starts, and the next events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import Role
from app.sql import Sql


@dataclass(frozen=True)
class Feed:
    """The events one caller reads: their province's (officers, reporters) or all, of
    the chosen types."""

    where: Sql

    @classmethod
    def of(cls, caller: Caller, types: list[str] | None) -> Feed:
        clauses: list[Sql] = []
        if caller.role not in (Role.admin, Role.analyst):
            province = caller.province_code
            clauses.append(Sql("province_code = :scope_province", {"scope_province": province}))
        if types:
            clauses.append(Sql("type = ANY(:types)", {"types": types}))
        return cls(Sql.all(clauses))

    async def start(self, session: AsyncSession, latest: int | None) -> int:
        """The event id a stream starts after: the newest (follow from now), or before
        the `latest` newest events this feed holds."""
        sql = (
            "SELECT coalesce((SELECT min(id) - 1 FROM (SELECT id FROM events "  # noqa: S608
            f"WHERE {self.where.text} ORDER BY id DESC LIMIT :latest) l), "
            "(SELECT max(id) FROM events), 0)"
            if latest is not None
            else "SELECT coalesce(max(id), 0) FROM events"
        )
        return int(
            (await session.execute(text(sql), self.where.bind(latest=latest).params)).scalar_one()
        )

    async def after(self, session: AsyncSession, cursor: int) -> list[Any]:
        """The next events (at most 100) after `cursor`: id, type, the event as JSON."""
        sql = (
            "SELECT id, type, json_build_object('id', id, 'type', type, "  # noqa: S608
            "'occurred_at', occurred_at, 'data', payload)::text FROM events "
            f"WHERE id > :after AND {self.where.text} ORDER BY id LIMIT 100"
        )
        bound = self.where.bind(after=cursor).params
        return list((await session.execute(text(sql), bound)).all())
