from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import Timestamped


class Border(Timestamped, Base):
    """A land border as one ordered line. `measured_geom` is the same line with the
    geodesic distance from its start (metres) as M on every vertex, so chainage is
    `ST_InterpolatePoint` / `ST_LocateAlong` / `ST_LocateBetween` in ground metres."""

    __tablename__ = "borders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(5), unique=True, nullable=False)
    name_vi: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    left_country: Mapped[str] = mapped_column(String(2), nullable=False)
    right_country: Mapped[str] = mapped_column(String(2), nullable=False)
    orientation: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("LINESTRING", 4326, spatial_index=False), nullable=False)
    measured_geom = mapped_column(
        Geometry("LINESTRINGM", 4326, dimension=3, spatial_index=False), nullable=False
    )
    # The area on the line's left near it (see service.side_region): events are cut by it
    # into their parts on each side.
    left_region = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=False), nullable=False)
    length_m: Mapped[float] = mapped_column(Float, nullable=False)
    official_length_km: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(Text)
    accuracy: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_borders_geom", "geom", postgresql_using="gist"),)


class BorderPart(Base):
    """Pieces of a border line (ST_Subdivide) so proximity queries use a tight index;
    `measured_geom` is the piece with the whole line's geodesic metres as M, so chainage
    and side are read off the piece beside an event, not off the whole line."""

    __tablename__ = "border_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    border_id: Mapped[int] = mapped_column(
        ForeignKey("borders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    geom = mapped_column(Geometry("LINESTRING", 4326, spatial_index=False), nullable=False)
    measured_geom = mapped_column(
        Geometry("LINESTRINGM", 4326, dimension=3, spatial_index=False), nullable=False
    )

    __table_args__ = (
        Index("ix_border_parts_geog", text("(geom::geography)"), postgresql_using="gist"),
        # For the nearest pieces in degrees (KNN), before any geodesic distance.
        Index("ix_border_parts_geom", "geom", postgresql_using="gist"),
    )


class BorderZone(Base):
    """A named distance from the line and the article that sets it (kept as data)."""

    __tablename__ = "border_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    border_id: Mapped[int] = mapped_column(
        ForeignKey("borders.id", ondelete="CASCADE"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name_vi: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    distance_m: Mapped[float] = mapped_column(Float, nullable=False)
    article: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("border_id", "code"),)
