"""The least a Python web server can do for the bench's 500 m request: a reference beside
the service and its SQL floor, so that each run says how much of the service's latency any
server on this stack pays and how much is the service's own.

A bare ASGI application under uvicorn (uvloop and httptools, as the service runs), with a
pool of asyncpg connections. `GET /near?lon=..&lat=..` runs the very statement the service
sends for the bench's request (floors.near_statement, built once per point, so no CQL2 is
parsed here) and answers its rows as a FeatureCollection joined the service's way
(app.geojson.collection_body). No routing, parameter validation, authentication, session,
middleware, logging or metrics: everything bordermark does besides is what the service
adds over this server, and what this server adds over the floor is HTTP, the event loop
and the rows' trip through a server process.

    DATABASE_URL=postgresql://... uvicorn bare_server:app --app-dir bench --port P
"""

from __future__ import annotations

import os
import urllib.parse

import asyncpg
from floors import NEAR_LIMIT, near_statement
from starlette.types import Receive, Scope, Send

from app.geojson import collection_body, page_features

_pool: asyncpg.Pool | None = None


async def _near(query: bytes) -> bytes:
    assert _pool is not None
    given = urllib.parse.parse_qs(query.decode())
    sql, args = near_statement(float(given["lon"][0]), float(given["lat"][0]))
    async with _pool.acquire() as conn:
        rows = await conn.fetch(sql, *args)
    features, more = page_features(rows, NEAR_LIMIT)
    return collection_body(
        features, f',"numberReturned":{len(features)},"more":{str(more).lower()}}}'
    )


async def _lifespan(receive: Receive, send: Send) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # jit off and UTC, as the service's connections (app/db.py create_engine)
            _pool = await asyncpg.create_pool(
                os.environ["DATABASE_URL"],
                min_size=4,
                max_size=4,
                server_settings={"jit": "off", "timezone": "UTC"},
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/near":
        status, body = 200, await _near(scope["query_string"])
    elif scope["path"] == "/healthz":
        status, body = 200, b'{"status":"ok"}'
    else:
        status, body = 404, b'{"status":"not found"}'
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/geo+json"),
                    (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
