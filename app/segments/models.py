from __future__ import annotations

from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import check_in


class SegmentKind(StrEnum):
    land = "land"
    river = "river"


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    border_id: Mapped[int] = mapped_column(
        ForeignKey("borders.id", ondelete="CASCADE"), nullable=False
    )
    from_marker_id: Mapped[int] = mapped_column(
        ForeignKey("markers.id", ondelete="CASCADE"), nullable=False
    )
    to_marker_id: Mapped[int] = mapped_column(
        ForeignKey("markers.id", ondelete="CASCADE"), nullable=False
    )
    start_m: Mapped[float] = mapped_column(Float, nullable=False)
    end_m: Mapped[float] = mapped_column(Float, nullable=False)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)
    kind: Mapped[str] = mapped_column(String(5), nullable=False)
    # Overrides the border's sightline corridor width on this stretch (DOMAIN.md).
    sightline_width_m: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("LINESTRING", 4326, spatial_index=False), nullable=False)

    __table_args__ = (
        UniqueConstraint("border_id", "from_marker_id"),
        CheckConstraint(check_in("kind", [k.value for k in SegmentKind]), name="kind"),
        CheckConstraint("end_m >= start_m", name="forward"),
        Index("ix_segments_geom", "geom", postgresql_using="gist"),
        Index("ix_segments_border_id_start_m", "border_id", "start_m"),
    )
