from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.auth.models import Role


@dataclass(frozen=True)
class Caller:
    """Who is asking: loaded from the bearer token on every request."""

    token_id: uuid.UUID | None
    name: str
    role: Role
    province_code: str | None = None
    district_code: str | None = None
    station_code: str | None = None
    remote_addr: str | None = None
