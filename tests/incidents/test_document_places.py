"""A field report may give its place as the documents write it (issue 27)."""

from __future__ import annotations

import pytest

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("VN-CN:mốc 1088/2", "VN-CN:1088/2"),
        ("VN-CN:khu vực mốc 1090-1091", "VN-CN:1090-1091"),
        ("VN-CN:M1089+200", "VN-CN:1089+200"),
    ],
)
async def test_a_place_as_documents_write_it(
    client, tokens: Tokens, written: str, stored: str
) -> None:
    r = await client.post(
        "/api/v1/incidents", json=feature(location=written), headers=bearer(tokens.officer)
    )
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["location_ref"] == stored
