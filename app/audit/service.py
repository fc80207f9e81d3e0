from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.caller import Caller


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
