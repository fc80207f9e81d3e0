"""approval places: a request for approval stands where its work would (the middle of its
stretch, or its marker), so that it is an OGC collection QGIS draws beside the incidents

One point per request, not the stretch: a QGIS layer has one geometry type.

Revision ID: e2b7d4a1c9f0
Revises: c4a8e2f6b1d3
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "e2b7d4a1c9f0"
down_revision: str | None = "c4a8e2f6b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "approval_requests",
        sa.Column(
            "geom",
            geoalchemy2.Geometry("POINT", 4326, spatial_index=False),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_approval_requests_geom", "approval_requests", ["geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_approval_requests_geom", "approval_requests")
    op.drop_column("approval_requests", "geom")
