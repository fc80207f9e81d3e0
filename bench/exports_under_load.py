"""The GDAL-class exports (KML, GeoPackage) of every incident while others use the service
(issue 24): the exports' wall time and the service's peak RSS, and the p99 of `/healthz`
and of the 500 m query around marker 1089 before and during each export.

Method: a private cluster with N synthetic incidents (scale_reports_exports.prepare), one
`bordermark serve` process (its defaults: one worker). A probe client sends `/healthz` and
the 500 m OGC query in turn, one request at a time, for `--before` seconds with nothing
else running; then the export is read to its end by curl (a process of its own) while
the probe goes on. Peak RSS is the server's VmHWM after each export (the kernel's high-water mark).
Targets: peak RSS under 200 MB; p99 during the export within 3 x the p99 before.

Run: .venv/bin/python bench/exports_under_load.py [--rows 1000000] [--before 20]
Appends to bench/results/<date>.md (sitting.py). Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from floors import near_filter  # noqa: E402
from measure import pct  # noqa: E402
from scale_reports_exports import (  # noqa: E402
    free_port,
    prepare,
    private_cluster,
    rss_kb,
    serve,
    service_env,
)
from sitting import append_run  # noqa: E402

MARKER_1089 = (106.7145, 21.9882)  # replaced by the register's position at start


async def probe(base: str, auth: dict[str, str], stop: asyncio.Event) -> dict[str, list[float]]:
    """One request at a time, /healthz and the 500 m query in turn, until `stop`."""
    times: dict[str, list[float]] = {"healthz": [], "500 m": []}
    near = {"filter": near_filter(*MARKER_1089), "limit": "1000"}
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        while not stop.is_set():
            for name, path, params in (
                ("healthz", "/healthz", None),
                ("500 m", "/ogc/collections/incidents/items", near),
            ):
                started = time.perf_counter()
                r = await http.get(path, params=params, headers=auth)
                r.raise_for_status()
                times[name].append((time.perf_counter() - started) * 1000)
    return times


async def baseline(base: str, auth: dict[str, str], seconds: float) -> dict[str, list[float]]:
    stop = asyncio.Event()
    task = asyncio.create_task(probe(base, auth, stop))
    await asyncio.sleep(seconds)
    stop.set()
    return await task


async def during_export(
    base: str, auth: dict[str, str], fmt: str
) -> tuple[float, int, dict[str, list[float]]]:
    """The export read to its end by curl, a process of its own: read by this process, its
    gigabyte kept the probe's event loop busy and the probe measured itself."""
    stop = asyncio.Event()
    task = asyncio.create_task(probe(base, auth, stop))
    reader = await asyncio.create_subprocess_exec(
        "curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}",
        "-H", f"Authorization: {auth['Authorization']}",
        f"{base}/api/v1/exports/incidents?format={fmt}",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await reader.communicate()
    stop.set()
    times = await task
    if reader.returncode != 0:
        raise RuntimeError(f"the {fmt} export failed (curl exit {reader.returncode})")
    wall, size = out.decode().split()
    return float(wall), int(float(size)), times


def token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "create", "--role", "analyst", "--name", "bench"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def marker_position(base: str, auth: dict[str, str]) -> tuple[float, float]:
    r = httpx.get(f"{base}/api/v1/borders/VN-CN/markers/1089", headers=auth, timeout=30)
    r.raise_for_status()
    lon, lat = r.json()["geometry"]["coordinates"]
    return float(lon), float(lat)


def main() -> None:
    global MARKER_1089
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--before", type=float, default=20.0, help="seconds of the baseline")
    args = parser.parse_args()
    lines = [
        f"# Exports under load, {date.today().isoformat()}",
        "",
        f"Command: `.venv/bin/python bench/exports_under_load.py --rows {args.rows} --before {args.before:g}`",
        f"Machine: {os.cpu_count()} cores; PostgreSQL and the service on the same machine.",
        "",
        "| export | wall s | MB | peak RSS MB (target < 200) | healthz p99 before / during (ms) | 500 m p99 before / during (ms) | within 3 x |",
        "|---|---|---|---|---|---|---|",
    ]
    with private_cluster() as (url, root):
        asyncio.run(prepare(url, args.rows))
        env = service_env(url, root)
        auth = {"Authorization": f"Bearer {token(env)}"}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(env, port)
        try:
            MARKER_1089 = marker_position(base, auth)
            before = asyncio.run(baseline(base, auth, args.before))
            for fmt in ("kml", "gpkg"):
                wall, size, during = asyncio.run(during_export(base, auth, fmt))
                peak = rss_kb(server.pid)["VmHWM"] / 1024
                cells = []
                within = True
                for name in ("healthz", "500 m"):
                    b, d = pct(before[name], 99), pct(during[name], 99)
                    within = within and d <= 3 * b
                    cells.append(f"{b:.1f} / {d:.1f} (n={len(during[name])})")
                lines.append(
                    f"| {fmt} of {args.rows:,} | {wall:.1f} | {size / 1e6:,.0f} | {peak:.0f}"
                    f" {'met' if peak < 200 else 'not met'} | {cells[0]} | {cells[1]} | {'met' if within else 'not met'} |"
                )
                print(lines[-1], flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    append_run(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
