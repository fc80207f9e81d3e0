"""The load generator's own share of a latency: one URL, one request at a time, fetched by
httpx, by aiohttp (bench/client.py) and by `wrk`, against a running service.

    .venv/bin/python bench/probe_clients.py URL --token T [--requests N]

Prints each client's median milliseconds per request (wrk's mean, one connection).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client import Http


async def medians(url: str, headers: dict[str, str], requests: int) -> dict[str, float]:
    out: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=60) as h:
        seconds = []
        for _ in range(requests):
            started = time.perf_counter()
            (await h.get(url, headers=headers)).raise_for_status()
            seconds.append(time.perf_counter() - started)
        out["httpx"] = statistics.median(seconds) * 1000
    async with Http(timeout_s=60) as a:
        seconds = []
        for _ in range(requests):
            started = time.perf_counter()
            assert (await a.get(url, headers=headers)).status_code == 200
            seconds.append(time.perf_counter() - started)
        out["aiohttp"] = statistics.median(seconds) * 1000
    return out


def wrk_mean_ms(url: str, headers: dict[str, str]) -> float | None:
    if not shutil.which("wrk"):
        return None
    args = ["wrk", "-t1", "-c1", "-d5s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    latency = next(line.split()[1] for line in out.splitlines() if "Latency" in line)
    for unit, ms in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):  # wrk: 511.81us, 8.10ms, 1.20s
        if latency.endswith(unit):
            return float(latency[: -len(unit)]) * ms
    raise ValueError(f"wrk latency {latency!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"}
    for name, ms in asyncio.run(medians(args.url, headers, args.requests)).items():
        print(f"{name:8} {ms:6.2f} ms (median of {args.requests})")
    wrk = wrk_mean_ms(args.url, headers)
    if wrk is not None:
        print(f"wrk      {wrk:6.2f} ms (mean, 5 s, one connection)")


if __name__ == "__main__":
    main()
