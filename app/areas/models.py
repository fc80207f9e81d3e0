from __future__ import annotations

from datetime import date
from enum import StrEnum

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import check_in


class AdminLevel(StrEnum):
    province = "province"
    district = "district"  # huyện: none after 1 Jul 2025
    commune = "commune"  # xã, phường, thị trấn: below the district, then below the province
    # A Border Guard station (đồn Biên phòng): not local government, but a unit with an
    # area of the line it guards, which patrols and reporters act in.
    station = "station"


class AdminUnit(Base):
    """A province, district, commune or Border Guard station for a period. Units change
    (Cao Bằng merged districts on 1 Feb 2020, the district level ended on 1 Jul 2025 and
    communes merged that day), so a unit is valid on [valid_from, valid_to) and events are
    placed in the unit valid at their date. A unit kept across a change of shape (Trùng
    Khánh, which took in Trà Lĩnh) has one row per shape, under the same code."""

    __tablename__ = "admin_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_ascii: Mapped[str] = mapped_column(String(120), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    # The province of any unit below one (a commune's parent is its district until 2025).
    province_code: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=False), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    # The act that made or changed the unit (e.g. Nghị quyết 864/NQ-UBTVQH14).
    document: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        CheckConstraint(check_in("level", [lv.value for lv in AdminLevel]), name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        Index("ix_admin_units_geom", "geom", postgresql_using="gist"),
    )


class CounterpartLevel(StrEnum):
    province = "province"  # tỉnh of Laos, khu tự trị or tỉnh of China
    prefecture = "prefecture"  # Chinese prefecture-level city (Sùng Tả, Bách Sắc)
    county = "county"  # huyện, county or county-level city (Nà Po, Bằng Tường)


class CounterpartUnit(Base):
    """A unit across the line that talks and cross-border events involve: Quảng Tây and its
    cities and counties, the Lao provinces facing Hà Tĩnh. No area is kept (the service
    holds Vietnam's side); `facing` names the Vietnamese provinces it borders."""

    __tablename__ = "counterpart_units"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    level: Mapped[str] = mapped_column(String(12), nullable=False)
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_local: Mapped[str | None] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("counterpart_units.code")
    )
    facing: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), nullable=False, server_default="{}"
    )
    source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(check_in("level", [lv.value for lv in CounterpartLevel]), name="level"),
    )


class OfficialBorderLength(Base):
    """A province's length of a border as its own documents state it ("đường biên giới dài
    231,74km"), kept beside the modelled line's length, which differs (the demo's line is
    Natural Earth's)."""

    __tablename__ = "official_border_lengths"

    province_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    border_id: Mapped[int] = mapped_column(ForeignKey("borders.id"), primary_key=True)
    length_km: Mapped[float] = mapped_column(Numeric(9, 3), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (CheckConstraint("length_km > 0", name="positive"),)
