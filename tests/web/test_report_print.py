"""The province's report view as an office prints it: Chromium signs in (Basic), shows
the sections with the report's numbers, and prints the page to PDF (its print styles)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from tests.conftest import Tokens, app_on, serving


@pytest.fixture
async def served(database: tuple[str, Tokens], tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    async with serving(app_on(database[0], tmp_path)) as base:
        yield base


async def test_lang_son_2020_prints(browser: Browser, served: str, tokens: Tokens) -> None:
    context = await browser.new_context(
        http_credentials={"username": "so-ngoai-vu", "password": tokens.officer}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    answer = await page.goto(f"{served}/api/v1/reports/provinces/lang-son/2020?format=html")
    assert answer is not None and answer.status == 200
    assert "Lạng Sơn, năm 2020" in await page.locator("h1").inner_text()
    headings = await page.locator("h2").all_inner_texts()
    assert headings[0].startswith("I. Giải quyết vụ việc") and len(headings) == 7
    # The first table's rows, as the officer reads them.
    rows = await page.eval_on_selector_all(
        "table:first-of-type tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))",
    )
    counts = {r[0]: r[1] for r in rows[1:]}
    assert counts["Giải quyết ổn thỏa, dứt điểm"] == "16"
    assert counts["Báo cáo, đề xuất Bộ Ngoại giao"] == "8"
    pdf = await page.pdf(format="A4")
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)  # not the /Pages tree
    assert pdf.startswith(b"%PDF-") and len(pages) >= 2  # thirty cases do not fit one A4
    assert errors == []
    await context.close()
