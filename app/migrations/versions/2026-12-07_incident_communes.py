"""incident communes: each incident's commune valid on its day, in its feature, and the
summary's unit after 1 Jul 2025 (no districts then) its commune before its province

Incidents stored before this migration keep a null commune until their context is computed
again (`bordermark recompute-context`).

Revision ID: d2f6b8a4c1e7
Revises: c9e3a7f1d5b8
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2f6b8a4c1e7"
down_revision: str | None = "c9e3a7f1d5b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The feature's properties gain `commune` (last, so the stored text of the others keeps its
# order, as `nature` did in migration c4a8e2f6b1d3, whose function this is plus the member).
PROPERTIES_FUNCTION = """
CREATE OR REPLACE FUNCTION bordermark_incident_properties(i incidents, border_code text)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT to_json(ROW(
  border_code, i.category, i.title, i.description, i.occurred_at, i.severity, i.status,
  i.reported_by, i.tags, i.location_ref, i.nearest_marker_code,
  round(i.nearest_marker_distance_m::numeric, 1), i.chainage_ref,
  round(i.chainage_m::numeric, 1), round(i.distance_to_line_m::numeric, 1), i.side,
  i.crosses_line, i.province_code, i.district_code, i.district_codes, i.zones,
  i.zone_measures, i.breaches, i.dismissal_reason, i.duplicate_of, i.resolved_at,
  i.version, i.created_at, i.updated_at, i.nature, i.commune_code
)::bordermark_incident_properties_row)
$$
"""
OLD_PROPERTIES_FUNCTION = PROPERTIES_FUNCTION.replace(", i.commune_code\n", "\n")

# The tallies' reporting unit, in their trigger and rebuild functions (migration
# 3e7a9c2b5d14). The functions are rewritten where they stand, from their own definition,
# rather than copied here whole: one change, not a second copy of forty lines.
OLD_UNIT = "coalesce(s.district_code, s.province_code, 'unassigned')"
NEW_UNIT = "coalesce(s.district_code, s.commune_code, s.province_code, 'unassigned')"
TALLY_FUNCTIONS = ("bordermark_tally_incidents", "bordermark_rebuild_tallies")


def _rewrite(function: str, old: str, new: str) -> None:
    op.execute(
        f"""
        DO $$
        DECLARE src text := pg_get_functiondef('{function}'::regproc);
        BEGIN
          IF position('{old.replace("'", "''")}' IN src) = 0 THEN
            RAISE EXCEPTION '{function} does not hold the unit expected';
          END IF;
          EXECUTE replace(src, '{old.replace("'", "''")}', '{new.replace("'", "''")}');
        END $$
        """
    )


def upgrade() -> None:
    op.add_column("incidents", sa.Column("commune_code", sa.String(40), nullable=True))
    op.execute("ALTER TYPE bordermark_incident_properties_row ADD ATTRIBUTE commune text")
    op.execute(PROPERTIES_FUNCTION)
    for function in TALLY_FUNCTIONS:
        _rewrite(function, OLD_UNIT, NEW_UNIT)
    op.execute("SELECT bordermark_rebuild_incident_features()")


def downgrade() -> None:
    for function in TALLY_FUNCTIONS:
        _rewrite(function, NEW_UNIT, OLD_UNIT)
    # The type first: the old function's body casts to the type with one member fewer.
    op.execute("ALTER TYPE bordermark_incident_properties_row DROP ATTRIBUTE commune")
    op.execute(OLD_PROPERTIES_FUNCTION)
    op.drop_column("incidents", "commune_code")
    op.execute("SELECT bordermark_rebuild_incident_features()")
    op.execute("SELECT bordermark_rebuild_tallies()")
