"""The desktop clients, for real: QGIS 3.22 (Debian's PyQGIS, headless) adds every OGC
collection and the vector-tile layers with a stock Basic authentication configuration;
GDAL's ogr2ogr copies the whole service with its defaults. Their answers are checked
against the service's own (the domain API and count=true), not against fixed numbers."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.layers import LAYERS
from tests.conftest import Tokens, app_on, bearer, serving

PROBE = Path(__file__).with_name("qgis_probe.py")
TILE_LAYERS = ["markers", "segments", "incidents"]


# The limits a deployment ships with (the suite turns them off elsewhere): stock clients
# must work within them.
SHIPPED_LIMITS = {
    name: Settings.model_fields[name].default
    for name in ("rate_limit_per_s", "rate_limit_burst", "rate_limit_max_delay_s",
                 "auth_failures_per_minute")
}  # fmt: skip


@pytest.fixture(scope="module")
async def served(database: tuple[str, Tokens], tmp_path_factory) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    app = app_on(database[0], tmp_path_factory.mktemp("served"), **SHIPPED_LIMITS)
    async with serving(app) as base:
        yield base


async def _matched(base: str, token: str) -> dict[str, int]:
    """Each collection's size as the token sees it, by count=true."""
    sizes = {}
    async with httpx.AsyncClient(base_url=base, headers=bearer(token), timeout=60) as c:
        for name in LAYERS:
            r = await c.get(f"/ogc/collections/{name}/items", params={"limit": 1, "count": "true"})
            sizes[name] = r.json()["numberMatched"]
    return sizes


async def _qgis(base: str, token: str, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    profile, pngs = tmp_path / "profile", tmp_path / "png"
    profile.mkdir()
    pngs.mkdir()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CACHE_HOME": str(profile / "cache"),  # QGIS's tile cache: none from other runs
        "PROBE_COLLECTIONS": json.dumps(list(LAYERS)),
        "PROBE_TILE_LAYERS": json.dumps(TILE_LAYERS),
    }
    # Debian's interpreter: the qgis module is not in the project's virtualenv.
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/python3", str(PROBE), base, token, str(profile), str(pngs),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=600)
    assert proc.returncode == 0, err.decode()[-3000:]
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


async def test_qgis_adds_every_layer_with_basic_authentication(
    served: str, tokens: Tokens, tmp_path: Path
) -> None:
    report = await _qgis(served, tokens.reporter, tmp_path)
    sizes = await _matched(served, tokens.reporter)
    for name, entry in report["collections"].items():
        assert entry["valid"], (name, entry)
        # QGIS shows the right count at once, and gets every feature in the token's scope.
        assert entry["feature_count"] == sizes[name], (name, entry, sizes[name])
        assert entry["iterated"] == sizes[name], (name, entry)
        if sizes[name] and name != "incidents":  # the mixed one, for GDAL and scripts
            # One geometry type a layer: nothing of another type goes undrawn.
            assert len(entry["geometry_types"]) == 1, (name, entry)
    incidents = report["collections"]["incidents"]
    by_type = [
        report["collections"][f"incidents-{k}"]["iterated"] for k in ("points", "lines", "areas")
    ]
    # The typed layers together draw every incident the reporter may see, and the demo's
    # lines among them (the mixed layer alone is typed by its first features).
    assert sum(by_type) == incidents["iterated"] > 0
    assert report["collections"]["incidents-lines"]["wkb_type"] == "LineString"
    assert by_type[1] > 0
    for name in TILE_LAYERS:
        tile = report["tiles"][name]
        assert tile["valid"] and not tile["errors"], tile
        assert tile["drawn_pixels"] > 0, (name, tile)


async def test_qgis_draws_nothing_with_a_wrong_token(served: str, tmp_path: Path) -> None:
    """The drawing above is the token's doing: with a wrong one, no layer loads and no
    tile is drawn."""
    report = await _qgis(served, "bm_not-a-token", tmp_path)
    assert not any(e["valid"] for e in report["collections"].values())
    assert all(t.get("drawn_pixels", 0) == 0 for t in report["tiles"].values()), report["tiles"]


async def test_gdal_copies_the_whole_service_with_its_defaults(
    served: str, tokens: Tokens, tmp_path: Path
) -> None:
    """`ogr2ogr -f GPKG all.gpkg OAPIF:.../ogc`: GDAL 3.6 pages at limit=10, some 450
    requests in a few seconds, over the token's rate. It must be slowed, not refused."""
    out = tmp_path / "all.gpkg"
    env = {**os.environ, "GDAL_HTTP_USERPWD": f"gdal:{tokens.analyst}"}
    proc = await asyncio.create_subprocess_exec(
        "ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{served}/ogc",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=600)
    assert proc.returncode == 0, err.decode()[-3000:]
    sizes = await _matched(served, tokens.analyst)
    with sqlite3.connect(out) as gpkg:
        copied = {
            name: gpkg.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for (name,) in gpkg.execute("SELECT table_name FROM gpkg_contents")
        }
    assert copied == sizes
