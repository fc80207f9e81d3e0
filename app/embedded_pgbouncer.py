"""A private PgBouncer in transaction pooling mode in front of a local cluster, as the
scale-out tests (tests/cluster) and the pooler bench (bench/pooler.py) run it: Debian's
package (1.18), trust authentication on loopback, run as the `postgres` user when we are
root (embedded_pg.as_postgres)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from app.embedded_pg import as_postgres

PGBOUNCER = "/usr/sbin/pgbouncer"


@dataclass
class EmbeddedBouncer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_bouncer(
    root: Path, *, port: int, backend_port: int, database: str, pool_size: int = 12
) -> EmbeddedBouncer:
    """PgBouncer on `port`, pooling `database` of the cluster on `backend_port`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.txt").write_text('"postgres" ""\n')
    (root / "pgbouncer.ini").write_text(
        f"""[databases]
{database} = host=127.0.0.1 port={backend_port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root}/users.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = {pool_size}
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""
    )
    if os.geteuid() == 0:  # it runs as postgres (as_postgres): its files are postgres's
        shutil.chown(root, "postgres")
        for child in root.iterdir():
            shutil.chown(child, "postgres")
    command = as_postgres(shutil.which("pgbouncer") or PGBOUNCER, str(root / "pgbouncer.ini"))
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    bouncer = EmbeddedBouncer(root, port, process)
    deadline = time.monotonic() + 15
    while f"listening on 127.0.0.1:{port}" not in bouncer.log():
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {bouncer.log()}")
        if time.monotonic() > deadline:
            bouncer.stop()
            raise RuntimeError(f"pgbouncer did not start: {bouncer.log()}")
        time.sleep(0.1)
    return bouncer
