"""Errors that tell the user what to do: each of these once answered with something true
but useless (a character offset named as a field, "Input should be a valid dictionary",
a grammar error for a + the URL turned into a space, "no marker 1 on border XX")."""

from __future__ import annotations

from tests.conftest import Tokens, bearer


async def test_malformed_json_names_the_body_and_where(client, tokens: Tokens) -> None:
    r = await client.post(
        "/api/v1/incidents",
        content=b'{"type": "Feature", "properties": {',
        headers={**bearer(tokens.reporter), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "body"
    assert "not valid JSON" in error["message"] and "at character" in error["message"]
    assert "not valid JSON" in r.json()["detail"]


async def test_a_body_without_content_type_is_told_to_send_one(client, tokens: Tokens) -> None:
    r = await client.post(
        "/api/v1/incidents", content=b'{"type": "Feature"}', headers=bearer(tokens.reporter)
    )
    assert r.status_code == 422
    assert "Content-Type: application/json" in r.json()["errors"][0]["message"]
    assert "valid dictionary" not in r.text


async def test_an_unencoded_plus_in_a_chainage_gets_a_hint(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/chainage?border=VN-CN&ref=1248+470", headers=bearer(tokens.analyst)
    )
    assert r.status_code == 422
    assert "%2B" in r.text
    ok = await client.get(
        "/api/v1/chainage?border=VN-CN&ref=1248%2B470", headers=bearer(tokens.analyst)
    )
    assert ok.status_code == 200


async def test_an_unknown_border_is_named_as_such(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/borders/XX/markers/1", headers=bearer(tokens.analyst))
    assert r.status_code == 404
    assert r.json()["detail"].startswith("no border XX; borders: ")
    assert "VN-CN" in r.json()["detail"]
    missing = await client.get("/api/v1/borders/VN-CN/markers/9999", headers=bearer(tokens.analyst))
    assert missing.status_code == 404 and "no marker 9999 on border VN-CN" in missing.text
