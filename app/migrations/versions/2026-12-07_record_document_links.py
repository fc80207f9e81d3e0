"""record document links: a document may be cited by gates, inspections, repairs, surveys,
patrols and disputed areas, as by incidents, steps, approvals and works

Revision ID: c3f7b1d9e5a2
Revises: b8e4a2c6d9f1
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c3f7b1d9e5a2"
down_revision: str | None = "b8e4a2c6d9f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("approval", "clearing_work", "incident", "step")
AFTER = (*BEFORE, "crossing", "disputed_area", "inspection", "patrol", "repair", "survey")


def _targets(kinds: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_document_links_target_type"), "document_links", type_="check")
    listed = ", ".join(f"'{k}'" for k in sorted(kinds))
    op.create_check_constraint(
        op.f("ck_document_links_target_type"), "document_links", f"target_type IN ({listed})"
    )


def upgrade() -> None:
    _targets(AFTER)


def downgrade() -> None:
    listed = ", ".join(f"'{k}'" for k in AFTER if k not in BEFORE)
    op.execute(f"DELETE FROM document_links WHERE target_type IN ({listed})")  # noqa: S608
    _targets(BEFORE)
