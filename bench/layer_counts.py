"""What QGIS's opening of a layer costs, at a million incidents: the first page of a
whole collection now carries numberMatched (a COUNT), the pages after it do not, and the
bbox and filter pages the bench rows measure never do.

    .venv/bin/python bench/layer_counts.py [--rows 1000000] [--rounds 15]

Each row: the median and min-max of `--rounds` sequential requests (after two warm-ups),
in milliseconds, as the client sees them. Results: appended to bench/results/<date>.md (sitting.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

import sys  # noqa: E402

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from exports_under_load import token  # noqa: E402
from scale_reports_exports import (  # noqa: E402
    free_port,
    prepare,
    private_cluster,
    serve,
    service_env,
)
from sitting import append_run  # noqa: E402

# (what it is, the request): QGIS opens a layer with limit=10, counts it with limit=1.
REQUESTS = [
    ("incidents: first page, limit=10 (counted)", "incidents", {"limit": 10}),
    ("incidents: second page, limit=10 (not counted)", "incidents", {"limit": 10, "offset": 10}),
    ("incidents: limit=1, QGIS's feature count (counted)", "incidents", {"limit": 1}),
    ("incidents-points: first page, limit=10 (counted)", "incidents-points", {"limit": 10}),
    ("incidents-lines: first page, limit=10 (counted)", "incidents-lines", {"limit": 10}),
    ("incidents-areas: first page, limit=10 (counted)", "incidents-areas", {"limit": 10}),
    ("markers: first page, limit=10 (counted)", "markers", {"limit": 10}),
]


async def timings(
    base: str, auth: dict[str, str], rounds: int
) -> list[tuple[str, list[float], int | None]]:
    found = []
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=120) as http:
        for label, collection, params in REQUESTS:
            path = f"/ogc/collections/{collection}/items"
            for _ in range(2):
                await http.get(path, params=params)
            times = []
            matched = None
            for _ in range(rounds):
                started = time.perf_counter()
                r = await http.get(path, params=params)
                times.append((time.perf_counter() - started) * 1000)
                r.raise_for_status()
                matched = r.json().get("numberMatched")
            found.append((label, times, matched))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    lines = [
        f"# Layer counts for QGIS, {date.today().isoformat()}",
        "",
        f"Command: `.venv/bin/python bench/layer_counts.py --rows {args.rows} --rounds {args.rounds}`",
        f"Machine: {os.cpu_count()} cores; PostgreSQL and the service (one worker) on it.",
        "",
        "| request | numberMatched | median ms | min-max ms |",
        "|---|---|---|---|",
    ]
    with private_cluster() as (url, root):
        asyncio.run(prepare(url, args.rows))
        env = service_env(url, root)
        auth = {"Authorization": f"Bearer {token(env)}"}
        port = free_port()
        server = serve(env, port)
        try:
            for label, times, matched in asyncio.run(
                timings(f"http://127.0.0.1:{port}", auth, args.rounds)
            ):
                shown = f"{matched:,}" if matched is not None else "(none)"
                lines.append(
                    f"| {label} | {shown} | {statistics.median(times):.1f} "
                    f"| {min(times):.1f}-{max(times):.1f} |"
                )
                print(lines[-1], flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    append_run(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
