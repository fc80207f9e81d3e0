from __future__ import annotations

from datetime import date
from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.geo.marker_codes import MarkerKind
from app.timestamps import Timestamped, check_in


class MarkerCondition(StrEnum):
    intact = "intact"
    damaged = "damaged"
    displaced = "displaced"
    destroyed = "destroyed"
    at_risk = "at_risk"


class Marker(Timestamped, Base):
    __tablename__ = "markers"

    id: Mapped[int] = mapped_column(primary_key=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), nullable=False)
    code: Mapped[str] = mapped_column(String(20), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    aux_index: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    bank_index: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    geom = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=False)
    elevation_m: Mapped[float | None] = mapped_column(Float)
    condition: Mapped[str] = mapped_column(String(10), nullable=False, server_default="intact")
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # Where the marker projects onto its border line: fraction of the line and geodesic
    # metres from the line's start; and how far off the line it stands.
    line_fraction: Mapped[float] = mapped_column(Float, nullable=False)
    chainage_m: Mapped[float] = mapped_column(Float, nullable=False)
    offset_from_line_m: Mapped[float] = mapped_column(Float, nullable=False)
    province_code: Mapped[str | None] = mapped_column(String(40))
    illustrative: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        UniqueConstraint("border_id", "code"),
        UniqueConstraint("border_id", "number", "aux_index", "bank_index"),
        CheckConstraint(check_in("kind", [k.value for k in MarkerKind]), name="kind"),
        CheckConstraint(
            check_in("condition", [c.value for c in MarkerCondition]), name="condition"
        ),
        CheckConstraint("aux_index >= 0 AND bank_index BETWEEN 0 AND 3", name="code_parts"),
        Index("ix_markers_geog", text("(geom::geography)"), postgresql_using="gist"),
        Index("ix_markers_geom", "geom", postgresql_using="gist"),
        Index("ix_markers_border_id_chainage_m", "border_id", "chainage_m"),
    )
