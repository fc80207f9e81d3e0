"""The map page in a real headless Chromium (Debian's package, driven by Playwright): it
signs in, MapLibre renders features of every layer from the vector tiles, the filters and
the layer switch change what is drawn, and a click on an incident opens its details."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.conftest import Tokens, app_on, serving

LAYERS = ["districts-fill", "segments", "markers", "incidents-point", "incidents-line"]


async def _evaluate(page: Page, script: str) -> Any:
    # page.evaluate runs through the DevTools protocol, so the page's strict CSP (no eval)
    # stays in force for the page itself.
    return await page.evaluate(script)


async def _wait_ready(page: Page) -> None:
    for _ in range(600):
        if await _evaluate(page, "window.bordermark && window.bordermark.ready === true"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the map never became idle")


async def _rendered(page: Page, layer: str) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = await _evaluate(
        page,
        f"""window.bordermark.map.queryRenderedFeatures({{layers: ["{layer}"]}})
             .map(f => ({{properties: f.properties, geometry: f.geometry}}))""",
    )
    return features


async def _then_idle(page: Page, action: str) -> None:
    """Run an action in the page and wait until the map has fetched and drawn again."""
    await _evaluate(page, f"(() => {{ {action}; window.bordermark.map.triggerRepaint(); }})()")
    settled = 0
    for _ in range(300):
        await asyncio.sleep(0.1)
        done = await _evaluate(
            page,
            "(() => { const m = window.bordermark.map;"
            " return m.loaded() && m.areTilesLoaded() && !m.isMoving(); })()",
        )
        settled = settled + 1 if done else 0
        if settled >= 3:
            return
    raise AssertionError("the map never settled")


async def _signed_in(browser: Browser, base: str, token: str) -> Page:
    page = await browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{base}/map")
    await page.fill("#token", token)
    await page.click("#login button[type=submit]")
    await _wait_ready(page)
    assert errors == []
    return page


async def test_map_renders_filters_switches_and_opens_an_incident(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    assert await page.is_hidden("#login") and await page.is_visible("#panel")
    for layer in ("districts-fill", "segments", "incidents-point", "crossings"):
        assert await _rendered(page, layer), f"nothing rendered in {layer}"
    drawn = {f["properties"]["code"]: f["properties"] for f in await _rendered(page, "crossings")}
    assert drawn["binh-nghi"]["status"] == "suspended"
    # Disputed areas are drawn from the start; repairs and surveyed areas once ticked.
    disputed = await _rendered(page, "disputed-areas-point")
    assert {f["properties"]["code"] for f in disputed} == {"moc-1163"}
    for layer, box in (("marker-repairs", "repairs"), ("survey-areas", "surveys")):
        assert await _rendered(page, layer) == []
        await _then_idle(page, f'document.querySelector("input[value={box}]").click()')
        assert await _rendered(page, layer), f"nothing rendered in {layer} once ticked"
    repaired = {f["properties"]["marker"]: f for f in await _rendered(page, "marker-repairs")}
    assert repaired["615"]["properties"]["status"] == "done"

    # Segments carry their clearing age; the demo has cleared and uncleared stretches.
    ages = {
        f["properties"].get("days_since_cleared")
        for layer in ("segments-recent", "segments-before", "segments")
        for f in await _rendered(page, layer)
    }
    assert None in ages and any(isinstance(a, int | float) for a in ages)

    # A category filter redraws the incidents from filtered tiles.
    before = await _rendered(page, "incidents-point") + await _rendered(page, "incidents-line")
    categories = {f["properties"]["category"] for f in before}
    assert len(categories) > 1
    chosen = sorted(categories)[0]
    await _then_idle(
        page,
        f"""const select = document.getElementById("category");
            for (const o of select.options) o.selected = o.value === "{chosen}";
            select.dispatchEvent(new Event("change"))""",
    )
    after = await _rendered(page, "incidents-point") + await _rendered(page, "incidents-line")
    assert after and {f["properties"]["category"] for f in after} == {chosen}
    assert len(after) < len(before)
    await _then_idle(
        page,
        """const select = document.getElementById("category");
           for (const o of select.options) o.selected = false;
           select.dispatchEvent(new Event("change"))""",
    )

    # Unticking every status shows no incidents at all.
    await _then_idle(
        page,
        """for (const box of document.querySelectorAll("input[name=status]")) box.checked = false;
           document.querySelector("input[name=status]").dispatchEvent(new Event("change"))""",
    )
    assert await _rendered(page, "incidents-point") == []
    await _then_idle(
        page,
        """for (const box of document.querySelectorAll("input[name=status]")) box.checked = true;
           document.querySelector("input[name=status]").dispatchEvent(new Event("change"))""",
    )

    # The layer switch hides districts.
    await _then_idle(page, 'document.querySelector("input[value=districts]").click()')
    assert await _rendered(page, "districts-fill") == []

    # A click on an incident point opens its details and history. The point is one with no
    # other within about 200 m (the demo and other tests put several at the same marker),
    # so that the click can only mean it.
    points = await _rendered(page, "incidents-point")

    def alone(p: dict) -> bool:  # type: ignore[type-arg]
        x0, y0 = p["geometry"]["coordinates"]
        return all(
            q is p or max(abs(q["geometry"]["coordinates"][0] - x0),
                          abs(q["geometry"]["coordinates"][1] - y0)) > 0.002
            for q in points
        )  # fmt: skip

    point = next(p for p in points if alone(p))
    lon, lat = point["geometry"]["coordinates"]
    await _then_idle(page, f"window.bordermark.map.jumpTo({{center: [{lon}, {lat}], zoom: 13}})")
    # Where it is drawn at this zoom (a low zoom's tile rounds positions more coarsely).
    point = next(
        p for p in await _rendered(page, "incidents-point")
        if p["properties"]["id"] == point["properties"]["id"]
    )  # fmt: skip
    lon, lat = point["geometry"]["coordinates"]
    x, y = await _evaluate(
        page,
        f"(() => {{ const p = window.bordermark.map.project([{lon}, {lat}]); return [p.x, p.y]; }})()",
    )
    await page.mouse.click(x, y)
    await page.wait_for_selector("#details:not([hidden])", timeout=10_000)
    assert await page.text_content("#details-title") == point["properties"]["title"]
    assert await page.get_attribute("#details", "data-incident") == point["properties"]["id"]
    assert await page.locator("#details-history li").count() >= 1

    # Up close, markers render and carry their code as a label; an intact marker is drawn
    # neutral, not in the colour of a marker with a problem (as MapLibre evaluated it).
    assert await _rendered(page, "markers")
    colours = await _evaluate(
        page,
        """window.bordermark.map.queryRenderedFeatures({layers: ["markers"]})
             .map(f => [f.properties.condition, JSON.stringify(f.layer.paint["circle-color"])])""",
    )
    intact = {colour for condition, colour in colours if condition == "intact"}
    assert intact and all('"r":0.2' in colour for colour in intact), intact
    labels = await page.locator(".marker-label").all_text_contents()
    codes = {f["properties"]["code"] for f in await _rendered(page, "markers")}
    assert labels and set(labels) <= codes


async def test_map_refuses_a_bad_token_and_scopes_what_it_draws(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    base = live_server.removesuffix("/ogc")
    page = await browser.new_page()
    await page.goto(f"{base}/map")
    await page.fill("#token", "bm_not-a-token")
    await page.click("#login button[type=submit]")
    await page.wait_for_selector("#login-error:not([hidden])", timeout=10_000)
    assert "401" in (await page.text_content("#login-error") or "")
    assert await page.is_hidden("#panel")

    # A Cao Bằng officer sees only Cao Bằng's incidents on the map.
    officer = await _signed_in(browser, base, tokens.officer_other)
    drawn = await _rendered(officer, "incidents-point") + await _rendered(officer, "incidents-line")
    ids = {f["properties"]["id"] for f in drawn}
    assert ids
    checks = await asyncio.gather(
        *(
            _evaluate(
                officer,
                f"""fetch("/api/v1/incidents/{i}", {{headers: {{Authorization:
                     "Bearer {tokens.analyst}"}}}}).then(r => r.json()).then(f => f.properties.province)""",
            )
            for i in ids
        )
    )
    assert set(checks) == {"cao-bang"}


@pytest.fixture
async def grouping_server(database: tuple[str, Tokens], tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A server whose tiles group incidents past one per tile, so the demo's tiles do."""
    async with serving(app_on(database[0], tmp_path, tile_max_features=1)) as base:
        yield base


async def test_map_draws_grouped_incidents_and_zooms_into_them(
    grouping_server: str, tokens: Tokens, browser: Browser
) -> None:
    page = await _signed_in(browser, grouping_server, tokens.analyst)
    points = await _rendered(page, "incidents-point")
    assert any(p["properties"].get("count", 1) > 1 for p in points), points
    # A pixel whose topmost incident stands for several: what a click there picks.
    target = await _evaluate(
        page,
        """(() => {
          const map = window.bordermark.map;
          for (const f of map.queryRenderedFeatures({layers: ["incidents-point"]})) {
            const p = map.project(f.geometry.coordinates);
            const top = map.queryRenderedFeatures([p.x, p.y], {layers: ["incidents-point"]})[0];
            if (top && top.properties.count > 1) return [p.x, p.y, map.getZoom()];
          }
          return null;
        })()""",
    )
    assert target is not None
    x, y, zoom = target
    await page.mouse.click(x, y)
    for _ in range(100):
        now = await _evaluate(page, "window.bordermark.map.getZoom()")
        if now >= zoom + 1.99:
            break
        await asyncio.sleep(0.1)
    assert now == pytest.approx(zoom + 2, abs=0.01)
    assert await page.is_hidden("#details")  # a group zooms in; it opens no one incident


async def _search(page: Page, text: str) -> str:
    """Type `text` into the search box, submit, and wait for the answer and the flight."""
    await page.fill("#search-text", text)
    await page.click("#search button[type=submit]")
    for _ in range(300):
        said = await page.text_content("#search-result") or ""
        if said and said != "Đang tìm…":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"no answer for {text!r}")
    await _then_idle(page, "")
    return said


async def test_search_finds_places_as_officers_name_them(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    """A marker code as documents write it, a chainage, a range, a gate and a commune: each
    flies there and is drawn; the place is the one the API gives."""
    import httpx

    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    async with httpx.AsyncClient(base_url=base, auth=("map", tokens.analyst)) as api:
        marker = (await api.get("/api/v1/borders/VN-CN/markers/1088/2")).json()
    lon, lat = marker["geometry"]["coordinates"]

    assert await _search(page, "mốc 1088/2") == "Mốc 1088/2 (VN-CN)"
    [point] = await _rendered(page, "found-point")
    found_lon, found_lat = point["geometry"]["coordinates"]
    assert abs(found_lon - lon) < 1e-4 and abs(found_lat - lat) < 1e-4
    centre = await _evaluate(page, "window.bordermark.map.getCenter().toArray()")
    assert abs(centre[0] - lon) < 0.01 and abs(centre[1] - lat) < 0.01

    assert (await _search(page, "1248+470")).startswith("Mốc 1248+470")
    assert await _search(page, "1042-1053/1") == "Đoạn 1042-1053/1 (VN-CN)"
    assert await _rendered(page, "found-line")
    assert await _search(page, "tan thanh") == "Cửa khẩu Tân Thanh – Pò Chài"
    assert await _search(page, "Mẫu Sơn") == "xã Mẫu Sơn (commune)"
    assert await _rendered(page, "found-area")
    assert await _search(page, "Atlantis") == "Không tìm thấy: Atlantis"
    assert await _rendered(page, "found-point") == []


async def test_the_panel_speaks_vietnamese_in_vietnam_time_with_a_legend(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    """Issue 26: details in raw ISO UTC and English; no legend for categories or markers."""
    import httpx

    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    async with httpx.AsyncClient(base_url=base, auth=("map", tokens.analyst)) as api:
        incidents = (await api.get("/api/v1/incidents", params={"limit": 1})).json()
        categories = (await api.get("/api/v1/incident-categories")).json()
    [incident] = incidents["features"]
    await _evaluate(page, f"window.bordermark.open('{incident['id']}')")
    await page.wait_for_selector("#details:not([hidden])", timeout=10_000)
    terms = await page.locator("#details-fields dt").all_text_contents()
    values = await page.locator("#details-fields dd").all_text_contents()
    shown = dict(zip(terms, values, strict=True))
    # The event's instant in Vietnam (UTC+7), as an officer writes it, computed here.
    from datetime import datetime, timedelta, timezone

    when = datetime.fromisoformat(incident["properties"]["occurred_at"])
    local = when.astimezone(timezone(timedelta(hours=7)))
    assert local.strftime("%d/%m/%Y") in shown["Thời điểm"]
    assert local.strftime("%H:%M") in shown["Thời điểm"]
    assert "T" not in shown["Thời điểm"] and "+00:00" not in shown["Thời điểm"]
    names = {c["code"]: c["name_vi"] for c in categories}
    assert shown["Loại"] == names[incident["properties"]["category"]]
    # The legend is read off the paint: each category's swatch has the colour it is drawn in.
    legend = await _evaluate(
        page,
        """[...document.querySelectorAll('#legend-categories li')].map(li =>
             [li.textContent.trim(), getComputedStyle(li.querySelector('.swatch')).backgroundColor])""",
    )
    paint = await _evaluate(
        page, "window.bordermark.map.getPaintProperty('incidents-point', 'circle-color')"
    )
    drawn = dict(zip(paint[2:-1:2], paint[3:-1:2], strict=True))
    by_name = dict(legend)
    for code, colour in drawn.items():
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert by_name[names.get(code, code)] == f"rgb({red}, {green}, {blue})"
    markers = await page.locator("#legend-markers li").all_text_contents()
    assert any("nguyên vẹn" in m for m in markers) and any("có nguy cơ" in m for m in markers)


async def test_marker_labels_never_collide_nor_cover_incidents(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    """Issue 26: at zoom 11 around 1095 the codes ran together ("1095 96 97 098")."""
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    for zoom in (11, 13):
        await _then_idle(
            page, f"window.bordermark.map.jumpTo({{center: [106.69, 22.0], zoom: {zoom}}})"
        )
        boxes = await _evaluate(
            page,
            """[...document.querySelectorAll('.marker-label')].map(n => {
                 const r = n.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""",
        )
        assert boxes, f"no label at zoom {zoom}"
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, f"labels overlap at zoom {zoom}: {a} {b}"
        dots = await _evaluate(
            page,
            """window.bordermark.map.queryRenderedFeatures({layers: ['incidents-point']})
                 .map(f => { const p = window.bordermark.map.project(f.geometry.coordinates);
                             return [p.x, p.y]; })""",
        )
        for x, y in dots:
            assert not any(b[0] < x < b[2] and b[1] < y < b[3] for b in boxes), (x, y)
    # Up close every marker in view has room for its label.
    rendered = {f["properties"]["code"] for f in await _rendered(page, "markers")}
    labels = set(await page.locator(".marker-label").all_text_contents())
    assert labels <= rendered and len(labels) >= len(rendered) // 2


async def test_the_map_draws_the_units_of_its_day(
    live_server: str, tokens: Tokens, browser: Browser
) -> None:
    """Cao Bằng merged districts on 1 Feb 2020: one district per place on the map's day,
    not every version on top of one another."""
    base = live_server.removesuffix("/ogc")
    page = await _signed_in(browser, base, tokens.analyst)
    await _then_idle(page, "window.bordermark.map.jumpTo({center: [106.3, 22.75], zoom: 8})")

    async def drawn() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for f in await _rendered(page, "districts-fill"):
            found.setdefault(f["properties"]["code"], set()).add(f["properties"]["valid_from"])
        return found

    latest = await drawn()
    assert "tra-linh" not in latest and latest["trung-khanh"] == {"2020-02-01"}
    await _then_idle(
        page,
        """const until = document.getElementById("until"); until.value = "2019-06-01";
           until.dispatchEvent(new Event("change"))""",
    )
    before = await drawn()
    assert "tra-linh" in before and before["trung-khanh"] == {"2000-01-01"}
