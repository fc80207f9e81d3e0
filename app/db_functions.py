"""The database's own functions (`bordermark_*`, PL/pgSQL and SQL), as they stand after the
latest migration: the migrations define them, and a reader should not have to replay the
migrations to find the current text. `bordermark db functions` prints them as the page
docs/database-functions.md, and a test holds that page equal to a migrated database."""

from __future__ import annotations

import asyncpg

_DEFINITIONS = """
SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
       pg_get_functiondef(p.oid) AS definition
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.proname LIKE 'bordermark\\_%'
ORDER BY p.proname, args
"""


async def definitions(libpq_url: str) -> list[tuple[str, str, str]]:
    """(name, identity arguments, CREATE OR REPLACE text) of each function."""
    conn = await asyncpg.connect(libpq_url)
    try:
        rows = await conn.fetch(_DEFINITIONS)
    finally:
        await conn.close()
    return [(r["name"], r["args"], r["definition"].strip()) for r in rows]


def page(found: list[tuple[str, str, str]]) -> str:
    lines = [
        "# Database functions",
        "",
        "The `bordermark_*` functions as they stand after the latest migration, printed by",
        "`.venv/bin/bordermark db functions > docs/database-functions.md` (a test keeps this",
        "page equal to a migrated database: regenerate it with a migration that changes one).",
        "",
    ]
    for name, args, definition in found:
        lines += [f"## {name}({args})", "", "```sql", definition, "```", ""]
    return "\n".join(lines)
