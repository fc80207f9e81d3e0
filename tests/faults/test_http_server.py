"""Requests the HTTP server itself refuses, before the application sees them, still get a
problem (application/problem+json), from the real `bordermark serve` process."""

from __future__ import annotations

import json
import socket

from tests.faults.conftest import Service


def _raw(service: Service, request: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    return status, headers, body


def _assert_problem(status: str, headers: dict[str, str], body: bytes) -> dict[str, object]:
    assert status.startswith("HTTP/1.1 400"), status
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert problem["status"] == 400 and problem["type"] == "/problems/bad-request"
    assert problem["title"] and problem["detail"]
    return problem


def test_an_overlong_request_line_is_a_problem(service: Service) -> None:
    path = "/ogc/collections/incidents/items?filter=" + "x" * 200_000
    _assert_problem(*_raw(service, f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode()))


def test_a_malformed_request_is_a_problem(service: Service) -> None:
    _assert_problem(*_raw(service, b"GET /healthz HTTP/1.1\r\nHost t\r\nno colon here\r\n\r\n"))


def test_a_long_request_the_parser_accepts_reaches_the_application(service: Service) -> None:
    # 30 KB of path: under the parser's limit, so the application answers (no token: 401).
    path = "/ogc/collections/" + "a" * 30_000 + "/items"
    status, headers, body = _raw(
        service, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
    )
    assert status.startswith("HTTP/1.1 401"), status
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 401
