"""Application factory: routers, a lifespan-owned engine, error handlers."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.answers import ServiceStatus
from app.approvals.router import router as approvals_router
from app.areas.router import router as units_router
from app.auth.dependencies import CallerDep
from app.auth.models import Role
from app.auth.token_cache import TokenCache
from app.borders.router import router as borders_router
from app.borders.service import on_zone_change
from app.cases.router import router as cases_router
from app.chainage.router import router as chainage_router
from app.clearing.router import router as clearing_router
from app.config import Environment, Settings, get_settings
from app.crossings.router import router as crossings_router
from app.db import create_engine, create_sessionmaker, refuse_a_pooler_in_direct_mode
from app.disputes.router import router as disputes_router
from app.documents.router import router as documents_router
from app.errors import (
    Forbidden,
    install_database_error_handlers,
    install_error_handlers,
    problem_response,
)
from app.events.delivery import worker as webhook_worker
from app.events.router import router as events_router
from app.exports.router import router as exports_router
from app.exports.slots import ExportSlots
from app.imports.router import router as imports_router
from app.incidents.coalesce import SubmissionCoalescer, coalescing
from app.incidents.context import recompute_border
from app.incidents.router import router as incidents_router
from app.inspections.router import router as inspections_router
from app.markers.router import router as markers_router
from app.offline.router import router as offline_router
from app.ogc.router import router as ogc_router
from app.openapi_doc import install as install_openapi
from app.openapi_doc import operation_id
from app.operations.head import HeadAsGet
from app.operations.hosts import HostPolicy
from app.operations.metrics import Metrics
from app.operations.middleware import RequestMiddleware
from app.operations.notices import listening as change_notices
from app.operations.rate_limit import TokenBuckets
from app.patrols.router import router as patrols_router
from app.reports.router import router as reports_router
from app.reports.tallies import compactor as tally_compactor
from app.segments.router import router as segments_router
from app.surveys.router import router as surveys_router
from app.tiles.cache import TileCache
from app.tiles.router import router as tiles_router
from app.web.router import router as web_router

DB_RETRY_AFTER_S = 5


log = logging.getLogger("bordermark.startup")


def _freeze_what_start_up_built() -> None:
    """Keep what start-up built (modules, routes, schemas) out of the garbage collector's
    full passes, which otherwise walk all of it and pause whichever request is running.
    The objects stay alive as before; only the collector stops revisiting them."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Tests may install their own engine/sessionmaker before start-up.
        own_engine = getattr(app.state, "engine", None) is None
        if own_engine:
            app.state.engine = create_engine(settings)
            app.state.sessionmaker = create_sessionmaker(app.state.engine)
            app.state.bulk_engine = create_engine(settings, bulk=True)
            app.state.bulk_sessionmaker = create_sessionmaker(app.state.bulk_engine)
        await refuse_a_pooler_in_direct_mode(app.state.engine, settings)
        async with contextlib.AsyncExitStack() as stack:
            caches = [app.state.token_cache] + (
                [app.state.tile_cache] if settings.tile_cache_bytes > 0 else []
            )
            listen_url = settings.listen_url()
            if listen_url is not None:
                await stack.enter_async_context(change_notices(caches, listen_url))
            else:  # never listening: the caches stay off (every token read from the database)
                log.warning("caches off: BORDERMARK_LISTEN_DATABASE_URL is unset behind a pooler")
            if settings.coalesce_submissions:
                app.state.coalescer = SubmissionCoalescer(
                    app.state.sessionmaker,
                    max_vertices=settings.max_vertices,
                    max_group=settings.coalesce_max_group,
                    gather_rounds=settings.coalesce_gather_rounds,
                )
                await stack.enter_async_context(coalescing(app.state.coalescer))
            if settings.webhook_worker:
                await stack.enter_async_context(
                    webhook_worker(
                        app.state.sessionmaker,
                        allow_private=settings.allows_private_webhook_targets,
                    )
                )
            if settings.tally_compaction_s > 0:
                await stack.enter_async_context(
                    tally_compactor(app.state.sessionmaker, settings.tally_compaction_s)
                )
            _freeze_what_start_up_built()
            yield
        if own_engine:
            await app.state.engine.dispose()
            await app.state.bulk_engine.dispose()

    app = FastAPI(
        title="bordermark",
        version="0.5.0",
        description=(
            "Border-marker incident GIS service: the register of boundary markers, the border "
            "line between them, chainage, border events and clearing works. Every endpoint "
            "but /healthz and /readyz needs a token: `Authorization: Bearer <token>`, or "
            "HTTP Basic with any user name and the token as the password."
        ),
        lifespan=lifespan,
        # Swagger UI is served from the package (app/web/router.py), not from a CDN.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.tile_cache = TileCache(settings.tile_cache_bytes)
    app.state.token_cache = TokenCache(enabled_by_settings=settings.token_cache)
    app.state.coalescer = None  # started with the application (lifespan)
    app.state.metrics = Metrics()
    # Exports leave one bulk connection to the summaries (exports/slots.py).
    app.state.export_slots = ExportSlots(total=settings.db_bulk_pool_size - 1)
    share = settings.rate_limit_instances
    app.state.token_limits = TokenBuckets(
        settings.rate_limit_per_s / share, max(1, settings.rate_limit_burst // share)
    )
    app.state.auth_failure_limits = TokenBuckets(
        settings.auth_failures_per_minute / 60, max(1.0, settings.auth_failures_per_minute)
    )
    app.add_middleware(HeadAsGet)
    if settings.cors_origins:  # closed unless origins are named
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "Content-Crs"],
            max_age=600,
        )
    app.add_middleware(
        RequestMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=settings.max_body_bytes,
        hosts=HostPolicy.of(
            public_base_url=settings.public_base_url,
            allowed_hosts=settings.allowed_hosts,
            development=settings.env is not Environment.production,
        ),
    )
    if settings.trusted_proxies:  # outermost: every layer below sees the forwarded client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_error_handlers(app)

    install_database_error_handlers(app, retry_after_s=DB_RETRY_AFTER_S)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="The process is alive",
        response_model=ServiceStatus,
    )
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get(
        "/readyz", tags=["operations"], summary="The database answers", response_model=ServiceStatus
    )
    async def readyz(request: Request) -> JSONResponse:
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any failure to reach the database means "not ready"
            return problem_response(
                503,
                slug="not-ready",
                title="Not ready",
                detail="database unreachable",
                headers={"Retry-After": str(DB_RETRY_AFTER_S)},
            )
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics (admin token)")
    async def metrics(request: Request, caller: CallerDep) -> Response:
        if caller.role is not Role.admin:
            raise Forbidden("metrics are for admin tokens")
        figures: Metrics = request.app.state.metrics
        figures.sample_pool(request.app.state.engine.pool)
        cache: TileCache = request.app.state.tile_cache
        figures.tile_cache_bytes.set(cache.size_bytes)
        figures.tile_cache_hits.set(cache.hits)
        coalescer: SubmissionCoalescer | None = request.app.state.coalescer
        if coalescer is not None:
            figures.submission_groups.set(coalescer.groups)
            figures.submissions_coalesced.set(coalescer.submissions)
        async with request.app.state.engine.connect() as conn:
            waiting = await conn.execute(
                text("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'")
            )
            figures.webhook_queue.set(waiting.scalar_one())
        return Response(generate_latest(figures.registry), media_type=CONTENT_TYPE_LATEST)

    # Zone distances and sightline overrides change incidents' context.
    on_zone_change(recompute_border)
    # First the routes map clients and field apps call most (FastAPI tries the routes in
    # order: a tile request otherwise walks past every /api/v1 route first).
    for router in (
        tiles_router,
        ogc_router,
        incidents_router,
        cases_router,
        borders_router,
        markers_router,
        segments_router,
        imports_router,
        clearing_router,
        chainage_router,
        reports_router,
        approvals_router,
        crossings_router,
        inspections_router,
        surveys_router,
        patrols_router,
        disputes_router,
        units_router,
        offline_router,
        documents_router,
        exports_router,
        events_router,
        web_router,
    ):
        app.include_router(router)
    install_openapi(app)
    return app
