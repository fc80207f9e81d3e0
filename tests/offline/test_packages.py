"""Offline packages read back with GDAL (pyogrio), as QGIS and QField would open them: the
unit's area and what lies in it, open incidents only, within the caller's scope."""

from __future__ import annotations

from pathlib import Path

import pyogrio

from tests.conftest import Tokens, bearer
from tests.incidents.helpers import feature


def _values(path: Path, layer: str, column: str) -> set[str]:
    info = pyogrio.read_info(path, layer=layer)
    _, _, _, fields = pyogrio.raw.read(path, layer=layer)
    return {str(v) for v in fields[list(info["fields"]).index(column)]}


async def test_a_stations_package_holds_its_area(client, tokens: Tokens, tmp_path: Path) -> None:
    officer = bearer(tokens.officer)
    open_one = await client.post(
        "/api/v1/incidents", json=feature(location="VN-CN:1090+100"), headers=officer
    )
    settled = await client.post(
        "/api/v1/incidents", json=feature(location="VN-CN:1091"), headers=officer
    )
    assert open_one.status_code == settled.status_code == 201
    r = await client.post(
        f"/api/v1/incidents/{settled.json()['id']}/transitions",
        json={"to": "dismissed", "reason": "not_a_violation"},
        headers=officer,
    )
    assert r.status_code == 200, r.text

    r = await client.get("/api/v1/offline/don-bp-tan-thanh.gpkg", headers=officer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "tan-thanh.gpkg"
    path.write_bytes(r.content)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"area", "zones", "segments", "border_lines", "markers", "crossings",
                      "incidents"}  # fmt: skip
    assert _values(path, "area", "code") == {"don-bp-tan-thanh"}
    markers = _values(path, "markers", "code")
    assert {"1088/2", "1090", "1098"} <= markers  # its stretch, 1060-1098
    assert "1010" not in markers and "1200" not in markers
    assert "tan-thanh" in _values(path, "crossings", "code")  # Tân Thanh – Pò Chài, 1090-1091
    incidents = _values(path, "incidents", "id")
    assert open_one.json()["id"] in incidents and settled.json()["id"] not in incidents
    assert "sightline_corridor" in _values(path, "zones", "code")
    assert pyogrio.read_info(path, layer="border_lines")["features"] == 1  # VN-CN only


async def test_a_package_is_for_the_province_that_holds_it(client, tokens: Tokens) -> None:
    r = await client.get(
        "/api/v1/offline/don-bp-tan-thanh.gpkg", headers=bearer(tokens.officer_other)
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/api/v1/offline/nowhere.gpkg", headers=bearer(tokens.analyst))
    assert r.status_code == 404
