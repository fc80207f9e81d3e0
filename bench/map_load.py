"""How fast the officer's map draws (issue 26's speed targets), in Debian's headless
Chromium (software WebGL, as the tests run it) against `bordermark serve` on loopback.

    .venv/bin/python bench/map_load.py [--rows 1000000] [--rounds 5]

Two settings: the demo data alone, then the demo plus `--rows` bench incidents
(bench/dataset.py). For each view, a fresh browser context (no HTTP cache) per round
opens `/map#zoom/lat/lon` with the token already in session storage, and the page's own
clock (performance.now(), from navigation start) is read when MapLibre is first idle:
every layer's tiles fetched and drawn. The first round meets the service's tile cache
cold, the rest warm. Then, at z12 over the Hữu Nghị gate, pans of 600 px eastwards, each
onto new ground: the time from the pan to idle again (all new tiles of every layer
drawn) and the tiles each fetched.
Targets: under 1.5 s at the demo, under 3 s at a million; under 200 ms per pan's tiles.
Results: appended to bench/results/<date>.md (sitting.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from exports_under_load import token  # noqa: E402
from playwright.async_api import Browser, async_playwright  # noqa: E402
from scale_reports_exports import (  # noqa: E402
    free_port,
    prepare,
    private_cluster,
    serve,
    service_env,
)
from sitting import append_run  # noqa: E402

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

VIEWS = {  # what, the map's address hash (zoom/lat/lon)
    "z6 over VN-CN": "6/22.3/105.9",
    "z12 over marker 1089": "12/21.99/106.72",
}
READY = """new Promise((done) => {
  const check = () => (window.bordermark && window.bordermark.ready
    ? done(performance.now()) : setTimeout(check, 5));
  check();
})"""
PAN_TO_IDLE = """(dx) => new Promise((done) => {
  const map = window.bordermark.map;
  const started = performance.now();
  map.once("idle", () => done(performance.now() - started));
  map.panBy([dx, 0], { duration: 0 });
})"""


async def load_times(browser: Browser, base: str, key: str, rounds: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for label, view in VIEWS.items():
        times = []
        for _ in range(rounds):
            context = await browser.new_context(viewport={"width": 1200, "height": 800})
            await context.add_init_script(f"sessionStorage.setItem('bordermark.token', '{key}')")
            page = await context.new_page()
            await page.goto(f"{base}/map#{view}")
            times.append(await page.evaluate(READY))
            await context.close()
        found[label] = times
    return found


async def pan_times(
    browser: Browser, base: str, key: str, pans: int
) -> tuple[list[float], list[int]]:
    context = await browser.new_context(viewport={"width": 1200, "height": 800})
    await context.add_init_script(f"sessionStorage.setItem('bordermark.token', '{key}')")
    page = await context.new_page()
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
    await page.goto(f"{base}/map#12/21.99/106.72")
    await page.evaluate(READY)
    times, counts = [], []
    for _ in range(pans):
        before = len(tiles)
        times.append(await page.evaluate(PAN_TO_IDLE, 600))  # always onto new ground
        counts.append(len(tiles) - before)
    await context.close()
    return times, counts


def row(label: str, values: list[float]) -> str:
    warm = values[1:] or values
    return (
        f"| {label} | {values[0]:.0f} | {statistics.median(warm):.0f} "
        f"| {min(warm):.0f}-{max(warm):.0f} |"
    )


async def measure(base: str, key: str, rounds: int) -> list[str]:
    lines = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, values in (await load_times(browser, base, key, rounds)).items():
                lines.append(row(f"navigation to drawn, {label}", values))
            pans, counts = await pan_times(browser, base, key, rounds * 2)
            tiles = statistics.median(counts)
            lines.append(
                row(f"pan 600 px at z12 over Hữu Nghị, to drawn ({tiles:.0f} tiles each)", pans)
            )
        finally:
            await browser.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    lines = [
        f"# The map's drawing time, {date.today().isoformat()}",
        "",
        f"Command: `.venv/bin/python bench/map_load.py --rows {args.rows} --rounds {args.rounds}`",
        f"Machine: {os.cpu_count()} cores; PostgreSQL, the service (one worker) and Chromium "
        "(software WebGL) on it. Milliseconds; the first round cold, the rest warm.",
    ]
    for rows in sorted({0, args.rows}):  # --rows 0: the demo alone
        lines += ["", f"## {'the demo data' if not rows else f'the demo + {rows:,} incidents'}",
                  "", "| what | cold | warm median | warm min-max |", "|---|---|---|---|"]  # fmt: skip
        with private_cluster() as (url, root):
            asyncio.run(prepare(url, rows))
            env = service_env(url, root)
            port = free_port()
            server = serve(env, port)
            try:
                found = asyncio.run(measure(f"http://127.0.0.1:{port}", token(env), args.rounds))
            finally:
                server.terminate()
                server.wait(timeout=30)
        lines += found
        print("\n".join(found), flush=True)
    append_run(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
