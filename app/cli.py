"""The bordermark service and its administration.

Every command talks to the database the service uses: DATABASE_URL, or the private
cluster under BORDERMARK_DATA_DIR (started on demand) when it is unset. `bordermark
COMMAND --help` describes each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.auth.models import Role
from app.config import Settings, get_settings
from app.errors import DomainError


def _with_session(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    from app.bootstrap import start_database
    from app.db import create_engine, create_sessionmaker

    start_database(settings)

    async def run() -> Any:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from app.bootstrap import start_database
    from app.main import create_app
    from app.operations.http_protocol import ProblemHttpToolsProtocol
    from app.operations.logging import configure_json_logging, uvicorn_log_config

    start_database(settings)
    configure_json_logging()
    configure_protocol(settings)
    host, port = args.host or settings.host, args.port or settings.port
    workers = args.workers or settings.workers
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": False,
        "http": ProblemHttpToolsProtocol,
        "log_config": uvicorn_log_config(),
        # The request middleware logs every request with its id and timing.
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_s,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **common)
    else:
        # Worker processes build their app from the same environment (worker_app).
        uvicorn.run("app.cli:worker_app", factory=True, workers=workers, **common)


def worker_app() -> Any:
    """The app of one worker process of `serve --workers N`: JSON logs, settings from the
    environment (the parent started the embedded cluster when there is one)."""
    from app.config import get_settings
    from app.main import create_app
    from app.operations.logging import configure_json_logging

    configure_json_logging()
    settings = get_settings()
    configure_protocol(settings)
    return create_app(settings)


def configure_protocol(settings: Settings) -> None:
    """The HTTP protocol's read timeouts, in this process (each worker sets its own)."""
    from app.operations.http_protocol import ProblemHttpToolsProtocol

    ProblemHttpToolsProtocol.header_timeout_s = settings.header_timeout_s
    ProblemHttpToolsProtocol.body_idle_timeout_s = settings.body_idle_timeout_s


def _port_must_be_free(host: str, port: int) -> None:
    """Before anything is printed as ready: a port another process holds would otherwise
    end `make run` after its banner, in uvicorn's Errno 98."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            sys.exit(
                f"bordermark: cannot serve on {host}:{port}: {exc.strerror}. Another process "
                f"holds it (another `make run`?): stop it, or choose another: PORT={port + 1} "
                "make run"
            )


def cmd_bootstrap(settings: Settings, args: argparse.Namespace) -> None:
    from app.bootstrap import DEMO_TOKENS, bootstrap

    _port_must_be_free(settings.host, settings.port)
    tokens = asyncio.run(bootstrap(settings))
    base = f"http://{settings.host}:{settings.port}"
    print(f"\nbordermark: serving at {base}  (map: {base}/map, API docs: {base}/docs)")
    if tokens:
        print(
            "demo tokens (development only; kept in", settings.data_dir / "demo-tokens.json", "):"
        )
        for role, token in tokens.items():
            scope = DEMO_TOKENS[role]
            where = (
                f"district {scope['district']}"
                if scope["district"]
                else f"province {scope['province']}"
                if scope["province"]
                else "everywhere"
            )
            print(f"  {role:9} {where:20} {token}")
        print(
            f"\ntry: curl -H 'Authorization: Bearer {tokens['admin']}' "
            f"{base}/api/v1/borders/VN-CN/markers/1088/2\n"
        )


def cmd_db(settings: Settings, args: argparse.Namespace) -> None:
    from alembic import command

    from app.bootstrap import alembic_config, start_database

    start_database(settings)
    config = alembic_config(settings.sqlalchemy_url())
    if args.action == "login-role":
        from app.operations.roles import ensure_login

        if not args.revision:
            sys.exit("bordermark: db login-role NAME (password in BORDERMARK_LOGIN_PASSWORD)")
        password = os.environ.get("BORDERMARK_LOGIN_PASSWORD", "")
        created = asyncio.run(ensure_login(settings.libpq_url(), args.revision, password))
        print(f"login {args.revision} {'created' if created else 'updated'} in bordermark_app")
    elif args.action == "functions":
        from app.db_functions import definitions, page

        print(page(asyncio.run(definitions(settings.libpq_url()))), end="")
    elif args.action == "upgrade":
        command.upgrade(config, args.revision or "head")
    elif args.action == "downgrade":
        command.downgrade(config, args.revision or "-1")
    else:
        command.current(config)  # the revision and whether it is the head, one line


def cmd_seed(settings: Settings, args: argparse.Namespace) -> None:
    from seed.loader import load_demo

    counts = _with_session(settings, load_demo)
    print("demo dataset:", ", ".join(f"{v} {k}" for k, v in counts.items()))


def cmd_tallies(settings: Settings, args: argparse.Namespace) -> None:
    from app.reports import tallies

    if args.action == "rebuild":
        _with_session(settings, tallies.rebuild)
        print("incident tallies recounted from the incidents")
    else:
        moved = _with_session(settings, tallies.compact)
        print(f"incident tallies: {moved} delta rows folded")


def cmd_recompute_context(settings: Settings, args: argparse.Namespace) -> None:
    from app.incidents.context import recompute_all_and_commit

    count = _with_session(settings, recompute_all_and_commit)
    print(f"context recomputed for {count} incidents")


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    from app.auth import tokens

    if args.action == "create":
        issued = _with_session(
            settings,
            lambda s: tokens.create_token(
                s,
                name=args.name,
                role=Role(args.role),
                province_code=args.province,
                district_code=args.district,
                station_code=args.station,
                expires_in_days=args.expires_days,
            ),
        )
        t = issued.token
        print(
            f"token {t.id} ({t.role}, province={t.province_code}, district={t.district_code}, "
            f"station={t.station_code})"
        )
        print("shown once, store it now:")
        print(issued.plaintext)
    elif args.action == "list":
        rows = _with_session(settings, tokens.list_tokens)
        for t in rows:
            state = "revoked" if t.revoked_at else "active"
            print(
                f"{t.id}  {t.token_prefix}…  {t.role:8} {state:7} "
                f"province={t.province_code or '-'} district={t.district_code or '-'} "
                f"station={t.station_code or '-'}  {t.name}"
            )
    else:
        revoked = _with_session(
            settings, lambda s: tokens.revoke_token(s, token_id_or_prefix=args.token)
        )
        print(f"revoked {revoked.id} ({revoked.name})")


def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    from pathlib import Path

    from tqdm import tqdm

    from app.auth.caller import Caller
    from app.imports.reader import file_info, read_rows
    from app.imports.service import import_rows
    from app.params import epsg_param

    path = Path(args.file)
    total, file_epsg = file_info(path)
    epsg = epsg_param(args.crs) if args.crs else (file_epsg or 4326)
    caller = Caller(
        token_id=None, name=f"cli import ({os.environ.get('USER', 'unknown')})", role=Role.admin
    )
    with tqdm(total=total, unit="rows", desc=f"{args.kind} {path.name}", file=sys.stderr) as bar:
        report = _with_session(
            settings,
            lambda s: import_rows(
                s,
                caller=caller,
                kind=args.kind,
                rows=read_rows(path),
                epsg=epsg,
                max_vertices=settings.max_vertices,
                dry_run=args.dry_run,
                progress=bar.update,
            ),
        )
    verb = "would import" if report.dry_run else "imported"
    print(
        f"{verb} {report.rows} rows from {path.name} (EPSG:{epsg}): {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, {len(report.errors)} refused"
    )
    for error in report.errors:
        # A row-wide error names no field (it would read "row 3: row: ...").
        where = "" if error.field in ("row", "") else f"{error.field}: "
        print(f"  row {error.row}: {where}{error.message}")
    if report.errors:
        sys.exit(1)


def cmd_cluster(settings: Settings, args: argparse.Namespace) -> None:
    from app.embedded_pg import embedded_cluster, ensure_postgis_installed

    if not settings.uses_embedded_cluster:
        sys.exit("DATABASE_URL is set: there is no embedded cluster to manage")
    if args.action == "start":
        ensure_postgis_installed()
    cluster = embedded_cluster(settings.data_dir, settings.embedded_pg_port)
    if args.action == "start":
        cluster.start()
        print(f"running at {cluster.url()} (data in {cluster.pgdata})")
    elif args.action == "stop":
        cluster.stop()
        print("stopped")
    else:
        print("running" if cluster.is_running() else "stopped", cluster.url())


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    from app.bootstrap import start_database
    from app.operations import backup

    start_database(settings)
    url = settings.sqlalchemy_url()
    if args.action == "create":
        if not args.file:
            sys.exit("bordermark: backup create FILE")
        backup.dump(url, Path(args.file))
        print(f"wrote {args.file}")
    elif args.action == "restore":
        if not args.file or not args.to:
            sys.exit("bordermark: backup restore FILE --to postgresql://.../empty_database")
        backup.restore(Path(args.file), args.to)
        print(f"restored {args.file} into {args.to}")
    else:
        tables = backup.verify(url, keep_dump=Path(args.file) if args.file else None)
        rows = sum(t.rows for t in tables.values())
        print(f"restore verified: {len(tables)} tables, {rows} rows, every checksum equal")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bordermark", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", help="address to listen on (HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (PORT, default 8000)")
    serve.add_argument(
        "--workers", type=int, help="processes serving requests (BORDERMARK_WORKERS, default 1)"
    )
    serve.set_defaults(func=cmd_serve)

    boot = sub.add_parser(
        "bootstrap",
        help="start/migrate/seed the database, issue demo tokens (what `make run` does)",
    )
    boot.set_defaults(func=cmd_bootstrap)

    db = sub.add_parser("db", help="apply, undo or show the database migrations")
    db.add_argument(
        "action",
        choices=["upgrade", "downgrade", "current", "login-role", "functions"],
        help="upgrade (to the head), downgrade (one step), show the current revision,\n"
        "login-role NAME: create the service's own login (password from\n"
        "BORDERMARK_LOGIN_PASSWORD), which cannot rewrite the audit log, or\n"
        "functions: print the database's bordermark_* functions as they stand",
    )
    db.add_argument(
        "revision", nargs="?", help="a revision id instead of head / one step; for login-role, NAME"
    )
    db.set_defaults(func=cmd_db)

    seed = sub.add_parser("seed", help="load the demo dataset (idempotent)")
    seed.set_defaults(func=cmd_seed)

    tallies = sub.add_parser("tallies", help="the summary's incident tallies")
    tallies.add_argument(
        "action",
        choices=["rebuild", "compact"],
        help="rebuild: recount (after loading with triggers off); compact: fold deltas now",
    )
    tallies.set_defaults(func=cmd_tallies)

    recompute = sub.add_parser(
        "recompute-context",
        help="place every incident again (after units or zones changed outside the API)",
    )
    recompute.set_defaults(func=cmd_recompute_context)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    create = token_sub.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--province", help="province code, e.g. lang-son (officer scope)")
    create.add_argument("--district", help="district code, e.g. van-lang (reporter scope)")
    create.add_argument(
        "--station", help="Border Guard station, e.g. don-bp-tan-thanh (reporter scope)"
    )
    create.add_argument("--name", required=True, help="who holds it, e.g. 'Đồn BP Tân Thanh'")
    create.add_argument("--expires-days", type=int, help="valid this many days (default: no end)")
    token_sub.add_parser("list", help="list tokens (never their secrets)")
    revoke = token_sub.add_parser("revoke", help="revoke a token by id or prefix")
    revoke.add_argument("token", help="the token's id, or the prefix `token list` shows")
    token.set_defaults(func=cmd_token)

    importer = sub.add_parser("import", help="import markers, incidents or clearing works")
    importer.add_argument(
        "kind", choices=["markers", "incidents", "clearing-works"], help="what the file holds"
    )
    importer.add_argument("file", help="GeoJSON, CSV (lon/lat or wkt columns), GeoPackage or KML")
    importer.add_argument("--crs", help="CRS of the coordinates (default: the file's, else 4326)")
    importer.add_argument(
        "--dry-run", action="store_true", help="validate every row, write nothing"
    )
    importer.set_defaults(func=cmd_import)

    backup = sub.add_parser("backup", help="pg_dump / pg_restore, and a restore check")
    backup.add_argument(
        "action",
        choices=["create", "restore", "verify"],
        help="create a dump, restore one into an empty database, or verify a restore",
    )
    backup.add_argument("file", nargs="?", help="the dump file (custom format)")
    backup.add_argument("--to", help="restore: the empty database to restore into")
    backup.set_defaults(func=cmd_backup)

    cluster = sub.add_parser("cluster", help="the embedded PostgreSQL cluster")
    cluster.add_argument(
        "action", choices=["start", "stop", "status"], help="of the private cluster"
    )
    cluster.set_defaults(func=cmd_cluster)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        args.func(settings, args)
    except DomainError as exc:
        sys.exit(f"bordermark: {exc.detail}")
    except ValueError as exc:  # settings validation and the like: say it, no traceback
        sys.exit(f"bordermark: {exc}")


if __name__ == "__main__":
    main()
