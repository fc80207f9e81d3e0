"""The browser the web tests drive: Debian's Chromium through Playwright."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, in a container, without a GPU: WebGL runs in software (SwiftShader).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
]


@pytest.fixture
async def browser(tmp_path) -> AsyncIterator[Browser]:  # type: ignore[no-untyped-def]
    async with async_playwright() as p:
        # Never a browser Playwright downloads: the Debian one the project's setup installs.
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
