"""The service's own database login: a LOGIN role in `bordermark_app` (migration
8d2f4a6c1e90), which may read and write the data but not rewrite the audit log or the
incident history. Migrations run as the owner; the service should not."""

from __future__ import annotations

import re

import asyncpg

APP_ROLE = "bordermark_app"
LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


async def ensure_login(owner_url: str, name: str, password: str) -> bool:
    """Create the login `name` in the application role, or reset its password and
    membership; True when it was created. `owner_url` connects as the database owner."""
    if not LOGIN_NAME.match(name):
        raise ValueError(f"{name!r} is not a plain role name (a-z, 0-9, _)")
    if len(password) < 12:
        raise ValueError("the login's password must have at least 12 characters")
    conn = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction():
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
            # Utility statements take no parameters: PostgreSQL's format() quotes both.
            verb = "ALTER" if exists else "CREATE"
            statement = await conn.fetchval(
                f"SELECT format('{verb} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
                name,
                password,
            )
            await conn.execute(statement)
            await conn.execute(
                await conn.fetchval(f"SELECT format('GRANT {APP_ROLE} TO %I', $1::text)", name)
            )
        return not exists
    finally:
        await conn.close()
