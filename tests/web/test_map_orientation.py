"""Issue 26, orientation and legibility, in headless Chromium against a served app: both
sides shaded and named, provinces, districts and gates named, no label over another, and
a palette that colour-blind officers can read (its colours read back from the running
map, judged with colorspacious's simulation of the three colour blindnesses)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import numpy as np
from colorspacious import cspace_convert
from playwright.async_api import Browser, Page

from tests.conftest import Tokens
from tests.incidents.helpers import off_line
from tests.web.test_map_page import _evaluate, _signed_in, _then_idle

LABELS = """[...document.querySelectorAll('.place-label, .marker-label')].map(n => {
  const r = n.getBoundingClientRect();
  return {kind: n.className.split(' ')[1] || 'marker', text: n.textContent,
          box: [r.left, r.top, r.right, r.bottom]}; })"""


async def _labels(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await _evaluate(page, LABELS)
    return found


async def _country_at(page: Page, lon: float, lat: float) -> dict[str, Any]:
    found: list[dict[str, Any]] = await _evaluate(
        page,
        f"""(() => {{ const m = window.bordermark.map;
              return m.queryRenderedFeatures(m.project([{lon}, {lat}]), {{layers: ['countries-fill']}})
                .map(f => ({{code: f.properties.code,
                             fill: JSON.stringify(f.layer.paint['fill-color'])}})); }})()""",
    )
    assert len(found) == 1, found
    return found[0]


async def test_both_sides_are_shaded_and_named(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    await _then_idle(page, "window.bordermark.map.jumpTo({center: [105.2, 21.6], zoom: 6})")
    # Points well inside each country (Hà Nội, Nanning, Luang Prabang): each is in the
    # country it should be, and Vietnam's shade differs from its neighbours'.
    hanoi = await _country_at(page, 105.85, 21.03)
    nanning = await _country_at(page, 108.37, 22.82)
    luang_prabang = await _country_at(page, 102.13, 19.89)
    assert (hanoi["code"], nanning["code"], luang_prabang["code"]) == ("VN", "CN", "LA")
    assert hanoi["fill"] != nanning["fill"] == luang_prabang["fill"]
    names = {label["text"] for label in await _labels(page) if label["kind"] == "country"}
    assert {"Việt Nam", "Trung Quốc", "Lào"} <= names
    # Close up, the shading's edge is the service's line: 300 m either side of the line at
    # Hữu Nghị lies in the country of that side.
    async with httpx.AsyncClient(base_url=base) as api:
        sides = {
            side: await off_line(api, tokens.analyst, "1089+100", 300, side)
            for side in ("VN", "CN")
        }
    await _then_idle(
        page, f"window.bordermark.map.jumpTo({{center: {list(sides['VN'])}, zoom: 14}})"
    )
    for side, (lon, lat) in sides.items():
        assert (await _country_at(page, lon, lat))["code"] == side


async def test_provinces_districts_and_gates_are_named_without_overlap(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    async with httpx.AsyncClient(base_url=base, auth=("map", tokens.analyst)) as api:
        units = (await api.get("/api/v1/units", params={"on": "2025-06-30"})).json()["units"]
        gates = (await api.get("/api/v1/crossings")).json()
    unit_names = {(u["level"], u["name_vi"]) for u in units}
    gate_names = {g["properties"]["name"] for g in gates["features"]}
    seen: dict[str, set[str]] = {}
    for zoom, centre in ((8, (106.6, 22.1)), (10, (106.75, 21.95)), (11, (106.69, 22.0)),
                         (13, (106.72, 21.97))):  # fmt: skip
        await _then_idle(
            page, f"window.bordermark.map.jumpTo({{center: {list(centre)}, zoom: {zoom}}})"
        )
        labels = await _labels(page)
        for a, b in itertools.combinations(labels, 2):
            apart = (
                a["box"][2] <= b["box"][0] or b["box"][2] <= a["box"][0]
                or a["box"][3] <= b["box"][1] or b["box"][3] <= a["box"][1]
            )  # fmt: skip
            assert apart, f"at zoom {zoom}: {a} over {b}"
        for label in labels:
            seen.setdefault(label["kind"], set()).add(label["text"])
    # Every unit name shown is a unit of that level on the map's day; every gate a gate.
    for level in ("province", "district", "commune"):
        assert {(level, name) for name in seen.get(level, set())} <= unit_names, level
    assert "Lạng Sơn" in seen["province"] and {"Cao Lộc", "Văn Lãng"} <= seen["district"]
    assert seen["gate"] and seen["gate"] <= gate_names


KINDS = ("normal", "deuteranomaly", "protanomaly", "tritanomaly")
LEAST_APART = 8.0  # CAM02-UCS: below this two small symbols are taken for one another


def _seen_as(hex_colour: str) -> list[np.ndarray]:
    """A colour in CAM02-UCS as seen with normal vision and each full colour blindness."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    seen = []
    for kind in KINDS:
        shown = rgb if kind == "normal" else np.clip(
            cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100},
                           "sRGB1"), 0, 1)  # fmt: skip
        seen.append(cspace_convert(shown, "sRGB1", "CAM02-UCS"))
    return seen


def _closest(colours: dict[str, str]) -> tuple[float, str, str, str]:
    seen = {name: _seen_as(colour) for name, colour in colours.items()}
    return min(
        (float(np.linalg.norm(seen[a][k] - seen[b][k])), KINDS[k], a, b)
        for a, b in itertools.combinations(seen, 2)
        for k in range(len(KINDS))
    )


def _outputs(expression: list[Any]) -> list[str]:
    """The colours a match or case expression can give (its outputs and fallback)."""
    if expression[0] == "match":
        return [*expression[3:-1:2], expression[-1]]
    return [*expression[2:-1:2], expression[-1]]


async def test_the_palette_reads_apart_for_colour_blind_officers(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    """Every incident category apart from every other and from the line's clearing ages
    (the fence's red was the 'never cleared' red); the markers' conditions apart from one
    another and from the line they stand on: for normal vision and the three colour
    blindnesses. With the palette before issue 26 the closest pair was 2.5 apart."""
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)

    async def paint(layer: str, prop: str) -> list[Any]:
        value: list[Any] = await _evaluate(
            page, f"window.bordermark.map.getPaintProperty('{layer}', '{prop}')"
        )
        return value

    categories = await paint("incidents-point", "circle-color")
    line = await paint("segments", "line-color")
    for layer in ("segments-recent", "segments-before"):
        assert await paint(layer, "line-color") == line
    markers = next(
        part for part in await paint("markers", "circle-color")
        if isinstance(part, list) and part[0] == "match"
    )  # fmt: skip
    line_colours = {f"line {c}": c for c in _outputs(line)}
    assert len(set(line_colours.values())) == 3
    category_colours = {f"category {c}": c for c in _outputs(categories)}
    assert len(category_colours) == len(_outputs(categories)) >= 10  # no colour twice
    closest = _closest(category_colours | line_colours)
    assert closest[0] >= LEAST_APART, closest
    closest = _closest({f"marker {c}": c for c in _outputs(markers)} | line_colours)
    assert closest[0] >= LEAST_APART, closest


async def test_the_banks_of_a_pair_read_apart(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    """836(1) and 836(2) stand on the Chinese and the Vietnamese bank at the Bản Giốc
    waterfall (seed/data/extra-markers.csv), about 50 m apart: the first
    is drawn filled, the second as a ring in its condition's colour (as MapLibre
    evaluated them), and both are labelled up close."""
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    async with httpx.AsyncClient(base_url=base, auth=("map", tokens.analyst)) as api:
        found = await api.get(
            "/ogc/collections/markers/items", params={"filter": "code LIKE '836(%'"}
        )
    pair = {f["properties"]["code"]: f for f in found.json()["features"]}
    assert set(pair) == {"836(1)", "836(2)"}
    lon, lat = pair["836(1)"]["geometry"]["coordinates"]
    await _then_idle(page, f"window.bordermark.map.jumpTo({{center: [{lon}, {lat}], zoom: 18}})")
    drawn = {
        code: paint
        for code, paint in await _evaluate(
            page,
            """window.bordermark.map.queryRenderedFeatures({layers: ['markers']})
                 .map(f => [f.properties.code, {fill: f.layer.paint['circle-color'],
                                                 ring: f.layer.paint['circle-stroke-color']}])""",
        )
    }
    first, second = drawn["836(1)"], drawn["836(2)"]
    white = {"r": 1, "g": 1, "b": 1, "a": 1}
    assert first["fill"] != white and first["ring"] == white
    assert second["fill"] == white and second["ring"] != white
    labels = {label["text"] for label in await _labels(page)}
    assert {"836(1)", "836(2)"} <= labels
    # Each is drawn in its condition's colour in the legend: 836(1) intact, 836(2) at risk
    # (its ring), as the register has them.
    legend = dict(
        await _evaluate(
            page,
            """[...document.querySelectorAll('#legend-markers li')].map(li =>
                 [li.textContent.trim(), getComputedStyle(li.querySelector('.swatch')).backgroundColor])""",
        )
    )
    conditions = {code: f["properties"]["condition"] for code, f in pair.items()}
    assert conditions == {"836(1)": "intact", "836(2)": "at_risk"}

    def css(colour: dict[str, float]) -> str:
        return "rgb({}, {}, {})".format(*(round(colour[c] * 255) for c in "rgb"))

    assert legend["nguyên vẹn"] == css(first["fill"])
    assert legend["có nguy cơ"] == css(second["ring"])


async def test_details_in_words_with_photos_and_an_english_switch(
    scratch_url: str, tokens: Tokens, browser: Browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """An incident's panel gives its context in words (the nearest marker and how far,
    the zones by their names, the articles it may breach), its photos, links to its OGC
    page and its GeoJSON, and its history with the document cited; the switch turns the
    page to English (the service's own English names) and back."""
    from tests.conftest import app_on, serving
    from tests.incidents.helpers import feature
    from tests.incidents.test_attachments import tiny_png

    async with serving(app_on(scratch_url, tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base, auth=("map", tokens.admin)) as api:
            body = feature(location="VN-CN:1089+120", category="fence", title="Rào mới ở 1089")
            created = (await api.post("/api/v1/incidents", json=body)).json()
            incident_id = created["id"]
            attached = await api.post(
                f"/api/v1/incidents/{incident_id}/attachments",
                files={"file": ("hang-rao.png", tiny_png(7), "image/png")},
            )
            assert attached.status_code == 201, attached.text
            moved = await api.post(
                f"/api/v1/incidents/{incident_id}/transitions",
                json={"to": "verified", "document_ref": "Báo cáo số 12/BC-ĐBP"},
            )
            assert moved.status_code == 200, moved.text
            stored = (await api.get(f"/api/v1/incidents/{incident_id}")).json()["properties"]
            border = (await api.get("/api/v1/borders/VN-CN")).json()["properties"]
            categories = (await api.get("/api/v1/incident-categories")).json()
        page = await _signed_in(browser, base, tokens.analyst)
        await _evaluate(page, f"window.bordermark.open('{incident_id}')")
        await page.wait_for_selector("#details img.thumbnail[src^='blob:']", timeout=10_000)

        async def panel() -> dict[str, str]:
            terms = await page.locator("#details-fields dt").all_text_contents()
            values = await page.locator("#details-fields dd").all_text_contents()
            return dict(zip(terms, values, strict=True))

        shown = await panel()
        assert shown["Mốc gần nhất"].startswith(stored["nearest_marker"] + " (")
        zone_names = {z["code"]: z["name_vi"] for z in border["zones"]}
        assert stored["zones"] and all(zone_names[z] in shown["Vùng"] for z in stored["zones"])
        assert stored["breaches"]
        for breach in stored["breaches"]:
            assert breach["article"] in shown["Điều khoản có thể vi phạm"]
        links = await page.locator("#details-fields a").evaluate_all("(a) => a.map(x => x.href)")
        assert f"{base}/ogc/collections/incidents/items/{incident_id}?f=html" in links
        history = " ".join(await page.locator("#details-history li").all_text_contents())
        assert "Báo cáo số 12/BC-ĐBP" in history and "đã xác minh" in history

        # English: the switch, the panel's words, the service's English category name.
        await page.click("#language")
        await page.locator("#details-fields dt", has_text="Category").wait_for(timeout=10_000)
        english = await panel()
        name_en = {c["code"]: c["name_en"] for c in categories}["fence"]
        assert english["Category"] == name_en and english["Status"] == "verified"
        assert await page.text_content("[data-word=legend]") == "Legend"
        assert await _evaluate(page, "document.documentElement.lang") == "en"
        await page.click("#language")
        assert await page.text_content("[data-word=legend]") == "Chú giải"
        await page.locator("#details-fields dt", has_text="Loại").wait_for(timeout=10_000)


async def test_a_short_line_incident_is_drawn_at_zoom_8(
    scratch_url: str, tokens: Tokens, browser: Browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Issue 26: short line incidents vanished at z8. A 30 m fence (a twentieth of a
    pixel there) is drawn, as a point, beside a demo line drawn as a line."""
    from tests.conftest import app_on, serving
    from tests.incidents.helpers import feature

    async with serving(app_on(scratch_url, tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base, auth=("map", tokens.admin)) as api:
            start = await off_line(api, tokens.admin, "1089+500", 50, "VN")
            end = await off_line(api, tokens.admin, "1089+530", 50, "VN")
            short = feature(
                geometry={"type": "LineString", "coordinates": [list(start), list(end)]},
                category="fence",
                title="Rào 30 m",
            )
            created = await api.post("/api/v1/incidents", json=short)
            assert created.status_code == 201, created.text
        page = await _signed_in(browser, base, tokens.analyst)
        await _then_idle(page, f"window.bordermark.map.jumpTo({{center: {list(start)}, zoom: 8}})")
        drawn = await _evaluate(
            page,
            """window.bordermark.map.queryRenderedFeatures(
                 {layers: ['incidents-line', 'incidents-point']})
               .map(f => [f.properties.id, f.layer.id])""",
        )
        assert [created.json()["id"], "incidents-point"] in drawn
        assert any(layer == "incidents-line" for _, layer in drawn)  # longer ones as lines
