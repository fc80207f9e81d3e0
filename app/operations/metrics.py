"""Prometheus metrics: requests, latency and errors per route; database pool use and the
webhook queue depth are read when scraped. Each app gets its own registry (tests build
many apps in one process)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "bordermark_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bordermark_http_request_duration_seconds",
            "Time to the end of the response, by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "bordermark_http_server_errors",
            "Responses with a 5xx status, by route template",
            ["method", "route"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "bordermark_rate_limited",
            "Requests refused with 429, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.pool_in_use = Gauge(
            "bordermark_db_pool_checked_out",
            "Database connections in use",
            registry=self.registry,
        )
        self.pool_size = Gauge(
            "bordermark_db_pool_size", "Database pool size", registry=self.registry
        )
        self.webhook_queue = Gauge(
            "bordermark_webhook_queue_depth",
            "Webhook deliveries waiting to be sent",
            registry=self.registry,
        )
        self.tile_cache_bytes = Gauge(
            "bordermark_tile_cache_bytes", "Bytes of tiles in memory", registry=self.registry
        )
        self.submission_groups = Gauge(
            "bordermark_submission_groups",
            "Transactions that stored coalesced POSTs, since start",
            registry=self.registry,
        )
        self.submissions_coalesced = Gauge(
            "bordermark_submissions_coalesced",
            "POSTed incidents those transactions took, since start",
            registry=self.registry,
        )
        self.tile_cache_hits = Gauge(
            "bordermark_tile_cache_hits", "Tile cache hits since start", registry=self.registry
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if status >= 500:
            self.errors.labels(method, route).inc()

    def sample_pool(self, pool: Any) -> None:
        self.pool_in_use.set(pool.checkedout())
        self.pool_size.set(pool.size())
