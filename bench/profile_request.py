"""One request's cost inside the service, without HTTP: the ASGI app called in-process.

    .venv/bin/python bench/profile_request.py --token T PATH [QUERY] [--calls N] [--profile]
    .venv/bin/python bench/profile_request.py --token T --post-incident /api/v1/incidents
    .venv/bin/python bench/profile_request.py --token T --batch 500 /api/v1/incidents:batch

--post-incident sends a new incident each call, as `make bench`'s POST scenario does (a
writer's token; one at a time, so each is a group of one in the coalescer); --batch N a
batch of N new incidents each call, as its batch scenario does.

DATABASE_URL names the database (a bench database, for figures that mean something). It
prints the mean milliseconds per call over N calls after a warm-up (and the service's own
CPU time in them: the rest is PostgreSQL's and the wait for it), and with --profile the
functions that took the most time of another N calls (cProfile; its own overhead roughly
doubles Python's share). The request log is off. Example, the 500 m query of `make bench`:

    bench/profile_request.py --token T /ogc/collections/incidents/items \\
      'limit=10000&filter=S_DWITHIN(geometry,%20POINT(103.4971%2022.5824),%20500,%20meters)'
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.types import Message, Scope
from writes import post_body  # the bench's POST body

from app.main import create_app


async def run(args: argparse.Namespace) -> None:
    app = create_app()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {args.token}".encode()),
        (b"accept", b"application/geo+json"),
    ]

    expected = 201 if args.post_incident else 200
    posting = args.post_incident or args.batch > 0

    def request_body() -> bytes:
        if args.batch:
            return json.dumps({"features": [post_body(n) for n in range(args.batch)]}).encode()
        return json.dumps(post_body(0)).encode() if args.post_incident else b""

    async def call() -> None:
        body = request_body()
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST" if posting else "GET", "scheme": "http",
            "path": args.path,
            "raw_path": args.path.encode(), "query_string": args.query.encode(),
            "root_path": "", "client": ("127.0.0.1", 50000),
            "headers": [*headers, (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "server": ("127.0.0.1", 80), "state": {},
        }  # fmt: skip
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await app(scope, receive, send)
        status = sent[0]["status"]
        if status != expected:
            raise SystemExit(f"{args.path}: {status} {sent[-1].get('body', b'')[:300]!r}")

    async with app.router.lifespan_context(app):
        for _ in range(3 if args.batch else 30):  # warm-up
            await call()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.calls):
            await call()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{wall / args.calls * 1000:.2f} ms per call, of which this process's CPU "
              f"{cpu / args.calls * 1000:.2f} ms")  # fmt: skip
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
        "--post-incident", action="store_true", help="POST a new incident each call (201)"
    )
    parser.add_argument(
        "--batch", type=int, default=0, metavar="N",
        help="POST a batch of N new incidents each call (to /api/v1/incidents:batch, 200)",
    )  # fmt: skip
    parser.add_argument(
        "--sort", default="cumulative", help="the profile's order: cumulative or tottime"
    )
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
