"""A request's Host header never steers links or redirects outside development: with a
public base URL every link is built on it, with an allow-list another Host is refused, and
a production service with neither answers for its local names only."""

from __future__ import annotations

import json

from app.config import Environment
from tests.conftest import ClientWith, Tokens, bearer

EVIL = {"Host": "evil.example"}


def _hrefs(body: object) -> list[str]:
    found: list[str] = []
    text = json.dumps(body)
    for part in text.split('"href": "')[1:]:
        found.append(part.split('"', 1)[0])
    return found


async def test_a_public_base_url_builds_every_link_and_redirect(
    client_with: ClientWith, tokens: Tokens
) -> None:
    base = "https://bordermark.example.vn"
    async with client_with(public_base_url=base) as c:
        auth = {**bearer(tokens.analyst), **EVIL}
        redirect = await c.get("/ogc/api", params={"f": "html"}, headers=auth)
        assert redirect.status_code == 303
        assert redirect.headers["location"] == base + "/docs"
        landing = await c.get("/ogc", params={"f": "json"}, headers=auth)
        items = await c.get("/ogc/collections/markers/items", params={"limit": 2}, headers=auth)
        hrefs = _hrefs(landing.json()) + _hrefs(items.json())
        assert len(hrefs) > 5 and all(h.startswith(base + "/") for h in hrefs), hrefs


async def test_an_allow_list_refuses_other_hosts(client_with: ClientWith, tokens: Tokens) -> None:
    async with client_with(allowed_hosts=["maps.example.vn"]) as c:
        refused = await c.get(
            "/ogc/api", params={"f": "html"}, headers={**bearer(tokens.analyst), **EVIL}
        )
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert "evil.example" in refused.json()["detail"]
        assert "location" not in refused.headers
        allowed = await c.get(
            "/ogc",
            params={"f": "json"},
            headers={**bearer(tokens.analyst), "Host": "Maps.Example.VN:8443"},
        )
        assert allowed.status_code == 200
        assert all(
            h.lower().startswith("http://maps.example.vn:8443/") for h in _hrefs(allowed.json())
        )
        assert (await c.get("/healthz", headers=EVIL)).status_code == 200  # probes by address


async def test_production_without_either_answers_for_local_names_only(
    client_with: ClientWith, tokens: Tokens
) -> None:
    async with client_with(env=Environment.production) as c:
        refused = await c.get("/ogc", headers={**bearer(tokens.analyst), **EVIL})
        assert (
            refused.status_code == 400 and "BORDERMARK_PUBLIC_BASE_URL" in refused.json()["detail"]
        )
        local = await c.get("/ogc", headers={**bearer(tokens.analyst), "Host": "localhost:8000"})
        assert local.status_code == 200
