"""The access matrix: role x scope x write endpoint, and reads that need a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.auth.models import Role
from app.auth.tokens import create_token, revoke_token
from app.main import create_app
from tests.conftest import Tokens, bearer

CALLERS = ["none", "bad", "admin", "officer", "officer_other", "reporter", "analyst"]


def _headers(tokens: Tokens, caller: str) -> dict[str, str]:
    if caller == "none":
        return {}
    if caller == "bad":
        return bearer("bm_not-a-real-token")
    return bearer(tokens.of(caller))


async def _midpoint(client, tokens: Tokens, a: str, b: str) -> list[float]:
    pa = (
        await client.get(f"/api/v1/borders/VN-CN/markers/{a}", headers=bearer(tokens.admin))
    ).json()
    pb = (
        await client.get(f"/api/v1/borders/VN-CN/markers/{b}", headers=bearer(tokens.admin))
    ).json()
    (x1, y1), (x2, y2) = pa["geometry"]["coordinates"], pb["geometry"]["coordinates"]
    return [(x1 + x2) / 2, (y1 + y2) / 2]


async def _audit_count(db) -> int:  # type: ignore[no-untyped-def]
    return int((await db.execute(text("SELECT count(*) FROM audit_log"))).scalar_one())


# expected status per caller:
# (create in Lạng Sơn, edit in Lạng Sơn, edit in Cao Bằng, zone, segment override)
MATRIX = {
    "none": (401, 401, 401, 401, 401),
    "bad": (401, 401, 401, 401, 401),
    "admin": (201, 200, 200, 200, 200),
    "officer": (201, 200, 403, 403, 403),
    "officer_other": (403, 403, 200, 403, 403),
    "reporter": (403, 403, 403, 403, 403),
    "analyst": (403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("caller", CALLERS)
async def test_write_matrix(client, db, tokens: Tokens, caller: str) -> None:
    headers = _headers(tokens, caller)
    expected = MATRIX[caller]
    point = await _midpoint(client, tokens, "1089", "1090")
    # A VN-LA segment: the VN-CN marker created below rebuilds (renumbers) VN-CN's segments.
    segment_id = (
        await db.execute(
            text(
                "SELECT s.id FROM segments s JOIN borders b ON b.id = s.border_id WHERE b.code = 'VN-LA' LIMIT 1"
            )
        )
    ).scalar_one()
    calls = [
        (
            "POST",
            "/api/v1/markers",
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": point},
                "properties": {"border": "VN-CN", "code": "1089/1"},
            },
        ),
        ("PATCH", "/api/v1/borders/VN-CN/markers/1089", {"condition": "damaged"}),
        ("PATCH", "/api/v1/borders/VN-CN/markers/836(2)", {"notes": "kiểm tra định kỳ"}),
        ("PUT", "/api/v1/borders/VN-CN/zones/no_new_structures_30m", {"distance_m": 35}),
        ("PATCH", f"/api/v1/segments/{segment_id}", {"sightline_width_m": 15}),
    ]
    for (method, path, body), status in zip(calls, expected, strict=True):
        before = await _audit_count(db)
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (caller, method, path, r.text)
        assert r.headers["content-type"].startswith(
            "application/problem+json" if status >= 400 else "application/geo+json"
        )
        if status == 401:
            challenge = r.headers["www-authenticate"]
            # A bad Bearer token is told so; a request with none is offered both schemes.
            assert challenge.startswith('Bearer realm="bordermark"')
            assert ("Basic realm" in challenge) is (caller == "none"), challenge
        # Every accepted write is audited; every refused one leaves no trace.
        assert await _audit_count(db) == before + (1 if status < 400 else 0)


async def test_refused_writes_change_nothing(client, db, tokens: Tokens) -> None:
    r = await client.patch(
        "/api/v1/borders/VN-CN/markers/1089",
        json={"condition": "destroyed"},
        headers=bearer(tokens.officer_other),
    )
    assert r.status_code == 403
    condition = (
        await db.execute(text("SELECT condition FROM markers WHERE code = '1089'"))
    ).scalar_one()
    assert condition == "intact"


def _get_routes() -> list[str]:
    """Every GET of the API, from the app's own OpenAPI document: a new endpoint is covered
    without anyone remembering to add it here."""
    paths = create_app().openapi()["paths"]
    found = [
        p for p, ops in paths.items() if p.startswith(("/api/", "/ogc", "/tiles")) and "get" in ops
    ]
    assert len(found) >= 7
    return found


SAMPLE_PATH_VALUES = {
    "{border}": "VN-CN",
    "{code}": "1089",
    "{zone}": "sightline_corridor",
    "{incident_id}": "5b0c7a1e-0000-4000-8000-00000000abcd",
    "{work_id}": "5b0c7a1e-0000-4000-8000-00000000abce",
    "{sub_id}": "5b0c7a1e-0000-4000-8000-00000000abcf",
    "{collection_id}": "markers",
    "{feature_id}": "1",
    "{layer}": "markers",
    "{z}": "1",
    "{x}": "0",
    "{y}": "0",
    "{sha256}": "0" * 64,
    "{province}": "lang-son",
    "{unit_code}": "lang-son",
    "{counterpart}": "quang-tay",
    "{year}": "2020",
    "{request_id}": "5b0c7a1e-0000-4000-8000-00000000abd0",
    "{document_id}": "5b0c7a1e-0000-4000-8000-00000000abd1",
    "{crossing_id}": "1",
    "{survey_id}": "1",
    "{area_id}": "1",
}


@pytest.mark.parametrize("path", _get_routes())
async def test_every_read_needs_a_token(client, tokens: Tokens, path: str) -> None:
    for placeholder, value in SAMPLE_PATH_VALUES.items():
        path = path.replace(placeholder, value)
    assert "{" not in path, f"add a sample value for {path}"
    r = await client.get(path)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_healthz_needs_no_token(client) -> None:
    assert (await client.get("/healthz")).status_code == 200


async def test_readyz_reports_the_database(client) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}


async def test_revoked_token_stops_working_at_once(client, db) -> None:
    issued = await create_token(db, name="short-lived", role=Role.analyst)
    ok = await client.get("/api/v1/borders", headers=bearer(issued.plaintext))
    assert ok.status_code == 200
    await revoke_token(db, token_id_or_prefix=str(issued.token.id))
    refused = await client.get("/api/v1/borders", headers=bearer(issued.plaintext))
    assert refused.status_code == 401


async def test_expired_token_is_refused(client, db) -> None:
    issued = await create_token(db, name="expired", role=Role.analyst, expires_in_days=1)
    await db.execute(
        text("UPDATE api_tokens SET expires_at = :t WHERE id = :id"),
        {"t": datetime.now(UTC) - timedelta(minutes=1), "id": issued.token.id},
    )
    r = await client.get("/api/v1/borders", headers=bearer(issued.plaintext))
    assert r.status_code == 401


async def test_tokens_are_stored_hashed(db, tokens: Tokens) -> None:
    stored = (await db.execute(text("SELECT token_hash, token_prefix FROM api_tokens"))).all()
    assert stored
    for token_hash, prefix in stored:
        assert len(token_hash) == 64 and tokens.admin != token_hash
        assert len(prefix) == 10
    assert not any(tokens.admin == h for h, _ in stored)


@pytest.mark.parametrize(
    ("role", "province", "district", "message"),
    [
        (Role.officer, None, None, "needs --province"),
        (Role.reporter, "lang-son", None, "needs --district"),
        (Role.officer, "atlantis", None, "unknown province"),
        (Role.reporter, "cao-bang", "van-lang", "lies in lang-son"),
    ],
)
async def test_token_scopes_must_be_real_units(
    db, role: Role, province, district, message: str
) -> None:  # type: ignore[no-untyped-def]
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        await create_token(db, name="x", role=role, province_code=province, district_code=district)


async def test_reporter_scope_takes_the_district_province(db) -> None:
    issued = await create_token(db, name="Đồn BP", role=Role.reporter, district_code="van-lang")
    assert issued.token.province_code == "lang-son"
