"""uvicorn's HTTP protocol, with its own 400 answered as a problem.

A request the HTTP parser refuses (malformed, or a request line or headers past the
parser's limit, about 64 KiB here) never reaches the application: uvicorn answers it
itself, in text/plain. Every error the service gives is `application/problem+json`
(clients and the OpenAPI document rely on it), so this subclass overrides the one method
that writes that answer. uvicorn offers no setting for it; `send_400_response` is the
hook both of its protocol classes use."""

from __future__ import annotations

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


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        head = (
            b"HTTP/1.1 400 Bad Request\r\n"
            + b"".join(name + b": " + value + b"\r\n" for name, value in self._default_headers())
            + b"content-type: "
            + PROBLEM_MEDIA_TYPE.encode("ascii")
            + b"\r\ncontent-length: "
            + str(len(_BODY)).encode("ascii")
            + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + _BODY)
        self.transport.close()

    def _default_headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = self.server_state.default_headers
        return headers
