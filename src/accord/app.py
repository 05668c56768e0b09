"""`create_app(node)`: the node's ASGI application. No global app: tests run several nodes in one
process, each with its own store.

One process serves these surfaces, each with its own error mapping:
- `/taxii2/` and `/{api_root}/…`: TAXII 2.1 for partners and tools (`accord.taxii`);
- `/api/v1/…`: the management REST API (`accord.api`);
- `/ui/…`: the web interface for people (`accord.web`); `/` redirects there;
- `/misp/{PARTY}/…`: the MISP feed a partner's MISP subscribes to (`accord.misp.views`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from accord.api import create_api
from accord.errors import AccordError
from accord.federation import scheduler
from accord.misp import views as misp
from accord.node import Node
from accord.ops import health, metrics
from accord.ops.logging import RequestLogMiddleware
from accord.taxii import errors, views
from accord.taxii import receipts as taxii_receipts
from accord.web import create_web


def _lifespan(
    node: Node, sync_interval: float
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = (
            asyncio.create_task(scheduler.run(node, sync_interval)) if sync_interval > 0 else None
        )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


async def _home(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=303)


def create_app(node: Node, sync_interval: float = 0) -> Starlette:
    """Returns the ASGI app serving `node` over TAXII 2.1 at /taxii2/ and /{api_root}/; with a
    positive `sync_interval` (seconds) it also syncs with every peer on that schedule."""
    c = "/{api_root}/collections/{collection_id}"
    routes = [
        # The sub-applications come first: "/{api_root}/" would otherwise also match "/ui/".
        Route("/", _home, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", metrics.metrics_endpoint, methods=["GET"]),
        Mount("/api/v1", app=create_api(node)),
        Mount("/ui", app=create_web(node)),
        # A partner's MISP feed (docs/misp.md): before "/{api_root}/…", which it never matches.
        Route("/misp/{party}/manifest.json", misp.manifest, methods=["GET"]),
        Route("/misp/{party}/hashes.csv", misp.hashes, methods=["GET"]),
        Route("/misp/{party}/{event_uuid}.json", misp.event, methods=["GET"]),
        Route("/taxii2/", views.discovery, methods=["GET"]),
        Route("/{api_root}/", views.api_root, methods=["GET"]),
        Route("/{api_root}/status/{status_id}/", views.status, methods=["GET"]),
        Route("/{api_root}/x-accord/receipts/", taxii_receipts.receipts, methods=["GET"]),
        Route("/{api_root}/x-accord/keys/", taxii_receipts.key_rotation, methods=["POST"]),
        Route("/{api_root}/collections/", views.collections, methods=["GET"]),
        Route("/{api_root}/x-accord/checkpoint/", views.audit_checkpoint, methods=["GET"]),
        Route(c + "/", views.collection, methods=["GET"]),
        Route(c + "/objects/", views.get_objects, methods=["GET"]),
        Route(c + "/objects/", views.add_objects, methods=["POST"]),
        Route(c + "/manifest/", views.get_manifest, methods=["GET"]),
        Route(c + "/objects/{object_id}/", views.get_object, methods=["GET"]),
        Route(c + "/objects/{object_id}/", views.delete_object, methods=["DELETE"]),
        Route(c + "/objects/{object_id}/versions/", views.get_versions, methods=["GET"]),
    ]
    app = Starlette(
        lifespan=_lifespan(node, sync_interval),
        routes=routes,
        exception_handlers={
            AccordError: errors.on_accord_error,
            HTTPException: errors.on_http_error,
            Exception: errors.on_unexpected,
        },
    )
    app.state.node = node
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(RequestLogMiddleware)  # outermost: logs what the metrics counted too
    return app
