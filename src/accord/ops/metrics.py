"""Prometheus metrics at GET /metrics, in the text exposition format (version 0.0.4), written by
`prometheus_client` from one registry per app.

Per process (each `accord serve` worker counts what it served; a scrape is answered by one
worker, whose `pid` label says which):
- `accord_http_requests_total{route,method,status}` — requests by route *template* (never the raw
  path: ids and tokens would explode the label set and leak), unmatched paths as `unmatched`;
- `accord_http_request_duration_seconds{route,method}` — a latency histogram;
- `accord_decisions_total{source,outcome}` — release decisions the management API made.

Whole node, read from the store at scrape time (the same in every worker):
- `accord_releases_recorded_total` — release records in the audit trail, counted incrementally
  (the cache is keyed by the audit head's sequence number, a store counter);
- `accord_sync_lag_seconds{peer,direction,collection}` — now minus the last move of each
  federation cursor (`sync_cursors.updated_at`);
- `accord_store_up` — 1 when the store answered the scrape's queries.

The registry lives in the app's state and the ASGI scope (`scope["accord.metrics"]`, set by
`MetricsMiddleware`), never in prometheus_client's global registry: two apps in one process count
separately.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

import prometheus_client
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.errors import Forbidden, NotFound, StoreError
from accord.federation.peers import cursors
from accord.principals.certificates import client_certificate
from accord.principals.throttle import client_address
from accord.store import Store
from accord.store.audit_schema import audit_head, audit_log

log = logging.getLogger("accord.metrics")

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCOPE_KEY = "accord.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Counters and histograms without their `_created` twin series: a scraper gets only what the
# families above name.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """The metrics of one app in one process (prometheus_client's metrics are thread-safe)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.pid = str(os.getpid())
        self.store: Store | None = None
        self._lock = threading.Lock()
        self._releases: tuple[str, int, int] | None = None  # (store url, head seq, count)
        start = Gauge(
            "accord_process_start_time_seconds",
            "Start time of this process.",
            ["pid"],
            registry=self.registry,
        )
        start.labels(self.pid).set(time.time())
        self.requests = Counter(
            "accord_http_requests",
            "Requests answered by this process, by route template, method and status.",
            ["route", "method", "status", "pid"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "accord_http_request_duration_seconds",
            "Time to answer a request, by route template and method.",
            ["route", "method", "pid"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "accord_decisions",
            "Release decisions made by the management API in this process.",
            ["source", "outcome", "pid"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(self))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status), self.pid).inc()
        self.latency.labels(route, method, self.pid).observe(seconds)

    def count_decisions(self, source: str, allowed: int, denied: int) -> None:
        for outcome, n in (("allowed", allowed), ("denied", denied)):
            if n:
                self.decisions.labels(source, outcome, self.pid).inc(n)

    def releases_recorded(self, store: Store) -> int:
        """Returns how many release records the audit trail holds, counting only the records
        appended since the last scrape."""
        with store.read() as conn:
            head = conn.execute(sa.select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar()
            head_seq = int(head or 0)
            cached = self._releases
            since, count = (cached[1], cached[2]) if cached and cached[0] == store.url else (0, 0)
            if head_seq < since:  # a restored or replaced store: count afresh
                since, count = 0, 0
            if head_seq > since:
                count += int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(audit_log)
                        .where(
                            audit_log.c.kind == "release",
                            audit_log.c.seq > since,
                            audit_log.c.seq <= head_seq,
                        )
                    ).scalar()
                    or 0
                )
        self._releases = (store.url, head_seq, count)
        return count

    def render(self, store: Store | None) -> str:
        """Returns the exposition text; store-derived families are left out when it fails."""
        with self._lock:  # one scrape at a time reads the store through the collector
            self.store = store
            try:
                return generate_latest(self.registry).decode()
            finally:
                self.store = None


class _StoreCollector(Collector):
    """The whole-node families, read from the store while a scrape is written."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # read only at scrape time, from the store

    def collect(self) -> Iterator[Metric]:
        store, up = self.metrics.store, 0
        if store is not None:
            try:
                released = self.metrics.releases_recorded(store)
                lags = sync_lags(store)
                up = 1
            except StoreError as exc:
                log.warning("metrics: the store did not answer: %s", exc)
            else:
                yield CounterMetricFamily(
                    "accord_releases_recorded",
                    "Release records in the audit trail (every object version served to a "
                    "partner).",
                    value=released,
                )
                lag = GaugeMetricFamily(
                    "accord_sync_lag_seconds",
                    "Seconds since each federation cursor last moved.",
                    labels=["peer", "direction", "collection"],
                )
                for labels, seconds in lags:
                    lag.add_metric(
                        [labels["peer"], labels["direction"], labels["collection"]], seconds
                    )
                yield lag
        yield GaugeMetricFamily(
            "accord_store_up", "1 when the store answered this scrape.", value=up
        )


def sync_lags(store: Store) -> list[tuple[dict[str, str], float]]:
    """Returns (labels, seconds since the cursor last moved) for every federation cursor."""
    now_us = time.time_ns() // 1000
    return [
        (
            {"peer": c.peer, "direction": c.direction, "collection": c.collection},
            max(0.0, (now_us - c.updated_at) / 1_000_000),
        )
        for c in cursors(store)
    ]


# ---- wiring ------------------------------------------------------------------------------------


def metrics_for(app: Any) -> Metrics:
    """Returns the metrics of a Starlette app, creating them on first use."""
    state = app.state
    found = getattr(state, "metrics", None)
    if not isinstance(found, Metrics):
        found = Metrics()
        state.metrics = found
    return found


def from_scope(scope: MutableMapping[str, Any]) -> Metrics | None:
    """Returns the metrics the request is counted in (set by `MetricsMiddleware`), if any."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, Metrics) else None


def count_decisions(scope: MutableMapping[str, Any], source: str, outcomes: Iterable[bool]) -> None:
    """Counts decisions a handler made (`outcomes`: allowed or not, one per decision)."""
    metrics = from_scope(scope)
    if metrics is not None:
        allowed = denied = 0
        for ok in outcomes:
            if ok:
                allowed += 1
            else:
                denied += 1
        metrics.count_decisions(source, allowed, denied)


def route_template(scope: Scope) -> str:
    """Returns the template of the route that answered (`/api/v1/orders/{order_id}`), or
    `unmatched`. Routers write the matched route into the (shared) scope as they descend."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if route is None or path is None:
        return "unmatched"
    prefix = str(scope.get("root_path", ""))
    if isinstance(route, Mount):
        return prefix + "/*"
    return prefix + str(path)


class MetricsMiddleware:
    """Counts every HTTP request by route template, method and status, with its latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = metrics_for(scope["app"])
        scope[SCOPE_KEY] = metrics
        status = 500
        started = time.perf_counter()

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            metrics.observe_request(
                route_template(scope), scope["method"], status, time.perf_counter() - started
            )


#: Roles whose credential may read /metrics when the `metrics` setting is `credential`.
METRICS_ROLES = frozenset({"operator", "auditor"})


def _may_scrape(request: Request, node: Any) -> None:
    """Raises unless the `metrics` setting lets this request read /metrics: `off` answers 404,
    `credential` needs a user with the operator or auditor role (Basic or Bearer, throttled like
    every authentication), `public` lets anyone who reaches the port read it."""
    mode = getattr(getattr(node, "config", None), "metrics", "public")
    if mode == "public":
        return
    if mode != "credential":
        raise NotFound("metrics are off on this node (setting `metrics`)")
    host = request.client.host if request.client else None
    who = node.authenticate(
        request.headers.get("authorization"),
        address=client_address(host),
        certificate=client_certificate(request.scope),
    )
    if who.is_partner or not (who.roles & METRICS_ROLES):
        raise Forbidden("metrics are for users with the operator or auditor role")


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics: the exposition text, for whom the `metrics` setting allows (default:
    operators and auditors; docs/deployment.md)."""
    node = getattr(request.app.state, "node", None)
    await run_in_threadpool(_may_scrape, request, node)
    store = getattr(node, "store", None)
    text = await run_in_threadpool(metrics_for(request.app).render, store)
    return Response(text, media_type=CONTENT_TYPE)
