"""The load generator's own share of a latency: one URL, one request at a time, fetched by
httpx, by aiohttp (bench/client.py) and by `wrk`, against a running service.

    .venv/bin/python bench/probe_clients.py URL --token T [--requests N]

Prints each client's median milliseconds per request (wrk's mean, one connection).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client import Http, wrk


async def median_ms(fetch: Callable[[], Awaitable[int]], requests: int) -> float:
    """The median milliseconds of `requests` calls of `fetch` (which answers a status)."""
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        status = await fetch()
        seconds.append(time.perf_counter() - started)
        assert status == 200, status
    return statistics.median(seconds) * 1000


async def medians(url: str, headers: dict[str, str], requests: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=60) as h, Http(timeout_s=60) as a:

        async def by_httpx() -> int:
            return (await h.get(url, headers=headers)).status_code

        async def by_aiohttp() -> int:
            return (await a.get(url, headers=headers)).status_code

        return {
            "httpx": await median_ms(by_httpx, requests),
            "aiohttp": await median_ms(by_aiohttp, requests),
        }


def wrk_mean_ms(url: str, headers: dict[str, str]) -> float | None:
    out = wrk(url, headers, connections=1, seconds=5)
    if out is None:
        return None
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
