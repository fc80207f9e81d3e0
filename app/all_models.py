"""Import every model so `Base.metadata` is complete (Alembic, tests)."""

from app.approvals.models import ApprovalRequest, ApprovalStage
from app.areas.models import AdminUnit, CounterpartUnit, OfficialBorderLength
from app.audit.models import AuditEntry
from app.auth.models import ApiToken
from app.borders.models import Border, BorderPart, BorderZone
from app.cases.models import BreachReview, IncidentStep
from app.clearing.models import (
    ClearingCompletion,
    ClearingWork,
    ClearingWorkIncident,
    ClearingWorkKind,
)
from app.crossings.models import Crossing, CrossingLink, CrossingStatusChange
from app.db import Base
from app.disputes.models import DisputedArea
from app.documents.models import Document, DocumentLink
from app.events.models import Event, WebhookDelivery, WebhookSubscription
from app.incidents.models import (
    Attachment,
    BreachRule,
    Incident,
    IncidentAttachment,
    IncidentCategory,
    IncidentFeature,
    IncidentHistory,
)
from app.inspections.models import MarkerInspection, MarkerRepair
from app.markers.models import Marker
from app.patrols.models import Patrol, PatrolIncident
from app.reports.models import incident_tallies, incident_tally_deltas
from app.segments.models import Segment
from app.surveys.models import Survey, SurveyArea

__all__ = [
    "AdminUnit",
    "ApiToken",
    "ApprovalRequest",
    "ApprovalStage",
    "Attachment",
    "AuditEntry",
    "Base",
    "Border",
    "BorderPart",
    "BorderZone",
    "BreachReview",
    "BreachRule",
    "ClearingCompletion",
    "ClearingWork",
    "ClearingWorkIncident",
    "ClearingWorkKind",
    "CounterpartUnit",
    "Crossing",
    "CrossingLink",
    "CrossingStatusChange",
    "DisputedArea",
    "Document",
    "DocumentLink",
    "Event",
    "Incident",
    "IncidentAttachment",
    "IncidentCategory",
    "IncidentFeature",
    "IncidentHistory",
    "IncidentStep",
    "Marker",
    "MarkerInspection",
    "MarkerRepair",
    "OfficialBorderLength",
    "Patrol",
    "PatrolIncident",
    "Segment",
    "Survey",
    "SurveyArea",
    "WebhookDelivery",
    "WebhookSubscription",
    "incident_tallies",
    "incident_tally_deltas",
]
