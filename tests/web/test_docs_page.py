"""/docs in a real headless Chromium with no way out to the internet: Swagger UI comes
from the service itself (border offices often run offline), renders every operation, and
its Content-Security-Policy holds (no violation reported)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Request, Route

from app.main import create_app
from tests.conftest import Tokens, app_on, serving

pytestmark = pytest.mark.usefixtures("browser")


@pytest.fixture
async def served(database: tuple[str, Tokens], tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with serving(app_on(database[0], tmp_path)) as base:
        yield base


async def test_docs_render_offline_under_their_csp(browser: Browser, served: str) -> None:
    origin = urlsplit(served).netloc
    outside: list[str] = []
    problems: list[str] = []

    async def only_this_service(route: Route, request: Request) -> None:
        if urlsplit(request.url).netloc == origin:
            await route.continue_()
        else:  # the internet is not there
            outside.append(request.url)
            await route.abort()

    context = await browser.new_context()
    await context.route("**/*", only_this_service)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    response = await page.goto(f"{served}/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    operations = 0
    for _ in range(200):
        operations = await page.locator(".opblock").count()
        if operations:
            break
        await asyncio.sleep(0.1)
    expected = sum(
        1
        for ops in create_app().openapi()["paths"].values()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    )
    assert operations == expected > 40
    assert await page.locator(".info .title").inner_text() != ""
    assert outside == [], outside
    assert problems == [], problems
    await context.close()
