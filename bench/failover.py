"""The time from a standby's promotion to the first write the service accepts again.

    .venv/bin/python bench/failover.py [--rounds 3]

Each round: a primary with the demo data and a synchronous standby
(pg_basebackup), one service given both hosts (`target_session_attrs=read-write`), a
client POSTing reports one after another; the primary killed (-9), the standby promoted
(`pg_ctl promote -w`) a second later. Measured from the promotion's return to the first
201, and from the kill to it. Appends a section to bench/results/<day>.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from run import start_process, token  # noqa: E402
from scale_reports_exports import free_port, prepare, service_env  # noqa: E402
from sitting import append_run  # noqa: E402
from writes import post_body  # noqa: E402

from app.embedded_pg import (  # noqa: E402
    EmbeddedCluster,
    EmbeddedClusterError,
    ensure_postgis_installed,
    find_bin_dir,
    make_synchronous,
    start_standby,
)


async def first_write_after(base: str, admin: str, cut: float) -> float:
    """Seconds from `cut` (time.monotonic) to the first 201, POSTing one after another."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        n = 0
        while True:
            n += 1
            try:
                r = await http.post(
                    "/api/v1/incidents",
                    json=post_body(n),
                    headers={"Authorization": f"Bearer {admin}"},
                )
                if r.status_code == 201 and time.monotonic() > cut:
                    return time.monotonic() - cut
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)


def one_round(root: Path) -> tuple[float, float]:
    """(seconds from the promotion to the first accepted write, from the kill to it)."""
    primary = EmbeddedCluster(root=root / "primary", port=free_port(), bin_dir=find_bin_dir())
    standby: EmbeddedCluster | None = None
    service: subprocess.Popen[bytes] | None = None
    try:
        primary.start()
        asyncio.run(prepare(primary.url("bench").replace("postgresql", "postgresql+asyncpg"), 0))
        env = {**service_env(primary.url("bench"), root), "BORDERMARK_DB_CONNECT_TIMEOUT_S": "2"}
        admin = token(env, "admin")
        standby = start_standby(primary, root / "standby", free_port())
        asyncio.run(make_synchronous(primary.url("postgres")))
        both = (
            f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}"
            "/bench?target_session_attrs=read-write"
        )
        port = free_port()
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
        service = start_process(
            command, {**env, "DATABASE_URL": both}, f"http://127.0.0.1:{port}/healthz"
        )
        base = f"http://127.0.0.1:{port}"
        asyncio.run(first_write_after(base, admin, time.monotonic()))  # it writes now
        primary.kill9()
        killed = time.monotonic()
        time.sleep(1)
        standby.promote()
        promoted = time.monotonic()
        after = asyncio.run(first_write_after(base, admin, promoted))
        return after, promoted + after - killed
    finally:
        if service is not None:
            service.kill()
        for cluster in (standby, primary):
            if cluster is not None:
                with contextlib.suppress(EmbeddedClusterError):  # the killed one may be gone
                    cluster.stop(mode="immediate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ensure_postgis_installed()
    found = []
    for n in range(args.rounds):
        root = Path(tempfile.mkdtemp(prefix="bordermark-failover-bench-"))
        root.chmod(0o755)
        try:
            found.append(one_round(root))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(f"round {n + 1}: {found[-1][0]:.2f} s after the promotion")
    promoted = [a for a, _ in found]
    killed = [b for _, b in found]
    lines = [
        "# Failover: the first accepted write after the promotion: bench/failover.py",
        "",
        f"Command: `.venv/bin/python bench/failover.py --rounds {args.rounds}`. A primary "
        "and a synchronous standby, the service given both hosts, a client POSTing one "
        "report after another; the primary killed (-9), the standby promoted a second later.",
        "",
        "| measured | median s | min-max s |",
        "|---|---|---|",
        f"| promotion to the first accepted write | {statistics.median(promoted):.2f} | "
        f"{min(promoted):.2f}-{max(promoted):.2f} |",
        f"| kill to the first accepted write | {statistics.median(killed):.2f} | "
        f"{min(killed):.2f}-{max(killed):.2f} |",
    ]
    print("\n".join(lines))
    print(append_run(lines, {"failover": {"after_promotion_s": promoted, "after_kill_s": killed}}))


if __name__ == "__main__":
    main()
