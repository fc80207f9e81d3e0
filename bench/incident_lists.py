"""Two services' incident lists side by side: the same pages, and their times.

    .venv/bin/python bench/incident_lists.py --token T URL_A URL_B

Both services on the same bench database (say, the old code at URL_A and the new at URL_B,
as bench/alternate.py is used). Near lists (`GET /api/v1/incidents?near=...`) for markers
busy and quiet, radii, page sizes and filters common and rare, and newest-first lists of
several page sizes: it pages through each (up to 4 pages) on both and checks that they give
the same incidents in the same order with the same distances; then it times the first
page, the two services taking turns, best of 4, and prints the largest differences either
way and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

MARKERS = ("VN-CN:1089", "VN-CN:500", "VN-CN:1206", "VN-LA:222", "VN-CN:933")
FILTERS = ("", "&category=fire", "&status=reported", "&occurred_since=2025-01-01T00:00:00Z",
           "&category=marker_damage&status=resolved")  # fmt: skip


def pages(client: httpx.Client, query: str) -> list[list[tuple[str, float]]]:
    url: str | None = f"/api/v1/incidents?{query}"
    got: list[list[tuple[str, float]]] = []
    while url and len(got) < 4:
        body = client.get(url).raise_for_status().json()
        got.append([(f["id"], f["properties"].get("distance_m")) for f in body["features"]])
        url = next((x["href"] for x in body["links"] if x["rel"] == "next"), None)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("url_a")
    parser.add_argument("url_b")
    args = parser.parse_args()
    auth = {"Authorization": f"Bearer {args.token}"}
    a, b = (httpx.Client(base_url=u, headers=auth, timeout=120) for u in (args.url_a, args.url_b))
    queries = [f"near={m}&within_m={w}&limit={n}{f}"
               for m in MARKERS for w in (300, 1000, 2500) for n in (7, 100) for f in FILTERS]  # fmt: skip
    queries += [
        f"limit={n}{f}" for n in (100, 1000, 10_000) for f in (*FILTERS, "&province=lang-son")
    ]
    differ = [q for q in queries if pages(a, q) != pages(b, q)]
    timed = []
    for q in queries:
        best = {id(a): float("inf"), id(b): float("inf")}
        for client in (a, b) * 4:
            started = time.perf_counter()
            client.get(f"/api/v1/incidents?{q}").raise_for_status()
            best[id(client)] = min(best[id(client)], time.perf_counter() - started)
        timed.append((best[id(b)] - best[id(a)], best[id(a)] * 1000, best[id(b)] * 1000, q))
    timed.sort()
    print(f"{len(queries)} queries, {len(differ)} with other pages: {differ[:5]}")
    for diff, ms_a, ms_b, q in timed[-5:][::-1]:
        print(f"B slower by {diff * 1000:6.1f} ms: A {ms_a:6.1f}, B {ms_b:6.1f}  {q}")
    for diff, ms_a, ms_b, q in timed[:5]:
        print(f"B faster by {-diff * 1000:6.1f} ms: A {ms_a:6.1f}, B {ms_b:6.1f}  {q}")
    print(f"medians: A {statistics.median(t[1] for t in timed):.1f} ms, "
          f"B {statistics.median(t[2] for t in timed):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
