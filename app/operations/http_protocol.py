"""uvicorn's HTTP protocol, with its own 400 answered as a problem, and read timeouts.

A request the HTTP parser refuses (malformed, or a request line or headers past the
parser's limit, about 64 KiB here) never reaches the application: uvicorn answers it
itself, in text/plain. Every error the service gives is `application/problem+json`
(clients and the OpenAPI document rely on it), so this subclass overrides the one method
that writes that answer. uvicorn offers no setting for it; `send_400_response` is the
hook both of its protocol classes use.

uvicorn has no read timeouts: 50 slowloris connections, each sending a header line now
and then, stayed open for a full minute. Here a request's headers must all arrive within
`header_timeout_s` of its first byte (or of the connection), and its body may pause at
most `body_idle_timeout_s` between chunks (a field upload over a poor network is slow
but not silent); past either the connection is answered 408 and closed. A reverse proxy
in front should still buffer requests (docs/deploy.md, In front)."""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import PROBLEM_MEDIA_TYPE

_BODY = json.dumps(
    {
        "type": "/problems/bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "the HTTP request could not be read: it is malformed, or its request line "
        "or headers are too long (send long filters in fewer characters)",
    }
).encode("ascii")


_TIMEOUT_BODY = json.dumps(
    {
        "type": "/problems/request-timeout",
        "title": "Request timeout",
        "status": 408,
        "detail": "the request did not arrive in time; send it again",
    }
).encode("ascii")


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    # Set from the settings by `bordermark serve` (cli.configure_protocol) in each process.
    header_timeout_s: float = 10.0
    body_idle_timeout_s: float = 30.0
    _read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout_s)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_idle_timeout_s)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.body_idle_timeout_s)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if seconds > 0:
            self._read_timer = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if (
            self.cycle is not None
            and not self.cycle.response_complete
            and self.cycle.response_started
        ):
            self.transport.close()  # an answer is under way: nothing else can be sent
            return
        self._answer_and_close(b"408 Request Timeout", _TIMEOUT_BODY)

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(b"400 Bad Request", _BODY)

    def _answer_and_close(self, status: bytes, body: bytes) -> None:
        """A problem written straight to the socket (no application runs), then closed."""
        head = (
            b"HTTP/1.1 " + status + b"\r\n"
            + b"".join(name + b": " + value + b"\r\n" for name, value in self._default_headers())
            + b"content-type: " + PROBLEM_MEDIA_TYPE.encode("ascii")
            + b"\r\ncontent-length: " + str(len(body)).encode("ascii")
            + b"\r\nconnection: close\r\n\r\n"
        )  # fmt: skip
        self.transport.write(head + body)
        self.transport.close()

    def _default_headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = self.server_state.default_headers
        return headers
