"""Settings: a DATABASE_URL naming several hosts (libpq's `h1:p1,h2:p2`) reaches both
SQLAlchemy, which wants them as repeated `host=` parameters, and asyncpg and the
PostgreSQL tools, which read libpq's form; the drivers parse them to the same hosts."""

from __future__ import annotations

import asyncpg.connect_utils
from sqlalchemy.dialects.postgresql.asyncpg import dialect
from sqlalchemy.engine import make_url

from app.config import Settings

MULTI = "postgresql://app:pw@10.0.0.1:5432,10.0.0.2:6432/bordermark?target_session_attrs=read-write"


def test_several_hosts_reach_sqlalchemy_and_asyncpg_alike() -> None:
    settings = Settings(DATABASE_URL=MULTI)
    _, engine_args = dialect().create_connect_args(make_url(settings.sqlalchemy_url()))
    assert engine_args["host"] == ["10.0.0.1", "10.0.0.2"]
    assert engine_args["port"] == [5432, 6432]
    assert engine_args["target_session_attrs"] == "read-write"
    assert engine_args["user"] == "app" and engine_args["password"] == "pw"
    hosts, params = asyncpg.connect_utils._parse_connect_dsn_and_args(
        dsn=settings.libpq_url(), host=None, port=None, user=None, password=None,
        passfile=None, database=None, ssl=None, service=None, servicefile=None,
        direct_tls=None, server_settings=None, target_session_attrs=None,
        krbsrvname=None, gsslib=None,
    )[:2]  # fmt: skip
    assert hosts == [("10.0.0.1", 5432), ("10.0.0.2", 6432)]
    assert params.database == "bordermark"


def test_one_host_is_left_as_it_is() -> None:
    settings = Settings(DATABASE_URL="postgres://app:pw@db:5432/bordermark?sslmode=require")
    assert (
        settings.sqlalchemy_url()
        == "postgresql+asyncpg://app:pw@db:5432/bordermark?sslmode=require"
    )
    assert settings.libpq_url() == "postgresql://app:pw@db:5432/bordermark?sslmode=require"
