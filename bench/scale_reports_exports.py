"""Scale check for the analysts' paths (issue 4): the per-district summary and the
streamed GeoJSON export over N synthetic incidents (default one million).

Method: a private PostgreSQL cluster (a temporary directory, its own port), migrated and
loaded with the demo dataset; N incidents and N/25 clearing works generated in SQL (not
through the API; bench/dataset.py says how they cluster and settle). Then:
- the summary for one year (2024, the last whole year of the district level) over VN-CN,
  run R times in-process: p50/min/max;
- the GeoJSON export of every incident from a uvicorn server in its own process, read by
  an httpx client; wall time, rows/s, and the server's peak RSS (VmHWM) before and after.

Run: .venv/bin/python bench/scale_reports_exports.py [--rows 1000000] [--rounds 5]
Appends to bench/results/<date>.md (sitting.py). Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dataset  # noqa: E402
from alembic import command  # noqa: E402
from sitting import append_run  # noqa: E402

from app.bootstrap import alembic_config  # noqa: E402
from app.config import Environment, Settings  # noqa: E402
from app.db import create_engine, create_sessionmaker  # noqa: E402
from app.embedded_pg import EmbeddedCluster, ensure_database, ensure_postgis_installed  # noqa: E402
from app.reports.queries import ReportQuery  # noqa: E402
from app.reports.service import district_report  # noqa: E402
from app.reports.tallies import compact  # noqa: E402
from seed.loader import load_demo  # noqa: E402


@contextlib.contextmanager
def private_cluster() -> Iterator[tuple[str, Path]]:
    """A throwaway PostgreSQL cluster in a temporary directory, on its own port: its
    `bench` database's SQLAlchemy URL and the directory (removed afterwards)."""
    root = Path(tempfile.mkdtemp(prefix="bordermark-bench-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(
        root=root / "pg", port=free_port(), bin_dir=ensure_postgis_installed()
    )
    cluster.start()
    try:
        yield cluster.url("bench").replace("postgresql://", "postgresql+asyncpg://"), root
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":")
            out[key] = int(value.split()[0])
    return out


async def prepare(url: str, rows: int) -> dict[str, float]:
    await ensure_database(url, "bench")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(
        env=Environment.test,
        DATABASE_URL=url,
        db_statement_timeout_ms=3_600_000,
        webhook_worker=False,
    )
    engine = create_engine(settings)
    async with create_sessionmaker(engine)() as session:
        await load_demo(session)
        # rows=0: the demo data alone (bench/map_load.py's first setting).
        timings = await dataset.generate(session, rows) if rows else {}
        # What the service's compactor does within seconds of start-up (reports/tallies.py).
        await compact(session)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))  # every table: the context reads markers, units
    await engine.dispose()
    return timings


async def summary_rounds(url: str, rounds: int) -> list[float]:
    settings = Settings(
        env=Environment.test,
        DATABASE_URL=url,
        webhook_worker=False,
        db_statement_timeout_ms=600_000,
    )
    engine = create_engine(settings, bulk=True)  # the pool the service's summaries use
    seconds = []
    async with create_sessionmaker(engine)() as session:
        q = ReportQuery(
            start=date(2024, 1, 1),
            end=date(2024, 12, 31),
            border="VN-CN",
            province=None,
            by_month=False,
        )
        for _ in range(rounds):
            started = time.perf_counter()
            await district_report(session, q)
            seconds.append(time.perf_counter() - started)
    await engine.dispose()
    return seconds


def service_env(url: str, root: Path) -> dict[str, str]:
    """The environment `serve` runs the service in for a bench on `url`: test settings,
    no webhook worker, no rate limit, its data under `root`."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "BORDERMARK_ENV": "test",
        "BORDERMARK_WEBHOOK_WORKER": "false",
        "BORDERMARK_RATE_LIMIT_PER_S": "0",
        "BORDERMARK_DATA_DIR": str(root / "data"),
    }


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """`bordermark serve` in a process of its own, once it answers /healthz."""
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    return server


def export_run(url: str, data_dir: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BORDERMARK_ENV": "test",
        "BORDERMARK_WEBHOOK_WORKER": "false",
        "BORDERMARK_DATA_DIR": str(data_dir),
        "BORDERMARK_DB_STATEMENT_TIMEOUT_MS": "3600000",
    }
    token = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "token",
                "create",
                "--role",
                "analyst",
                "--name",
                "bench",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = serve(env, port)
    try:
        before = rss_kb(server.pid)
        started = time.perf_counter()
        size = 0
        with httpx.stream(
            "GET",
            f"http://127.0.0.1:{port}/api/v1/exports/incidents",
            headers={"Authorization": f"Bearer {token}"},
            timeout=3600,
        ) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                size += len(chunk)
        wall = time.perf_counter() - started
        after = rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "wall_s": wall,
        "bytes": size,
        "rss_before_kb": before["VmRSS"],
        "peak_rss_kb": after["VmHWM"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with private_cluster() as (url, root):
        prep = asyncio.run(prepare(url, args.rows))
        summary = asyncio.run(summary_rounds(url, args.rounds))
        export = export_run(url, root / "data")
    total_rows = args.rows + 24  # plus the demo incidents
    lines = [
        f"# Reports and exports at scale, {date.today().isoformat()}",
        "",
        f"Command: `.venv/bin/python bench/scale_reports_exports.py --rows {args.rows} --rounds {args.rounds}`",
        f"Machine: {os.cpu_count()} cores; PostgreSQL and the service on the same machine.",
        "",
        f"- generated {args.rows:,} incidents in SQL in {prep['generate_s']:.1f} s and {prep['works']:,} clearing works in {prep['works_s']:.1f} s",
        f"- per-district summary, one year (2024), border VN-CN, {args.rounds} rounds: "
        f"p50 {statistics.median(summary) * 1000:.0f} ms, min {min(summary) * 1000:.0f} ms, max {max(summary) * 1000:.0f} ms",
        f"- GeoJSON export of all {total_rows:,} incidents: {export['wall_s']:.1f} s "
        f"({total_rows / export['wall_s']:,.0f} rows/s, {export['bytes'] / 1e6:,.0f} MB); "
        f"server RSS {export['rss_before_kb'] / 1024:.0f} MB before, peak {export['peak_rss_kb'] / 1024:.0f} MB",
    ]
    append_run(lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
