from __future__ import annotations

from datetime import date
from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import check_in


class AdminLevel(StrEnum):
    province = "province"
    district = "district"


class AdminUnit(Base):
    """A province or district for a period. Units change (the district level ended on
    1 Jul 2025), so a unit is valid on [valid_from, valid_to) and events are placed in
    the unit valid at their date."""

    __tablename__ = "admin_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_ascii: Mapped[str] = mapped_column(String(120), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=False), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        CheckConstraint(check_in("level", [lv.value for lv in AdminLevel]), name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        Index("ix_admin_units_geom", "geom", postgresql_using="gist"),
    )
