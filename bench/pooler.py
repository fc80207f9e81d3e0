"""Through PgBouncer against direct: the bbox page and POSTs per second, one instance
direct, one direct with the pooler's settings, one through PgBouncer (transaction mode),
two through PgBouncer.

    .venv/bin/python bench/pooler.py [--rows 20000] [--seconds 4] [--rounds 3]

One cluster with --rows synthetic incidents (bench/dataset.py), PgBouncer in front of it
(app/embedded_pgbouncer.py), four services started at once: the direct one, one direct
with BORDERMARK_DB_POOL_MODE=transaction, and two through the pooler. The set-ups take turns, --rounds
windows each, so each median covers the same stretches of the machine's time; the same
client (aiohttp, 4 concurrent pages, 8 concurrent POSTs, spread over the instances)
drives all four. Appends a section to bench/results/<day>.md."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from client import Http  # noqa: E402
from floors import BBOX_PAGE, dense_bbox  # noqa: E402
from measure import CONCURRENCY, sustained  # noqa: E402
from run import start_process, token  # noqa: E402
from scale_reports_exports import free_port, prepare, service_env  # noqa: E402
from sitting import append_run  # noqa: E402
from writes import POST_CONCURRENCY, post_body  # noqa: E402

from app.embedded_pg import EmbeddedCluster, ensure_postgis_installed, find_bin_dir  # noqa: E402
from app.embedded_pgbouncer import start_bouncer  # noqa: E402

SETUPS = [
    "direct, one instance",
    # The pooler's settings without the pooler: what the service's side of it costs.
    "direct, pooled-mode settings",
    "PgBouncer, one instance",
    "PgBouncer, two instances",
]


async def measure(
    bases: dict[str, list[str]], analyst: str, admin: str, bbox: str, seconds: float, rounds: int
) -> dict[tuple[str, str], list[float]]:
    """Rates per (set-up, scenario), one per round; the set-ups take turns each round."""
    found: dict[tuple[str, str], list[float]] = {}
    counter = itertools.count()
    async with Http(connections=64) as http:

        def bbox_page(spread: itertools.cycle[str]) -> Callable[[], Awaitable[bool]]:
            async def call() -> bool:
                r = await http.get(
                    f"{next(spread)}/ogc/collections/incidents/items",
                    params={"bbox": bbox, "limit": BBOX_PAGE},
                    headers={"Authorization": f"Bearer {analyst}"},
                )
                return r.status_code == 200

            return call

        def post(spread: itertools.cycle[str]) -> Callable[[], Awaitable[bool]]:
            async def call() -> bool:
                r = await http.post(
                    f"{next(spread)}/api/v1/incidents",
                    json=post_body(next(counter)),
                    headers={"Authorization": f"Bearer {admin}"},
                )
                return r.status_code == 201

            return call

        for _ in range(rounds):
            for setup, instances in bases.items():
                for scenario, make, concurrency in [
                    ("bbox page", bbox_page, CONCURRENCY),
                    ("POST", post, POST_CONCURRENCY),
                ]:
                    rate, _, errors = await sustained(
                        make(itertools.cycle(instances)), concurrency, seconds
                    )
                    assert errors == 0, f"{setup} {scenario}: {errors} errors"
                    found.setdefault((setup, scenario), []).append(rate)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ensure_postgis_installed()
    root = Path(tempfile.mkdtemp(prefix="bordermark-pooler-"))
    root.chmod(0o755)
    cluster = EmbeddedCluster(root=root / "pg", port=free_port(), bin_dir=find_bin_dir())
    cluster.start()
    procs: list[subprocess.Popen[bytes]] = []
    bouncer = None
    try:
        url = cluster.url("bench")
        asyncio.run(prepare(url.replace("postgresql://", "postgresql+asyncpg://"), args.rows))
        bouncer = start_bouncer(
            root / "pgbouncer", port=free_port(), backend_port=cluster.port, database="bench"
        )
        env = service_env(url, root)
        pooled = {
            **env, "DATABASE_URL": bouncer.url("bench"),
            "BORDERMARK_DB_POOL_MODE": "transaction", "BORDERMARK_LISTEN_DATABASE_URL": url,
        }  # fmt: skip
        analyst, admin = token(env, "analyst"), token(env, "admin")

        def serve(with_env: dict[str, str]) -> str:
            port = free_port()
            command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
            procs.append(start_process(command, with_env, f"http://127.0.0.1:{port}/healthz"))
            return f"http://127.0.0.1:{port}"

        direct, unpooled = serve(env), serve({**env, "BORDERMARK_DB_POOL_MODE": "transaction"})
        first, second = serve(pooled), serve(pooled)
        bases = dict(zip(SETUPS, [[direct], [unpooled], [first], [first, second]], strict=True))
        box = asyncio.run(dense_bbox(url))[0]
        bbox = ",".join(f"{v:.6f}" for v in box)
        rates = asyncio.run(measure(bases, analyst, admin, bbox, args.seconds, args.rounds))
    finally:
        for proc in procs:
            proc.kill()
        if bouncer is not None:
            bouncer.stop()
        cluster.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)
    write(args, rates)


def write(args: argparse.Namespace, rates: dict[tuple[str, str], list[float]]) -> None:
    lines = [
        "# Through PgBouncer against direct: bench/pooler.py",
        "",
        f"Command: `.venv/bin/python bench/pooler.py --rows {args.rows} --seconds "
        f"{args.seconds:g} --rounds {args.rounds}`. Medians of {args.rounds} windows of "
        f"{args.seconds:g} s (min-max); the set-ups took turns in each round.",
        "",
        "| scenario | set-up | per second | min-max | x direct |",
        "|---|---|---|---|---|",
    ]
    for scenario in ["bbox page", "POST"]:
        direct = statistics.median(rates[(SETUPS[0], scenario)])
        for setup in SETUPS:
            found = rates[(setup, scenario)]
            median = statistics.median(found)
            lines.append(
                f"| {scenario} | {setup} | {median:,.0f} | {min(found):,.0f}-{max(found):,.0f}"
                f" | {median / direct:.2f} |"
            )
    figures = {f"{setup} / {scenario}": v for (setup, scenario), v in rates.items()}
    print("\n".join(lines))
    print(append_run(lines, {"pooler": figures}))


if __name__ == "__main__":
    main()
