"""The incident lifecycle, as the provincial reports settle a case: reported -> verified ->
escalated (reported to the Ministry) or referred (to the Joint Committee's Vietnamese
section) -> in_negotiation (raised with the other side by note, call or talks) ->
resolved; or kept under watch (monitoring, "theo dõi, giám sát") from any open state.
Dismissed from any open state with a reason; a resolved incident can be reopened (back to
verified)."""

from __future__ import annotations

from app.errors import Conflict
from app.incidents.models import Status

_FOLLOWED = frozenset(
    {
        Status.escalated,
        Status.referred,
        Status.in_negotiation,
        Status.monitoring,
        Status.resolved,
        Status.dismissed,
    }
)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.reported: frozenset({Status.verified, Status.monitoring, Status.dismissed}),
    Status.verified: _FOLLOWED,
    Status.escalated: _FOLLOWED - {Status.escalated},
    Status.referred: _FOLLOWED - {Status.referred},
    Status.in_negotiation: _FOLLOWED - {Status.in_negotiation},
    Status.monitoring: _FOLLOWED - {Status.monitoring},
    Status.resolved: frozenset({Status.verified}),  # reopen
    Status.dismissed: frozenset(),
}


def allowed_next(current: Status) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[current])


def require_transition(source: Status, target: Status) -> None:
    """Conflict (409) naming the allowed next states when `target` cannot follow `source`."""
    if target not in TRANSITIONS[source]:
        allowed = allowed_next(source)
        raise Conflict(
            f"an incident {source.value} cannot become {target.value}; "
            f"allowed next: {', '.join(allowed) or 'none'}",
            extra={"current": source.value, "allowed": allowed},
        )
