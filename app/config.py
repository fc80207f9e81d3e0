"""Settings from the environment (`DATABASE_URL`, `BORDERMARK_*`), validated at start-up.

Nothing here is built at import time: `get_settings()` reads the environment when called,
and `create_app(settings)` receives the result, so tests can pass their own.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERMARK_", extra="ignore")

    env: Environment = Environment.development
    # Unset means: the private PostgreSQL cluster under `data_dir` (development only).
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Path(".data")
    embedded_pg_port: int = Field(default=54329, ge=1024, le=65535)

    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, ge=1, le=65535, validation_alias="PORT")

    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_statement_timeout_ms: int = Field(default=30_000, ge=100)
    # Exports and summaries use their own pool with a longer timeout (see app/db.py).
    db_bulk_pool_size: int = Field(default=3, ge=1, le=50)
    # Sorts and hashes of summaries in memory, not on disk (the bulk pool's connections only).
    db_bulk_work_mem: str = Field(default="32MB", pattern=r"^\d+(kB|MB|GB)$")
    db_bulk_statement_timeout_ms: int = Field(default=600_000, ge=100)
    db_connect_timeout_s: float = Field(default=5.0, gt=0)
    db_pool_timeout_s: float = Field(default=10.0, gt=0)
    # "transaction": DATABASE_URL is a pooler in transaction mode (PgBouncer, docs/deploy.md):
    # no prepared statement outlives its transaction and no setting is sent at connect
    # (each transaction sets its own). "direct": a PostgreSQL server, or a session pooler.
    db_pool_mode: Literal["direct", "transaction"] = "direct"
    # A direct connection to the primary (never through the pooler, which cannot carry
    # LISTEN) for the change notices that keep each instance's token and tile caches
    # coherent. Unset: DATABASE_URL in direct mode; none in transaction mode (caches off).
    listen_database_url: str | None = None

    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=10_000, ge=1)
    max_vertices: int = Field(default=10_000, ge=2)
    max_batch_items: int = Field(default=500, ge=1, le=5_000)
    # The vertices of a batch's geometries together (413 past it: send smaller batches).
    max_batch_vertices: int = Field(default=100_000, ge=2)
    # A batch of at least batch_part_min_items per part is stored in this many parts at
    # once, a transaction each on a connection of its own (intake.submit_batch_and_commit); 1: the
    # whole batch in one transaction.
    batch_parts: int = Field(default=2, ge=1, le=8)
    batch_part_min_items: int = Field(default=100, ge=1)

    # Processes serving requests (`bordermark serve`); up to the cores the database leaves.
    workers: int = Field(default=1, ge=1, le=64)
    # Concurrent POSTs of incidents stored together, a transaction per group (coalesce.py).
    coalesce_submissions: bool = True
    coalesce_max_group: int = Field(default=64, ge=1, le=500)
    # Under load, rounds of the event loop the coalescer lets run before it closes a group,
    # so that requests already received join it (0: close at once; coalesce.py).
    coalesce_gather_rounds: int = Field(default=10, ge=0, le=1000)
    # Deliver webhooks from this process (one worker per process; they share the queue).
    webhook_worker: bool = True
    # Webhook targets on loopback, private or link-local addresses (events/targets.py);
    # unset: allowed in development and tests, refused in production.
    webhook_private_targets: bool | None = None
    webhook_max_subscriptions: int = Field(default=50, ge=1)
    # Seconds between foldings of the incident tallies' deltas (reports/tallies.py; 0: off,
    # the summary stays right but reads more delta rows).
    tally_compaction_s: float = Field(default=5.0, ge=0)

    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    similar_within_m: float = Field(default=200.0, gt=0, le=50_000)
    similar_within_days: int = Field(default=14, ge=0, le=3_650)
    # Rendered tiles kept in memory, dropped on the database's change notices (0: off).
    tile_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Resolved tokens kept in memory, dropped on the database's change notices
    # (auth/token_cache.py): authentication without a round trip.
    token_cache: bool = True
    # Past this many incidents in one tile, points are grouped into cells (tiles/dense.py).
    tile_max_features: int = Field(default=10_000, ge=1)
    # MapLibre's built files, from npm, copied into the package by `make web`
    # (tools/vendor-web), so that the wheel carries them; never fetched from a CDN.
    map_assets_dir: Path = Path(__file__).resolve().parent / "web/vendor/maplibre-gl"

    # Whole request bodies (attachments included); larger ones are 413 before being read.
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Per token: a steady rate with a burst (0 turns the limit off, e.g. for benchmarks).
    rate_limit_per_s: float = Field(default=50.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Over the rate, a request waits for its turn up to this long; only beyond it is it
    # refused (429). One client paging in sequence is slowed, never refused.
    rate_limit_max_delay_s: float = Field(default=2.0, ge=0, le=30)
    # The instances a load balancer spreads each token's requests over: each counts them
    # against its share of the rate and burst (1/N), so N instances do not give N times
    # the limit. Counted per process, not shared: a token kept on one instance gets 1/N.
    rate_limit_instances: int = Field(default=1, ge=1, le=64)
    # Per client address, for requests with a missing, unknown or revoked token.
    auth_failures_per_minute: float = Field(default=30.0, ge=0)
    # The address clients reach the service at (https://bordermark.example.vn): links and
    # redirects are built on it, whatever Host a request names (operations/hosts.py).
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^/?#@\s]+/?$")
    # Or the host names it answers for (another Host is a 400). With neither, production
    # answers for localhost only; development and tests take the request's Host.
    allowed_hosts: list[str] = Field(default_factory=list)
    # Proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
    # believed: the client's address (rate limits, logs) is then the one they forward for.
    # Empty: the peer's address, and those headers are ignored.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Origins allowed to call from a browser (CORS); empty means none (closed by default).
    cors_origins: list[str] = Field(default_factory=list)
    # A request's headers must arrive within this many seconds, and its body may pause at
    # most body_idle_timeout_s between chunks (408 and closed past either; 0: no limit).
    header_timeout_s: float = Field(default=10.0, ge=0)
    body_idle_timeout_s: float = Field(default=30.0, ge=0)
    # Seconds uvicorn waits for in-flight requests on SIGTERM.
    shutdown_grace_s: int = Field(default=30, ge=0)

    @model_validator(mode="after")
    def _cluster_keeps_its_port(self) -> Settings:
        """The private cluster's data directory remembers the port it was made on
        (embedded_pg.recorded_port): a later command without BORDERMARK_EMBEDDED_PG_PORT
        reaches that cluster, not another checkout's on the default port; one naming
        another port is refused rather than sent elsewhere."""
        if self.database_url is not None:
            return self
        from app.embedded_pg import recorded_port

        port = recorded_port(self.data_dir / "pg")
        if port is None or port == self.embedded_pg_port:
            return self
        if "embedded_pg_port" in self.model_fields_set:
            raise ValueError(
                f"the cluster in {self.data_dir / 'pg'} was made on port {port}, but "
                f"BORDERMARK_EMBEDDED_PG_PORT={self.embedded_pg_port} names another: unset "
                f"it, or use another BORDERMARK_DATA_DIR for a second cluster"
            )
        self.embedded_pg_port = port
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env is Environment.production and "*" in self.cors_origins:
            raise ValueError("BORDERMARK_CORS_ORIGINS='*' is refused in production: name them")
        if self.default_page_size > self.max_page_size:
            raise ValueError("BORDERMARK_DEFAULT_PAGE_SIZE exceeds BORDERMARK_MAX_PAGE_SIZE")
        if self.env is Environment.production and not self.database_url:
            raise ValueError(
                "DATABASE_URL is required in production; the embedded cluster is for development"
            )
        return self

    @property
    def allows_private_webhook_targets(self) -> bool:
        if self.webhook_private_targets is not None:
            return self.webhook_private_targets
        return self.env is not Environment.production

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def uses_embedded_cluster(self) -> bool:
        return self.database_url is None

    def sqlalchemy_url(self) -> str:
        """The async SQLAlchemy URL: DATABASE_URL (any postgres scheme) or the embedded cluster.
        Several hosts (`h1:5432,h2:5432`, as libpq writes them) become SQLAlchemy's
        repeated `host=` parameters."""
        if self.database_url is None:
            return f"postgresql+asyncpg://postgres@127.0.0.1:{self.embedded_pg_port}/bordermark"
        return hosts_as_parameters(to_asyncpg_url(self.database_url))

    def libpq_url(self) -> str:
        """The same database as a plain postgresql:// URL (for raw asyncpg connections and
        the PostgreSQL tools), several hosts kept as libpq and asyncpg read them."""
        if self.database_url is None:
            return f"postgresql://postgres@127.0.0.1:{self.embedded_pg_port}/bordermark"
        return to_libpq_url(self.database_url)

    def listen_url(self) -> str | None:
        """Where change notices are heard (a direct connection), or None: caches stay off."""
        if self.listen_database_url is not None:
            return to_libpq_url(self.listen_database_url)
        return self.libpq_url() if self.db_pool_mode == "direct" else None


def to_asyncpg_url(url: str) -> str:
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got scheme of {url.split(':')[0]!r}")


def to_libpq_url(url: str) -> str:
    """Any postgres scheme as `postgresql://`, hosts and parameters as given."""
    return "postgresql://" + to_asyncpg_url(url).removeprefix("postgresql+asyncpg://")


def hosts_as_parameters(url: str) -> str:
    """`scheme://user@h1:p1,h2:p2/db?x=y` as `scheme://user@/db?host=h1:p1&host=h2:p2&x=y`:
    SQLAlchemy's URL names one host in its authority, several as parameters; with
    `target_session_attrs=read-write` asyncpg then connects to whichever is the primary."""
    parts = urlsplit(url)
    user, at, hosts = parts.netloc.rpartition("@")
    if "," not in hosts:
        return url
    named = [("host", host) for host in hosts.split(",")]
    query = urlencode(named + parse_qsl(parts.query), safe=":")
    return urlunsplit((parts.scheme, f"{user}{at}", parts.path, query, parts.fragment))


def get_settings() -> Settings:
    return Settings()
