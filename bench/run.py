"""`make bench`: bordermark side by side with tipg and with the database's own floor, on a
synthetic dataset (default one million incidents along the VN-CN and VN-LA lines).

Method: a private PostgreSQL cluster in a temporary directory, migrated, demo data loaded,
N incidents and N/25 clearing works generated in SQL (bench/dataset.py: clustered at gates
and named sites of VN-CN and VN-LA, 2016-2026, most settled after realistic delays).
bordermark runs as `bordermark serve --workers B` (B = 1, its default: on two cores the
database needs the other, and one worker's submission coalescer gathers larger groups) and
tipg as `uvicorn tipg.main:app --workers W` (W = the cores) from its own virtualenv
(bench/.venv-tipg), both on loopback against the same database, rate limits off. The load
comes from this process (asyncio + aiohttp through bench/client.py; asyncpg for the SQL
floors; wrk for the POSTs and the cached tiles), which is not the system under test. Each
scenario runs for a bounded time; figures are medians of rounds.

Run: .venv/bin/python bench/run.py [--quick] [--rows N] [--seconds S] [--rounds R]
Appends to bench/results/<date>.md and .json (sitting.py). Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from client import Http  # noqa: E402
from floors import dense_bbox  # noqa: E402
from growth import growth_rows, near_growth  # noqa: E402
from measure import Row, Setup  # noqa: E402
from reads import bbox_rows, near_rows, tile_rows  # noqa: E402
from scale_reports_exports import export_run, free_port, prepare, rss_kb, summary_rounds  # noqa: E402
from sitting import append_run  # noqa: E402
from writes import batch_rows, post_rows  # noqa: E402

from app.embedded_pg import EmbeddedCluster, ensure_postgis_installed, find_bin_dir  # noqa: E402

TIPG_VENV = Path(os.environ.get("BORDERMARK_BENCH_TIPG_VENV", ROOT / "bench" / ".venv-tipg"))


def start_process(args: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            if httpx.get(health, timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not start")


def ensure_tipg() -> Path | None:
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "tipg", "uvicorn"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print("tipg could not be installed:", done.stderr[-500:])
            return None
    return python


def token(env: dict[str, str], role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "create", "--role", role, "--name", "bench"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


async def run_scenarios(
    args: argparse.Namespace,
    url: str,
    base: str,
    tipg: str | None,
    tipg_fair: str | None,
    bare: str,
    analyst: str,
    admin: str,
) -> list[Row]:
    """Every scenario but the summary, the export and the growth phase, in the table's order."""
    box, matches, (mlon, mlat) = await dense_bbox(url)
    async with Http(timeout_s=120, connections=32) as http:
        setup = Setup(args, http, url, base, analyst, admin, tipg, tipg_fair, bare)
        return [
            *await bbox_rows(setup, box, matches),
            *await near_rows(setup, (mlon, mlat)),
            *await post_rows(setup),
            *await batch_rows(setup),
            *await tile_rows(setup, (mlon, mlat)),
        ]


async def written_columns(url: str) -> list[str]:
    """The incidents' columns but the generated ones (extent_box: the service's index, not
    an incident's property): what the peers export, as the service does not."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'incidents' AND is_generated = 'NEVER' ORDER BY ordinal_position"
        )  # fmt: skip
        return [r[0] for r in rows]
    finally:
        await conn.close()


def ogr2ogr_export(url: str, out: Path, columns: list[str]) -> tuple[float, float] | None:
    """ogr2ogr's wall time and its own peak RSS (VmHWM, read until it exits)."""
    if not shutil.which("ogr2ogr"):
        return None
    fields = ",".join(c for c in columns if c != "geom")  # the geometry comes by itself
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["ogr2ogr", "-f", "GeoJSON", "-select", fields, str(out), f"PG:{url}", "incidents"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak_kb = 0
    while proc.poll() is None:
        try:
            peak_kb = max(peak_kb, rss_kb(proc.pid).get("VmHWM", 0))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    proc.wait()
    return time.perf_counter() - started, peak_kb / 1024


async def copy_floor(url: str, columns: list[str]) -> float:
    conn = await asyncpg.connect(url, server_settings={"jit": "off"})
    try:

        async def sink(chunk: bytes) -> None:  # the rows are read and dropped
            return None

        chosen = ", ".join(columns)
        started = time.perf_counter()
        await conn.copy_from_query(
            f"SELECT ST_AsGeoJSON(t.*) FROM (SELECT {chosen} FROM incidents) t",  # noqa: S608
            output=sink,
        )
        return time.perf_counter() - started
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 incidents, short rounds")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--no-tipg", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="tipg's uvicorn worker processes (default: the cores)",
    )
    parser.add_argument(
        "--bordermark-workers",
        type=int,
        default=1,
        help="bordermark's worker processes (default 1, the service's own default: the "
        "database needs the other core; its submission coalescer gathers larger groups)",
    )
    parser.add_argument(
        "--growth-only", action="store_true", help="only the 500 m query at 1M, 100k and 10k"
    )
    args = parser.parse_args()
    args.rows = args.rows or (20_000 if args.quick else 1_000_000)
    args.seconds = args.seconds or (4.0 if args.quick else 15.0)
    args.rounds = args.rounds or (3 if args.quick else 5)

    ensure_postgis_installed()
    tipg_python = None if args.no_tipg else ensure_tipg()
    root = Path(tempfile.mkdtemp(prefix="bordermark-bench-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root=root / "pg", port=free_port(), bin_dir=find_bin_dir())
    cluster.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = cluster.url("bench")
        sa_url = url.replace("postgresql://", "postgresql+asyncpg://")
        prep = asyncio.run(prepare(sa_url, args.rows))
        env = {
            **os.environ, "DATABASE_URL": url, "BORDERMARK_ENV": "test",
            "BORDERMARK_WEBHOOK_WORKER": "false", "BORDERMARK_RATE_LIMIT_PER_S": "0",
            "BORDERMARK_DATA_DIR": str(root / "data"),
            "BORDERMARK_DB_STATEMENT_TIMEOUT_MS": "3600000",
        }  # fmt: skip
        analyst, admin = token(env, "analyst"), token(env, "admin")
        port = free_port()
        serve = [sys.executable, "-m", "app.cli", "serve", "--port", str(port),
                 "--workers", str(args.bordermark_workers)]  # fmt: skip
        procs.append(start_process(serve, env, f"http://127.0.0.1:{port}/healthz"))
        base = f"http://127.0.0.1:{port}"
        if args.growth_only:
            total = int(asyncio.run(_count(url)))
            ways = asyncio.run(near_growth(url, base, analyst, args.rounds, total))
            write_results(args, prep, growth_rows(ways))
            return
        tipg = tipg_fair = None
        if tipg_python:
            tenv = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
                    "TIPG_MAX_FEATURES_PER_QUERY": "10000"}  # fmt: skip

            def start_tipg(tipg_env: dict[str, str], python: Path = tipg_python) -> str:
                tport = free_port()
                procs.append(start_process(
                    [str(python), "-m", "uvicorn", "tipg.main:app", "--port", str(tport),
                     "--workers", str(args.workers), "--log-level", "warning"],
                    tipg_env, f"http://127.0.0.1:{tport}/healthz"))  # fmt: skip
                return f"http://127.0.0.1:{tport}"

            tipg = start_tipg(tenv)
            # Fair settings: every feature in a tile (tipg stops at 10,000 by default, so
            # a dense z8 tile holds a thirtieth of the data), asked for without compression.
            tipg_fair = start_tipg({**tenv, "TIPG_MAX_FEATURES_PER_TILE": "100000000"})
        # The least any server on this stack could do for the 500 m request (a reference).
        bport = free_port()
        procs.append(start_process(
            [sys.executable, "-m", "uvicorn", "bare_server:app", "--app-dir", "bench",
             "--port", str(bport), "--log-level", "warning"],
            env, f"http://127.0.0.1:{bport}/healthz"))  # fmt: skip
        bare = f"http://127.0.0.1:{bport}"
        rows = asyncio.run(run_scenarios(args, url, base, tipg, tipg_fair, bare, analyst, admin))
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        procs.clear()

        summary = asyncio.run(summary_rounds(sa_url, args.rounds))
        p50 = statistics.median(summary) * 1000
        rows.append(Row("per-district summary, one year", "p50 ms", p50, None, "", None,
                        "< 300 ms", p50 < 300, f"min {min(summary) * 1000:.0f}, max {max(summary) * 1000:.0f} ms"))  # fmt: skip
        export = export_run(sa_url, root / "data")
        total = int(asyncio.run(_count(url)))
        ours_rate = total / export["wall_s"]
        columns = asyncio.run(written_columns(url))
        ogr = ogr2ogr_export(url, root / "ogr.geojson", columns)
        copy_s = asyncio.run(copy_floor(url, columns))
        peak_mb = export["peak_rss_kb"] / 1024
        if ogr:
            rows.append(Row(f"export {total:,} incidents as GeoJSON", "rows/s", ours_rate, total / ogr[0],
                            "ogr2ogr", ours_rate / (total / ogr[0]), ">= 2 x ogr2ogr",
                            ours_rate >= 2 * total / ogr[0], f"ogr2ogr {ogr[0]:.1f} s, {ogr[1]:.0f} MB RSS"))  # fmt: skip
        rows.append(Row(f"export {total:,} incidents as GeoJSON", "wall s", export["wall_s"], copy_s,
                        "COPY ST_AsGeoJSON floor", export["wall_s"] / copy_s, "<= 3 x COPY",
                        export["wall_s"] <= 3 * copy_s, ""))  # fmt: skip
        rows.append(Row("export: the service's peak RSS", "MB", peak_mb, None, "", None, "< 150 MB",
                        peak_mb < 150, f"RSS before the export {export['rss_before_kb'] / 1024:.0f} MB"))  # fmt: skip
        # Last: it thins the incidents to 100,000 and 10,000 (bench/growth_states.py).
        procs.append(start_process(serve, env, f"http://127.0.0.1:{port}/healthz"))
        rows += growth_rows(asyncio.run(near_growth(url, base, analyst, args.rounds, total)))
    finally:
        for proc in procs:
            proc.kill()
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)
    write_results(args, prep, rows)


async def _count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM incidents"))
    finally:
        await conn.close()


def fmt(v: float | None) -> str:
    """A figure as the table shows it: one decimal under 100, none from 100."""
    return "n/a" if v is None else (f"{v:,.1f}" if v < 100 else f"{v:,.0f}")


def write_results(args: argparse.Namespace, prep: dict[str, float], rows: list[Row]) -> None:
    flags = " ".join(
        f for f, on in (("--quick", args.quick), ("--growth-only", args.growth_only)) if on
    )
    command = "make bench" + (f" ARGS='{flags}'" if flags else "")
    lines = [
        f"# {command}",
        "",
        f"Command: `{command}` (`.venv/bin/python bench/run.py {'--quick ' if args.quick else ''}"
        f"{'--growth-only ' if args.growth_only else ''}"
        f"--rows {args.rows} --seconds {args.seconds:g} --rounds {args.rounds}`).",
        f"Machine: {os.cpu_count()} cores, PostgreSQL 15 + PostGIS and the services on the same "
        f"host, loopback; bordermark {args.bordermark_workers} worker process(es), tipg "
        f"{args.workers}. {args.rows:,} synthetic incidents generated in SQL in "
        f"{prep['generate_s']:.0f} s, with {prep.get('works', 0):,} clearing works in "
        f"{prep['works_s']:.0f} s (bench/dataset.py).",
        "",
        "| scenario | measure | bordermark | compared with | value | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "n/a" if r.met is None else ("met" if r.met else "**not met**")
        lines.append(
            f"| {r.scenario} | {r.measure} | {fmt(r.bordermark)} | {r.reference_name or '-'} | "
            f"{fmt(r.reference)} | {fmt(r.ratio) if r.ratio is not None else '-'} | {r.target} | {met} |"
        )
    lines += ["", "Notes per row:", ""]
    lines += [f"- {r.scenario} ({r.measure}): {r.note}" for r in rows if r.note]
    append_run(lines, {"args": vars(args), "prepare": prep, "rows": [asdict(r) for r in rows]})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
