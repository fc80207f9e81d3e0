"""The bench's HTTP client: aiohttp behind the few calls the scenarios make.

The load generator shares the machine's two cores with the services and the database, and
its own time per request is in every latency it measures. On the 500 m query (one request
at a time, about 40 features) httpx took 14-15 ms a request where aiohttp took about 11
and `wrk` about 8, against the same service (measured 2026-12-02, bench/README.md): httpx's
own handling was a third of what the bench called the service's latency. aiohttp parses
HTTP in C.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


class Http:
    """`async with Http() as http: await http.get(url, params=..., headers=...)`: the whole
    body is read (and decompressed, as a browser would) before the call returns."""

    def __init__(self, timeout_s: float = 120, connections: int = 32) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Http:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            connector=aiohttp.TCPConnector(limit=self._connections),
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._session is not None
        await self._session.close()

    async def get(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        return await self._call("GET", url, params=params, headers=headers)

    async def post(
        self,
        url: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        """`json` is encoded on the way; `body` (JSON already encoded) is sent as it is."""
        if body is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        return await self._call("POST", url, json=json, headers=headers, data=body)

    async def _call(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
    ) -> Answer:
        assert self._session is not None, "use Http() in `async with`"
        query = {k: str(v) for k, v in (params or {}).items()}
        async with self._session.request(
            method, url, params=query, headers=headers, json=json, data=data
        ) as response:
            body = await response.read()
            return Answer(response.status, response.headers, body)


def wrk(
    url: str,
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float,
    script: Path | None = None,
) -> str | None:
    """What `wrk` (one thread) prints after loading one URL, with a Lua `script` that makes
    the requests when given; None when wrk is not installed."""
    if not shutil.which("wrk"):
        return None
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    if script is not None:
        args += ["-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    return subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
