from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.timestamps import check_in


class Role(StrEnum):
    admin = "admin"  # everything
    officer = "officer"  # province scope: edits markers and incidents in its province
    reporter = "reporter"  # a border-guard unit, district or station scope: reports there
    analyst = "analyst"  # read-only everywhere


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored: the token is 256 random bits, so a fast
    hash is enough (no password stretching needed) and lookup by hash is an index probe."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    province_code: Mapped[str | None] = mapped_column(String(40))
    district_code: Mapped[str | None] = mapped_column(String(40))
    # A reporter of a Border Guard station acts in the station's area (districts ended in
    # 2025; stations did not).
    station_code: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(check_in("role", [r.value for r in Role]), name="role"),
        # officers need a province; reporters a district or a station (and its province).
        CheckConstraint(
            "(role <> 'officer' OR province_code IS NOT NULL)"
            " AND (role <> 'reporter' OR district_code IS NOT NULL OR station_code IS NOT NULL)",
            name="scope",
        ),
    )
