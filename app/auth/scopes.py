"""Who may write what. Reads need any valid token; writes need a role and an area."""

from __future__ import annotations

from app.auth.caller import Caller
from app.auth.models import Role
from app.errors import Forbidden


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.role is Role.admin or caller.role in roles:
        return
    allowed = ", ".join(sorted({Role.admin, *roles}))
    raise Forbidden(f"role {caller.role} may not do this; it needs one of: {allowed}")


def require_province(caller: Caller, province_code: str | None, *, what: str) -> None:
    """Officers act in their own province only; admins everywhere."""
    if caller.role is Role.admin:
        return
    if province_code is None or caller.province_code != province_code:
        where = province_code or "no province on record"
        raise Forbidden(
            f"{what} lies in {where}, outside this token's scope ({caller.province_code})"
        )


def read_scope(caller: Caller) -> str | None:
    """The province a caller's reads are limited to (officers and reporters), or None for
    those who read every province (admins and analysts). A token without a province
    reads none: the empty string matches no province."""
    return None if caller.role in (Role.admin, Role.analyst) else caller.province_code or ""
