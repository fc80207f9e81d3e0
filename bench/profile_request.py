"""One request's cost inside the service, without HTTP: the ASGI app called in-process.

    .venv/bin/python bench/profile_request.py --token T PATH [QUERY] [--calls N] [--profile]

DATABASE_URL names the database (a bench database, for figures that mean something). It
prints the mean milliseconds per call over N calls after a warm-up, and with --profile the
functions that took the most time of another N calls (cProfile; its own overhead roughly
doubles Python's share). The request log is off. Example, the 500 m query of `make bench`:

    bench/profile_request.py --token T /ogc/collections/incidents/items \\
      'limit=10000&filter=S_DWITHIN(geometry,%20POINT(103.4971%2022.5824),%20500,%20meters)'
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.types import Message, Scope

from app.main import create_app


async def run(args: argparse.Namespace) -> None:
    app = create_app()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {args.token}".encode()),
        (b"accept", b"application/geo+json"),
    ]

    async def call() -> None:
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": args.path,
            "raw_path": args.path.encode(), "query_string": args.query.encode(),
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80), "state": {},
        }  # fmt: skip
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
        status = sent[0]["status"]
        if status != 200:
            raise SystemExit(f"{args.path}: {status} {sent[-1].get('body', b'')[:300]!r}")

    async with app.router.lifespan_context(app):
        for _ in range(30):
            await call()
        started = time.perf_counter()
        for _ in range(args.calls):
            await call()
        print(f"{(time.perf_counter() - started) / args.calls * 1000:.2f} ms per call")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.calls):
                await call()
            profile.disable()
            pstats.Stats(profile).sort_stats(args.sort).print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("query", nargs="?", default="")
    parser.add_argument("--token", required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--sort", default="cumulative", help="the profile's order: cumulative or tottime"
    )
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
