"""HEAD on GET resources: the GET's status and headers, no body; a streamed export is
stopped once its head is out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import Tokens, app_on, bearer, serving


@pytest.mark.parametrize(
    "path",
    [
        "/ogc",
        "/ogc/collections/markers/items?limit=5",
        "/api/v1/borders",
        "/tiles/markers/0/0/0.mvt",
        "/map",
        "/openapi.json",
    ],
)
async def test_head_answers_as_get_without_a_body(client, tokens: Tokens, path: str) -> None:
    got = await client.get(path, headers=bearer(tokens.analyst))
    head = await client.head(path, headers=bearer(tokens.analyst))
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if "content-length" in got.headers and "/items" not in path:  # items carry a timeStamp
        assert head.headers["content-length"] == got.headers["content-length"]


async def test_head_keeps_refusals(client, tokens: Tokens) -> None:
    assert (await client.head("/ogc/collections")).status_code == 401
    missing = await client.head("/ogc/collections/nowhere", headers=bearer(tokens.analyst))
    assert missing.status_code == 404 and missing.content == b""
    # A method the resource does not have is still refused.
    assert (await client.request("HEAD", "/api/v1/incidents:batch")).status_code in (401, 405)


async def test_head_of_an_export_answers_its_head(
    database: tuple[str, Tokens], tmp_path: Path
) -> None:
    """Served for real: the test client's shared connection cannot take a query cancelled
    half-way, as a stopped export's is."""
    token = database[1].admin
    async with (
        serving(app_on(database[0], tmp_path)) as base,
        httpx.AsyncClient(base_url=base, headers=bearer(token), timeout=60) as http,
    ):
        head = await http.head("/api/v1/exports/markers", params={"format": "kml"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == "application/vnd.google-earth.kml+xml"
        # The export's slot (one a token) is given back: the stream was stopped.
        for _ in range(50):
            again = await http.get("/api/v1/exports/markers", params={"format": "csv"})
            if again.status_code != 429:
                break
            await asyncio.sleep(0.1)
        assert again.status_code == 200
