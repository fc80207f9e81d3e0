"""The incident lifecycle: reported -> verified -> escalated (to the Ministry) ->
in_negotiation (with the other side) -> resolved; dismissed from any open state with a
reason; a resolved incident can be reopened (back to verified)."""

from __future__ import annotations

from app.incidents.models import Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.reported: frozenset({Status.verified, Status.dismissed}),
    Status.verified: frozenset(
        {Status.escalated, Status.in_negotiation, Status.resolved, Status.dismissed}
    ),
    Status.escalated: frozenset({Status.in_negotiation, Status.resolved, Status.dismissed}),
    Status.in_negotiation: frozenset({Status.escalated, Status.resolved, Status.dismissed}),
    Status.resolved: frozenset({Status.verified}),  # reopen
    Status.dismissed: frozenset(),
}


def allowed_next(current: Status) -> list[str]:
    return sorted(s.value for s in TRANSITIONS[current])
