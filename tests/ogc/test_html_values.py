"""The OGC HTML pages show values as a reader wants them (issue 26): no Python reprs,
rounded numbers, the layer's order, and where an item is."""

from __future__ import annotations

import html
import re

from app.ogc.html import shown, where
from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature


def test_values_read_as_words_not_python() -> None:
    assert shown(["jointly_agreed", "barbed_wire"]) == "jointly_agreed, barbed_wire"
    assert shown({"unit": None, "total": 12.3456, "zones": {"a": {"inside": True}}}) == (
        "total: 12.35; zones: a: inside: yes"
    )
    assert shown(False) == "no" and shown(None) == "" and shown(882677.4993189679) == "882677.5"
    assert shown(0.1 + 0.2) == "0.3" and shown(2.0) == "2"
    assert where({"type": "Point", "coordinates": [106.6973066, 21.9815609]}) == (
        "Point 106.697307, 21.981561"
    )
    line = where({"type": "LineString", "coordinates": [[106.1, 21.1], [106.2, 21.3]]})
    assert line == "LineString, 2 vertices, 106.10000, 21.10000 – 106.20000, 21.30000"


async def test_an_incident_page_reads_as_a_record(client, tokens: Tokens) -> None:
    created = await client.post(
        "/api/v1/incidents",
        json=feature(location="VN-CN:1089+120", tags=["barbed_wire"]),
        headers=bearer(tokens.officer),
    )
    assert created.status_code == 201, created.text
    ident = created.json()["id"]
    page = await client.get(
        f"/ogc/collections/incidents/items/{ident}",
        params={"f": "html"},
        headers=bearer(tokens.analyst),
    )
    assert page.status_code == 200
    text = html.unescape(page.text)
    for python in ("['", "{'", "None", "False", "True"):
        assert python not in text, python
    rows = re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", text)
    names = [name for name, _ in rows]
    assert names[0] == "title" and names.index("category") < names.index("border")
    values = dict(rows)
    assert values["tags"] == "barbed_wire"
    assert values["crosses_line"] == "no"
    lon, lat = created.json()["geometry"]["coordinates"]
    assert values["geometry"] == f"Point {lon:.6f}, {lat:.6f}"
    # Long numbers rounded: no float tail such as 882677.4993189679.
    assert not re.search(r"\d+\.\d{3,}", values["chainage_m"])
