"""Prometheus metrics at GET /metrics, in the text exposition format (version 0.0.4), by hand.

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

The registry lives in the ASGI scope (`scope["accord.metrics"]`, set by `MetricsMiddleware`), so
there is no module-level state: two apps in one process count separately.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, MutableMapping
from typing import Any

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.errors import Forbidden, NotFound, StoreError
from accord.federation.peers import cursors
from accord.principals.throttle import client_address
from accord.store import Store
from accord.store.audit_schema import audit_head, audit_log

log = logging.getLogger("accord.metrics")

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCOPE_KEY = "accord.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Histogram:
    __slots__ = ("counts", "sum", "count")

    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1
        self.sum += value
        self.count += 1


class Metrics:
    """The counters of one app in one process; thread-safe (endpoints run in a thread pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}
        self.latency: dict[tuple[str, str], _Histogram] = {}
        self.decisions: dict[tuple[str, str], int] = {}
        self.started = time.time()
        self._releases: tuple[str, int, int] | None = None  # (store url, head seq, count)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (route, method, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            self.latency.setdefault((route, method), _Histogram()).observe(seconds)

    def count_decisions(self, source: str, allowed: int, denied: int) -> None:
        with self._lock:
            for outcome, n in (("allowed", allowed), ("denied", denied)):
                if n:
                    key = (source, outcome)
                    self.decisions[key] = self.decisions.get(key, 0) + n

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
        pid = str(os.getpid())
        out: list[str] = []
        with self._lock:
            requests = sorted(self.requests.items())
            latency = sorted((k, (list(h.counts), h.sum, h.count)) for k, h in self.latency.items())
            decisions = sorted(self.decisions.items())
        _family(out, "accord_process_start_time_seconds", "gauge", "Start time of this process.")
        out.append(_sample("accord_process_start_time_seconds", {"pid": pid}, self.started))
        _family(
            out,
            "accord_http_requests_total",
            "counter",
            "Requests answered by this process, by route template, method and status.",
        )
        for (route, method, status), n in requests:
            labels = {"route": route, "method": method, "status": status, "pid": pid}
            out.append(_sample("accord_http_requests_total", labels, n))
        name = "accord_http_request_duration_seconds"
        _family(out, name, "histogram", "Time to answer a request, by route template and method.")
        for (route, method), (counts, total, n) in latency:
            labels = {"route": route, "method": method, "pid": pid}
            for bound, c in zip(BUCKETS, counts, strict=True):
                out.append(_sample(name + "_bucket", {**labels, "le": _num(bound)}, c))
            out.append(_sample(name + "_bucket", {**labels, "le": "+Inf"}, n))
            out.append(_sample(name + "_sum", labels, total))
            out.append(_sample(name + "_count", labels, n))
        _family(
            out,
            "accord_decisions_total",
            "counter",
            "Release decisions made by the management API in this process.",
        )
        for (source, outcome), n in decisions:
            labels = {"source": source, "outcome": outcome, "pid": pid}
            out.append(_sample("accord_decisions_total", labels, n))
        up = 0
        if store is not None:
            try:
                released = self.releases_recorded(store)
                lags = sync_lags(store)
                up = 1
            except StoreError as exc:
                log.warning("metrics: the store did not answer: %s", exc)
            else:
                _family(
                    out,
                    "accord_releases_recorded_total",
                    "counter",
                    "Release records in the audit trail (every object version served to a partner).",
                )
                out.append(_sample("accord_releases_recorded_total", {}, released))
                _family(
                    out,
                    "accord_sync_lag_seconds",
                    "gauge",
                    "Seconds since each federation cursor last moved.",
                )
                for labels, lag in lags:
                    out.append(_sample("accord_sync_lag_seconds", labels, lag))
        _family(out, "accord_store_up", "gauge", "1 when the store answered this scrape.")
        out.append(_sample("accord_store_up", {}, up))
        return "\n".join(out) + "\n"


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


def _family(out: list[str], name: str, kind: str, help_text: str) -> None:
    out.append(f"# HELP {name} {help_text}")
    out.append(f"# TYPE {name} {kind}")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(float(value))
    return repr(float(value))


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    if labels:
        inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        return f"{name}{{{inner}}} {_num(value)}"
    return f"{name} {_num(value)}"


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
    who = node.authenticate(request.headers.get("authorization"), address=client_address(host))
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
