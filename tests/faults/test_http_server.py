"""Requests the HTTP server itself refuses, before the application sees them, still get a
problem (application/problem+json), from the real `bordermark serve` process."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path

import httpx

from tests.faults.conftest import FaultDatabase, Service


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


def _slow_service(fault_db: FaultDatabase, tmp_path: Path) -> Service:
    return Service(
        fault_db.url,
        tmp_path / "service.log",
        extra_env={"BORDERMARK_HEADER_TIMEOUT_S": "1", "BORDERMARK_BODY_IDLE_TIMEOUT_S": "1"},
    )


def _read_until_closed(conn: socket.socket, deadline: float) -> bytes:
    data = b""
    while time.monotonic() < deadline:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the server kept the connection open: {data!r}")


def test_slowloris_connections_are_answered_408_and_closed(
    fault_db: FaultDatabase, tmp_path: Path
) -> None:
    """Twenty clients that send a header line now and then, and one that sends half a body
    and stops: each is answered 408 and closed by the server (here after 1 s; the default
    is 10 s for headers, 30 s of a silent body), while others are served."""
    svc = _slow_service(fault_db, tmp_path)
    svc.start()
    try:
        slow = []
        for _ in range(20):
            conn = socket.create_connection(("127.0.0.1", svc.port), timeout=0.2)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
            slow.append(conn)
        body = socket.create_connection(("127.0.0.1", svc.port), timeout=0.2)
        body.sendall(
            b"POST /api/v1/incidents HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"type":'
        )
        deadline = time.monotonic() + 15  # ends a stuck wait; the server's limit is 1 s
        for i in range(4):  # a trickle of header lines does not keep them open
            for conn in slow:
                with contextlib.suppress(OSError):
                    conn.sendall(f"X-Slow-{i}: y\r\n".encode())
            time.sleep(0.3)
        answers = [_read_until_closed(conn, deadline) for conn in [*slow, body]]
        for answer in answers:
            status, _, rest = answer.partition(b"\r\n")
            assert status == b"HTTP/1.1 408 Request Timeout", answer
            assert b"application/problem+json" in rest
        assert httpx.get(svc.base + "/healthz", timeout=5).status_code == 200
    finally:
        for conn in [*slow, body]:
            conn.close()
        svc.stop()
