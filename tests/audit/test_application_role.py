"""The service runs as a login in the `bordermark_app` role, and that role cannot rewrite
history: UPDATE, DELETE and TRUNCATE of the audit log and the incident history are refused
by PostgreSQL's privileges (the append-only triggers are a second wall for the owner)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.operations.roles import ensure_login
from tests.conftest import Tokens, app_on, bearer, serving
from tests.incidents.helpers import feature

LOGIN = "bordermark_web_test"


async def test_the_application_role_can_work_but_not_rewrite_history(
    scratch_url: str, tokens: Tokens, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # What `bordermark db login-role` does (docs/deploy.md), twice: it may be re-run.
    owner_url = scratch_url.replace("+asyncpg", "")
    await ensure_login(owner_url, LOGIN, "a-long-password-1")
    assert not await ensure_login(owner_url, LOGIN, "a-long-password-2")
    with pytest.raises(ValueError, match="plain role name"):
        await ensure_login(owner_url, "x; DROP TABLE incidents", "a-long-password-2")
    as_app = scratch_url.replace("://postgres@", f"://{LOGIN}:a-long-password-2@", 1)
    assert as_app != scratch_url

    # The whole write path works with the role's privileges: submit, then export (audited).
    app = app_on(as_app, tmp_path)
    incident_id = uuid.uuid4()
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        created = await http.post(
            "/api/v1/incidents",
            json=feature(incident_id=incident_id, location="VN-CN:1089"),
            headers={**bearer(tokens.officer), "X-Request-ID": "audit-test"},
        )
        assert created.status_code == 201, created.text
        exported = await http.get(
            "/api/v1/exports/incidents", params={"format": "csv"}, headers=bearer(tokens.analyst)
        )
        assert exported.status_code == 200

    engine = create_async_engine(as_app)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT action, actor_name, actor_role FROM audit_log "
                        "WHERE entity_id = :id OR action LIKE 'export%' ORDER BY id"
                    ),
                    {"id": str(incident_id)},
                )
            ).all()
        actions = [r.action for r in rows]
        assert any("create" in a for a in actions) and any("export" in a for a in actions)
        for statement in (
            "UPDATE audit_log SET actor_name = 'someone else'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "UPDATE incident_history SET note = 'rewritten'",
            "DELETE FROM incident_history",
        ):
            async with engine.connect() as conn:
                with pytest.raises(DBAPIError, match="permission denied"):
                    await conn.execute(text(statement))
    finally:
        await engine.dispose()
