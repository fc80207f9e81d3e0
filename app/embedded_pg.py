"""The private PostgreSQL + PostGIS cluster that `make run` and the tests start themselves.

Debian's server binaries live in /usr/lib/postgresql/<major>/bin. initdb refuses to run as
root, so as root every server command runs as the `postgres` user on a directory it owns.
The cluster listens on 127.0.0.1:<port> and on its own socket directory, so it never
collides with a system cluster.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POSTGIS_PACKAGE = "postgresql-15-postgis-3"


class EmbeddedClusterError(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL server bin directory."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise EmbeddedClusterError(
        f"PostgreSQL server binaries not found: install {POSTGIS_PACKAGE} "
        "(it brings postgresql-15) or set DATABASE_URL to an existing PostGIS database"
    )


def postgis_installed(bin_dir: Path) -> bool:
    major = bin_dir.parent.name
    return Path(f"/usr/share/postgresql/{major}/extension/postgis.control").exists()


APT_LOCK_TIMEOUT_S = 300


def recorded_port(root: Path) -> int | None:
    """The port of the cluster under `root`: the one written when it was made, or, for a
    cluster made before that was written, the one it runs on (postmaster.pid's 4th line)."""
    for path, line in ((root / "port", 0), (root / "data" / "postmaster.pid", 3)):
        try:
            return int(path.read_text(encoding="utf-8").splitlines()[line])
        except (OSError, IndexError, ValueError):
            continue
    return None


def ensure_postgis_installed() -> Path:
    """Return the server bin dir, installing PostGIS from Debian packages when root can."""
    try:
        bin_dir = find_bin_dir()
        if postgis_installed(bin_dir):
            return bin_dir
    except EmbeddedClusterError:
        pass
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise EmbeddedClusterError(
            f"PostGIS is not installed. Install it with `apt-get install -y {POSTGIS_PACKAGE}` "
            "(as root), or set DATABASE_URL to a PostgreSQL database with PostGIS available."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another apt or dpkg (unattended upgrades, a second install) holds the lock for a
    # while: wait for it (bounded) instead of failing at once with exit 100.
    apt_cmd = [apt, "-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_S}", "-qq"]
    install = [*apt_cmd, "install", "-y", POSTGIS_PACKAGE]
    if subprocess.run(install, env=env, check=False).returncode != 0:  # noqa: S603
        updated = subprocess.run([*apt_cmd, "update"], env=env, check=False)  # noqa: S603
        if updated.returncode != 0 or subprocess.run(install, env=env, check=False).returncode:  # noqa: S603
            raise EmbeddedClusterError(
                f"could not install {POSTGIS_PACKAGE} with apt-get (its message is above). "
                f"If another package manager held the lock for over {APT_LOCK_TIMEOUT_S} s, "
                "wait for it and run again; or set DATABASE_URL to a database with PostGIS."
            )
    bin_dir = find_bin_dir()
    if not postgis_installed(bin_dir):
        raise EmbeddedClusterError(f"{POSTGIS_PACKAGE} installed but postgis.control not found")
    return bin_dir


@dataclass(frozen=True)
class EmbeddedCluster:
    root: Path  # everything of the cluster lives below here
    port: int
    bin_dir: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "bordermark") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(as_postgres(*args), capture_output=True, text=True, check=False)  # noqa: S603
        if check and result.returncode != 0:
            raise EmbeddedClusterError(
                f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        # A cluster under a fresh clone: postgres must be able to reach it through the tree.
        self.root.chmod(0o700)

    def is_initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        result = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "status", check=False
        )
        return result.returncode == 0

    def start(self) -> None:
        """Initialise when new, start when stopped; a running cluster is left as it is."""
        self._prepare_dirs()
        if not self.is_initialised():
            self._run(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.pgdata),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        (self.root / "port").write_text(f"{self.port}\n", encoding="utf-8")
        if self.is_running():
            return
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=on -c max_connections=200"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.pgdata),
            "-o",
            options,
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "start",
        )
        deadline = time.monotonic() + 30
        while not self.is_running():
            if time.monotonic() > deadline:
                raise EmbeddedClusterError(f"cluster did not start; see {self.log_file}")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-m", mode, "-w", "stop"
            )

    def kill9(self) -> None:
        """Kill the postmaster as a crash would; its backends follow it out."""
        postmaster = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, 9)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(postmaster, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def promote(self) -> None:
        """A standby takes writes (pg_ctl promote, waiting until it does)."""
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-w", "promote")


def as_postgres(*cmd: str) -> list[str]:
    """The command as the `postgres` user when we are root: initdb, the server, its tools
    and PgBouncer all refuse to run as root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


def start_standby(primary: EmbeddedCluster, root: Path, port: int) -> EmbeddedCluster:
    """A streaming standby of `primary` (pg_basebackup -R), started on `port`. `-c fast`:
    by default pg_basebackup waits for a spread checkpoint, minutes on an idle server."""
    standby = EmbeddedCluster(root=root, port=port, bin_dir=primary.bin_dir)
    standby._prepare_dirs()
    standby._run(
        str(primary.bin_dir / "pg_basebackup"), "-D", str(standby.pgdata), "-R",
        "-X", "stream", "-c", "fast", "-h", "127.0.0.1", "-p", str(primary.port),
        "-U", "postgres",
    )  # fmt: skip
    standby.start()
    return standby


async def make_synchronous(primary_url: str, within_s: float = 30) -> None:
    """Wait until a standby streams from the primary, then make it synchronous: from then on
    the primary acknowledges a commit once the standby has it."""
    import asyncpg

    conn = await asyncpg.connect(primary_url)
    deadline = time.monotonic() + within_s

    async def until(sql: str) -> None:
        while not await conn.fetchval(sql):
            if time.monotonic() > deadline:
                raise EmbeddedClusterError(f"no standby within {within_s} s: {sql}")
            await asyncio.sleep(0.1)

    try:
        await until("SELECT count(*) FROM pg_stat_replication")
        await conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        await conn.execute("SELECT pg_reload_conf()")
        await until("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
    finally:
        await conn.close()


def embedded_cluster(data_dir: Path, port: int) -> EmbeddedCluster:
    return EmbeddedCluster(root=(data_dir / "pg").resolve(), port=port, bin_dir=find_bin_dir())


async def ensure_database(server_url: str, name: str) -> None:
    """Create database `name` on the server of `server_url` when it does not exist."""
    import asyncpg

    base = server_url.replace("postgresql+asyncpg://", "postgresql://")
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Identifiers cannot be bound parameters; quote_ident makes the name safe.
            quoted = await conn.fetchval("SELECT quote_ident($1)", name)
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()
