"""Import every model so `Base.metadata` is complete (Alembic, tests)."""

from app.areas.models import AdminUnit
from app.audit.models import AuditEntry
from app.auth.models import ApiToken
from app.borders.models import Border, BorderPart, BorderZone
from app.db import Base
from app.markers.models import Marker
from app.segments.models import Segment

__all__ = [
    "AdminUnit",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Border",
    "BorderPart",
    "BorderZone",
    "Marker",
    "Segment",
]
