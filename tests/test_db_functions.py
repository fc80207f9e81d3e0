"""docs/database-functions.md is the database's functions as a migrated database has
them: a migration that changes one without regenerating the page fails here."""

from __future__ import annotations

from pathlib import Path

from app.db_functions import definitions, page
from tests.conftest import Tokens

PAGE = Path(__file__).resolve().parents[1] / "docs" / "database-functions.md"


async def test_the_page_is_the_migrated_databases_functions(
    database: tuple[str, Tokens],
) -> None:
    found = await definitions(database[0].replace("postgresql+asyncpg://", "postgresql://"))
    names = {name for name, _, _ in found}
    # The ones the service calls by name are among them.
    assert {"bordermark_incident_properties", "bordermark_notify_tiles",
            "bordermark_compact_tallies"} <= names  # fmt: skip
    assert page(found) == PAGE.read_text(encoding="utf-8"), (
        "regenerate: .venv/bin/bordermark db functions > docs/database-functions.md"
    )
