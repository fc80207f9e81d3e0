"""incident extent box: each incident's bounding box as a generated `box` column under an
SP-GiST index that includes the id, so a bbox page finds its keys in the index alone

The bbox page of `make bench` (1,000 of about 10,000 matches, a million incidents) spent
7.7 of its 12.3 ms finding its keys: the geometry index gives candidates, each read from
the heap (about 5,000 blocks: events arrive in time order, not place order) for its id.
From this index: an index-only scan, 3.6 ms for the 10,205 entries and 2 ms for the
top 1,001 by id (EXPLAIN ANALYZE).

PostgreSQL estimates `box && box` at a constant 0.5 % (geo_selfuncs' areasel), so it
cannot choose this index well by itself: for a country-wide bbox it would read every
entry and sort them (a third of a second) where the primary key's order, read until the
page is full, takes 12 ms. bordermark_few_match asks PostGIS's own estimate of the
geometry (`_postgis_selectivity`, from the statistics ANALYZE keeps), and the page uses
this index only where few match (app/ogc/router.py).

Adding the column rewrites the table (about 35 s for a million incidents, under an
exclusive lock); a write then costs the box and one SP-GiST entry more.

Revision ID: 8a4d2c6e0b19
Revises: 3f0c9a7d5e21
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8a4d2c6e0b19"
down_revision: str | None = "3f0c9a7d5e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Whether PostGIS expects at most `at_most` rows of `tbl` to overlap `env` on `col`. A
# table never analyzed has no statistics, and PostGIS then raises (internal_error); a
# PostGIS without this debugging function would raise undefined_function. Either way the
# answer is no, and the planner takes its own path as before.
FEW_MATCH_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_few_match(
  tbl regclass, col text, env geometry, at_most float8)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN _postgis_selectivity(tbl, col, env)
         * (SELECT greatest(c.reltuples, 0) FROM pg_class c WHERE c.oid = tbl) <= at_most;
EXCEPTION WHEN internal_error OR undefined_function THEN
  RETURN false;
END
$$
"""


def upgrade() -> None:
    # A stored generated column: PostgreSQL keeps it with every write of geom. (Written as
    # SQL: SQLAlchemy has no type for PostgreSQL's box.)
    op.execute(
        "ALTER TABLE incidents ADD COLUMN extent_box box GENERATED ALWAYS AS (box(geom)) STORED"
    )
    op.create_index(
        "ix_incidents_extent_box",
        "incidents",
        ["extent_box"],
        unique=False,
        postgresql_using="spgist",
        postgresql_include=["id"],
    )
    op.execute(FEW_MATCH_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION bordermark_few_match(regclass, text, geometry, float8)")
    op.drop_index("ix_incidents_extent_box", table_name="incidents")
    op.drop_column("incidents", "extent_box")
