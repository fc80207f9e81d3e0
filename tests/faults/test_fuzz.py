"""Schemathesis against the running service and its OpenAPI document, every operation,
with an admin token: generated requests (valid and invalid), no 5xx, and every response's
status, media type and body as the document declares. Bounded here; `make fuzz` runs it
with many more examples per operation."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Tokens
from tests.faults.conftest import FaultDatabase, Service

EXAMPLES = int(os.environ.get("BORDERMARK_FUZZ_EXAMPLES", "5"))


@pytest.mark.parametrize("methods", [["GET"], ["POST", "PATCH", "PUT", "DELETE"]])
async def test_openapi_fuzzing(
    fault_db: FaultDatabase, tokens: Tokens, tmp_path: Path, methods: list[str]
) -> None:
    # The fuzzer also sends requests without a token on purpose: no failed-auth limit here.
    svc = Service(fault_db.url, tmp_path / "service.log")
    await asyncio.to_thread(svc.start)
    try:
        cli = Path(sys.executable).parent / "schemathesis"
        args = [
            str(cli),
            "run",
            f"{svc.base}/openapi.json",
            "-H",
            f"Authorization: Bearer {tokens.admin}",
            "--max-examples",
            str(EXAMPLES),
            "--checks",
            "not_a_server_error,response_schema_conformance,"
            "status_code_conformance,content_type_conformance",
            "--no-color",
            "--request-timeout",
            "30",
            # A server-sent event stream stays open by design (tests/events covers it).
            "--exclude-path",
            "/api/v1/events",
        ]
        for method in methods:
            args += ["--include-method", method]
        done = await asyncio.to_thread(
            subprocess.run, args, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
        assert " passed" in done.stdout and "generated" in done.stdout
    finally:
        await asyncio.to_thread(svc.stop)
