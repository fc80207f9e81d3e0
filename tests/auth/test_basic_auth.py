"""HTTP Basic with the token as the password: the scheme QGIS 3.22, GDAL and browsers can
send. It must stand exactly where Bearer stands: same scope, same refusals, same audit."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import text

from tests.auth.test_access import SAMPLE_PATH_VALUES, _get_routes
from tests.conftest import Tokens, bearer


def basic(user: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


@pytest.mark.parametrize("path", _get_routes())
async def test_every_read_takes_basic_as_it_takes_bearer(client, tokens: Tokens, path: str) -> None:
    for placeholder, value in SAMPLE_PATH_VALUES.items():
        path = path.replace(placeholder, value)
    params = {"limit": 1} if path.endswith("/events") else {}  # a stream: read one and close
    by_bearer = await client.get(path, params=params, headers=bearer(tokens.analyst))
    by_basic = await client.get(path, params=params, headers=basic("qgis", tokens.analyst))
    assert by_bearer.status_code != 401
    assert by_basic.status_code == by_bearer.status_code, (path, by_basic.text)


async def test_basic_keeps_the_tokens_scope(client, tokens: Tokens) -> None:
    path = "/ogc/collections/incidents/items?limit=10000"
    for name in ("reporter", "officer_other", "admin"):
        token = tokens.of(name)
        a = (await client.get(path, headers=bearer(token))).json()
        b = (await client.get(path, headers=basic("anyone", token))).json()
        assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]], name
    everyone = (await client.get(path, headers=bearer(tokens.admin))).json()["features"]
    reporters = (await client.get(path, headers=basic("x", tokens.reporter))).json()["features"]
    assert 0 < len(reporters) < len(everyone)


async def test_basic_writes_are_audited_under_the_token(client, db, tokens: Tokens) -> None:
    r = await client.patch(
        "/api/v1/borders/VN-CN/markers/1089",
        json={"notes": "kiểm tra qua QGIS"},
        headers=basic("officer", tokens.officer),
    )
    assert r.status_code == 200, r.text
    actor = (
        await db.execute(text("SELECT actor_name FROM audit_log ORDER BY id DESC LIMIT 1"))
    ).scalar_one()
    assert actor == "test officer"


@pytest.mark.parametrize(
    "header",
    [
        basic("qgis", "bm_not-a-real-token"),
        basic("", ""),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    ],
)
async def test_bad_basic_credentials_are_refused(client, header: dict[str, str]) -> None:
    r = await client.get("/ogc/collections", headers=header)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert 'Basic realm="bordermark"' in r.headers["www-authenticate"]


async def test_token_alone_as_user_name(client, tokens: Tokens) -> None:
    """`curl -u TOKEN:` puts the token in the user name."""
    r = await client.get("/ogc/collections", headers=basic(tokens.analyst, ""))
    assert r.status_code == 200
