"""Column helpers shared by the domain models, and the offices' time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, func
from sqlalchemy.orm import Mapped, mapped_column

# The offices' local time: dates without a zone, days and months of reports are in it.
LOCAL_TIME_ZONE = "Asia/Ho_Chi_Minh"
LOCAL = ZoneInfo(LOCAL_TIME_ZONE)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def check_in(column: str, values: list[str]) -> str:
    """SQL text of a CHECK that `column` is one of `values` (fixed vocabularies kept in code)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def local_today() -> date:
    """Today in Vietnam: the day a unit's validity and a report's 'as of' are read on."""
    return datetime.now(LOCAL).date()
