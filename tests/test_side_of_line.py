"""bordermark_side_of_line (migration 3f0c9a7d5e21): the PL/pgSQL form answers what the SQL
form it replaced answered, on both sides of every border and on the line itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import text

MIGRATION = (
    Path(__file__).resolve().parent.parent
    / "app/migrations/versions/2026-12-06_side_of_line_plpgsql.py"
)


def _former_definition() -> str:
    spec = importlib.util.spec_from_file_location("side_of_line_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    former: str = module.SQL_WITH
    # The same body under another name, in this session's temporary schema.
    return former.replace("FUNCTION bordermark_side_of_line", "FUNCTION pg_temp.former_side")


async def test_the_plpgsql_form_answers_as_the_sql_form(db) -> None:
    current = (
        await db.execute(
            text("SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
                 "WHERE p.proname = 'bordermark_side_of_line'")
        )
    ).scalar_one()  # fmt: skip
    assert current == "plpgsql"
    await db.execute(text(_former_definition()))
    # Every marker, and points 50 m or so either way of it across and along the line, and
    # the line's own vertices (0: on it).
    rows = (
        await db.execute(
            text(
                """
                WITH probe AS (
                  SELECT b.geom AS line, ST_Translate(m.geom, dx, dy) AS pt
                  FROM markers m JOIN borders b ON b.id = m.border_id,
                       (VALUES (0, 0), (0.0005, 0), (-0.0005, 0), (0, 0.0005), (0, -0.0005))
                         AS d(dx, dy)
                  UNION ALL
                  SELECT b.geom, (ST_DumpPoints(b.geom)).geom FROM borders b
                )
                SELECT bordermark_side_of_line(line, pt) AS now,
                       pg_temp.former_side(line, pt) AS before
                FROM probe
                """
            )
        )
    ).all()
    assert len(rows) > 1000
    assert [r.now for r in rows] == [r.before for r in rows]
    assert {r.now for r in rows} == {-1, 0, 1}  # both sides and the line itself
