"""work kind tile notices: a change to clearing_work_kinds drops the segments' tiles

The segments layer colours the line by the age of its clearing, which counts only the
kinds that clear (`is_clearing`); the kinds table had no notice trigger, so a kind turned
into (or out of) clearing left cached tiles with the old colours
(tests/tiles/test_tile_cache.py::test_every_layer_is_dropped_by_a_write_to_what_it_draws).

Revision ID: a7f3c5e9d2b4
Revises: e2b7d4a1c9f0
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7f3c5e9d2b4"
down_revision: str | None = "e2b7d4a1c9f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER clearing_work_kinds_notify_tiles AFTER INSERT OR UPDATE OR DELETE "
        "OR TRUNCATE ON clearing_work_kinds FOR EACH STATEMENT "
        "EXECUTE FUNCTION bordermark_notify_tiles()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER clearing_work_kinds_notify_tiles ON clearing_work_kinds")
