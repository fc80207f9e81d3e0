from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.caller import Caller
from app.db import cached_text


def record(
    session: AsyncSession,
    *,
    caller: Caller,
    action: str,
    entity_type: str,
    entity_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the caller's transaction: it commits or rolls back with the write."""
    session.add(
        AuditEntry(
            actor_token_id=caller.token_id,
            actor_name=caller.name,
            actor_role=caller.role.value,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=detail or {},
            remote_addr=caller.remote_addr,
        )
    )


_RECORD_MANY_SQL = """
INSERT INTO audit_log (actor_token_id, actor_name, actor_role, action, entity_type,
                       entity_id, detail, remote_addr)
SELECT CAST(:token AS uuid), :name, :role, :action, :entity_type, e.entity_id,
       e.detail, :remote
FROM jsonb_to_recordset(CAST(:entries AS jsonb)) AS e(entity_id text, detail jsonb)
"""


async def record_many(
    session: AsyncSession,
    *,
    caller: Caller,
    action: str,
    entity_type: str,
    entries: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """One audit entry per (entity id, detail), in one statement (a batch of 500 writes
    500 entries without building 500 ORM objects). In the caller's transaction, as record."""
    if not entries:
        return
    await session.execute(
        cached_text(_RECORD_MANY_SQL),
        {
            "token": caller.token_id,
            "name": caller.name,
            "role": caller.role.value,
            "action": action,
            "entity_type": entity_type,
            "remote": caller.remote_addr,
            "entries": json.dumps(
                [{"entity_id": i, "detail": d} for i, d in entries], ensure_ascii=False
            ),
        },
    )
