"""A browser signs in once and browses: the landing page links the map, the OGC pages and
the docs; the OGC HTML pages answer a browser's Basic sign-in (any user name, the token as
the password), which Chromium sends again for every page after."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError

from tests.conftest import Tokens, app_on, serving


@pytest.fixture
async def served(database: tuple[str, Tokens], tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with serving(app_on(database[0], tmp_path)) as base:
        yield base


async def test_landing_page_then_ogc_pages_after_one_sign_in(
    browser: Browser,
    served: str,
    tokens: Tokens,
) -> None:
    context = await browser.new_context(
        http_credentials={"username": "can-bo", "password": tokens.reporter}
    )
    page = await context.new_page()
    landing = await page.goto(f"{served}/")
    assert landing is not None and landing.status == 200
    hrefs = await page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert {"/map", "/ogc", "/docs"} <= set(hrefs)
    await page.click("a[href='/ogc']")
    await page.wait_for_load_state()
    assert "OGC" in await page.title() or await page.locator("a[href*='collections']").count()
    answer = await page.goto(f"{served}/ogc/collections/incidents-lines/items")
    assert answer is not None and answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    # The reporter's scope holds in the browser too: only its province's lines are listed.
    body = await page.content()
    assert "Lạng Sơn" in body or "lang-son" in body
    assert "cao-bang" not in body
    await context.close()


async def test_without_sign_in_the_browser_is_asked(browser: Browser, served: str) -> None:
    """Chromium takes the Basic challenge as a sign-in prompt; headless, with nobody to
    answer it, the navigation ends in its "invalid credentials" error."""
    context = await browser.new_context()
    page = await context.new_page()
    with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
        await page.goto(f"{served}/ogc/collections")
    answer = await context.request.get(f"{served}/ogc/collections")
    assert answer.status == 401
    challenges = [
        h["value"] for h in answer.headers_array if h["name"].lower() == "www-authenticate"
    ]
    assert any(c.startswith("Basic ") for c in challenges), challenges
    await context.close()
