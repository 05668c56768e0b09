"""Probes at the root of the node: GET /healthz (liveness) and GET /readyz (readiness).

`/healthz` answers 200 whenever the process serves HTTP: a load balancer or an orchestrator
restarts a process only when it stops answering. `/readyz` answers 200 when the store answers
and its schema is at the newest migration, and 503 otherwise, so traffic goes only to processes
that can serve it (during a database outage, or before a migration has run). Neither needs
credentials, and neither says more than "ready" or why not in a few words.
"""

from __future__ import annotations

import functools
from importlib import resources

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from accord.errors import StoreError
from accord.store import Store


@functools.cache
def head_revision() -> str | None:
    """Returns the newest migration revision shipped with this version of accord."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("accord.store") / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def readiness(store: Store) -> str | None:
    """Returns None when the store answers and is migrated to the newest revision, else why not."""
    try:
        with store.read() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except StoreError:
        return "the store does not answer, or has no schema yet"
    head = head_revision()
    if version != head:
        return f"the store's schema is at {version}, not {head}: migrate it"
    return None


async def healthz(request: Request) -> JSONResponse:
    """Liveness: 200 always."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the store answers and is migrated, 503 otherwise."""
    store: Store = request.app.state.node.store
    reason = await run_in_threadpool(readiness, store)
    if reason is None:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
