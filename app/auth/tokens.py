"""Create, list, revoke and resolve bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.auth.models import ApiToken, Role
from app.auth.token_cache import TokenCache, TokenGrant
from app.db import fetch_row
from app.errors import InvalidInput, NotFound

TOKEN_PREFIX = "bm_"  # noqa: S105 - a marker for secret scanners, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown once, never stored


async def _unit_parent(session: AsyncSession, code: str, level: str) -> str | None:
    row = (
        await session.execute(
            text(
                "SELECT parent_code FROM admin_units WHERE code = :code AND level = :level LIMIT 1"
            ),
            {"code": code, "level": level},
        )
    ).first()
    if row is None:
        raise InvalidInput(f"unknown {level} {code!r}", field=level)
    return row[0]  # type: ignore[no-any-return]


async def _province_of(
    session: AsyncSession, level: str, code: str, province_code: str | None
) -> str | None:
    """The province of the district or station a token acts in, which must be the one the
    token names, if it names one."""
    parent = await _unit_parent(session, code, level)
    if province_code is not None and province_code != parent:
        raise InvalidInput(f"{level} {code} lies in {parent}, not {province_code}", field=level)
    return parent


async def create_token(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    province_code: str | None = None,
    district_code: str | None = None,
    station_code: str | None = None,
    expires_in_days: int | None = None,
) -> IssuedToken:
    """Issue a token; its scope must name real admin units. Commits."""
    if not name.strip():
        raise InvalidInput("a token needs a name", field="name")
    if district_code is not None and station_code is not None:
        raise InvalidInput("a token acts in a district or a station, not both", field="station")
    level, code = ("station", station_code) if station_code else ("district", district_code)
    if code is not None:
        province_code = await _province_of(session, level, code, province_code)
    elif province_code is not None:
        await _unit_parent(session, province_code, "province")
    if role is Role.officer and province_code is None:
        raise InvalidInput("an officer token needs --province", field="province")
    if role is Role.reporter and district_code is None and station_code is None:
        raise InvalidInput("a reporter token needs --district or --station", field="district")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        id=uuid.uuid4(),
        name=name.strip(),
        role=role.value,
        province_code=province_code,
        district_code=district_code,
        station_code=station_code,
        token_hash=hash_token(plaintext),
        token_prefix=plaintext[:10],
        expires_at=expires_at,
    )
    session.add(token)
    await session.commit()
    return IssuedToken(token, plaintext)


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    return list((await session.scalars(select(ApiToken).order_by(ApiToken.created_at))).all())


async def revoke_token(session: AsyncSession, *, token_id_or_prefix: str) -> ApiToken:
    """Revoke by id or by the displayed prefix (which must be unambiguous). Commits."""
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    try:
        query = query.where(ApiToken.id == uuid.UUID(token_id_or_prefix))
    except ValueError:
        query = query.where(ApiToken.token_prefix == token_id_or_prefix)
    found = list((await session.scalars(query)).all())
    if not found:
        raise NotFound(f"no active token {token_id_or_prefix!r}")
    if len(found) > 1:
        raise InvalidInput(f"{token_id_or_prefix!r} matches several tokens; use the id")
    found[0].revoked_at = datetime.now(UTC)
    await session.commit()
    return found[0]


async def find_token(session: AsyncSession, token_hash: str) -> TokenGrant | None:
    """The grant of a valid, unrevoked, unexpired token, by its hash; None otherwise.
    Looking up by hash means no secret is ever compared byte by byte in Python."""
    row = await fetch_row(
        session,
        "SELECT id, name, role, province_code, district_code, station_code, expires_at "
        "FROM api_tokens "
        "WHERE token_hash = :h AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR expires_at > now())",
        {"h": token_hash},
    )
    if row is None:
        return None
    caller = Caller(
        token_id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        province_code=row["province_code"],
        district_code=row["district_code"],
        station_code=row["station_code"],
    )
    return TokenGrant(caller, row["expires_at"])


async def resolve_token(
    session: AsyncSession,
    plaintext: str,
    *,
    remote_addr: str | None,
    cache: TokenCache | None = None,
) -> Caller | None:
    """The caller a valid token stands for (from `cache` when it holds it); None otherwise."""
    token_hash = hash_token(plaintext)
    grant = cache.get(token_hash) if cache is not None else None
    if grant is None:
        generation = cache.generation if cache is not None else 0
        grant = await find_token(session, token_hash)
        if grant is None:
            return None
        if cache is not None:
            cache.put(token_hash, grant, generation)
    return replace(grant.caller, remote_addr=remote_addr)
