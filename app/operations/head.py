"""HEAD on every GET resource (RFC 9110 9.3.2): FastAPI's routes answer GET only, so HEAD
was a 405. The GET runs and its body is dropped; once the head of the answer is out, the
handler is told the client has gone, so a streamed export or event stream stops there
instead of running to its end for nobody."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCONNECT: Message = {"type": "http.disconnect"}


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        answered = asyncio.Event()

        async def receive_until_answered() -> Message:
            if answered.is_set():
                return DISCONNECT
            incoming = asyncio.ensure_future(receive())
            done = asyncio.ensure_future(answered.wait())
            finished, _ = await asyncio.wait({incoming, done}, return_when="FIRST_COMPLETED")
            if incoming in finished:
                done.cancel()
                return incoming.result()
            incoming.cancel()
            return DISCONNECT

        async def send_head_only(message: Message) -> None:
            if message["type"] == "http.response.start" and not answered.is_set():
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                answered.set()
            # Bodies are dropped: HEAD's answer is the GET's head alone.

        await self.app({**scope, "method": "GET"}, receive_until_answered, send_head_only)
