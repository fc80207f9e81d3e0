"""One pure-ASGI middleware for what every request needs: a request id (taken from a sane
`X-Request-ID` or made up, returned in the response), a body-size ceiling (413 before the
body is read), no NUL in the query (422 before any route runs), security headers, a JSON
log line and Prometheus figures per route."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import FieldError, invalid_input_status, problem_response
from app.operations.hosts import HostPolicy
from app.operations.logging import request_id_var
from app.operations.metrics import Metrics

log = logging.getLogger("bordermark.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
# HTML the service renders itself holds no script; the map page and /docs set their own
# (app/web/router.py), which this leaves as they are.
HTML_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class BodyTooLarge(StarletteHTTPException):
    """An HTTPException so FastAPI's body parsing passes it on (it turns other errors
    into 400) and the problem handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        hosts: HostPolicy | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.hosts = hosts or HostPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and REQUEST_ID.match(incoming) else uuid.uuid4().hex
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                is_html = headers.get("content-type", "").startswith("text/html")
                if is_html:
                    headers.setdefault("content-security-policy", HTML_CSP)
            await send(message)

        received = 0

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        try:
            refused = self.hosts.admit(scope)
            if refused is not None:
                await refused(scope, receive, send_with_headers)
                return
            declared = _header(scope, b"content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                await self._too_large()(scope, receive, send_with_headers)
                return
            if b"%00" in scope["query_string"]:
                await _nul_in_query(scope["query_string"], scope["path"])(
                    scope, receive, send_with_headers
                )
                return
            await self.app(scope, receive_bounded, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, seconds)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": template,
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id_var.reset(reset)

    def _too_large(self) -> Response:
        # The body that was not read is still on the connection: close it.
        return problem_response(
            413,
            slug="payload-too-large",
            title="Payload too large",
            detail=f"request bodies are limited to {self.max_body_bytes} bytes",
            headers={"connection": "close"},
        )


def _nul_in_query(query_string: bytes, path: str) -> Response:
    """No parameter of this API can hold a NUL: PostgreSQL's text cannot store one. Refused
    here, before any route runs, so that no route (an export that streams, say) gets as far
    as the database or the audit log with it."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    fields = sorted({name for name, value in pairs if "\x00" in name + value}) or ["query"]
    return problem_response(
        invalid_input_status(path),
        slug="invalid-input",
        title="Invalid input",
        detail="The query holds a NUL character, which no parameter accepts: " + ", ".join(fields),
        extra={
            "errors": [
                FieldError(name, "NUL characters are not allowed").as_dict() for name in fields
            ]
        },
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def client_address(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
