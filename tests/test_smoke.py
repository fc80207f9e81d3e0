from tests.conftest import Tokens, bearer


async def test_marker_feature(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/borders/VN-CN/markers/1088/2", headers=bearer(tokens.analyst))
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["code"] == "1088/2"
