"""The management REST API under /api/v1/: registry, consents, credentials, decisions,
release tables, what-if, publish preview, audit and logistics, for the node's people.

`create_api(node)` builds one FastAPI app per node (no globals: tests run several nodes in one
process). Its OpenAPI document is served at /api/v1/openapi.json and rendered as a page at
/api/v1/docs with no network access. Who may call what is `accord.api.roles.ACCESS`; every error
is `{"error": {"code", "message", "field"}}` (`accord.api.errors`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.api import audit, changes, credentials, decisions, docs, orders, registry
from accord.api.errors import EXCEPTION_HANDLERS, error_response
from accord.api.roles import ACCESS, PUBLIC
from accord.node import Node

TITLE = "accord management API"
VERSION = "1"
DESCRIPTION = (
    "The node's registry, consents, credentials, release decisions, what-if diffs, publish "
    "previews, audit trail and logistics orders. Authenticate as for TAXII: HTTP Basic, or "
    "`Authorization: Bearer NAME:SECRET`. Each operation names the roles that may call it; "
    'every error is `{"error": {"code": …, "message": …, "field": …}}`.'
)


class BodyLimit:
    """Refuses request bodies over the node's `max_content_length` with 413, before FastAPI reads
    them whole (the declared length is checked first; a chunked body is counted as it arrives)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            ok = declared.isdigit()
            status, code = (413, "TOO_LARGE") if ok else (400, "BAD_REQUEST")
            text = (
                f"the body exceeds max_content_length ({self.limit} bytes)"
                if ok
                else "Content-Length is not a number"
            )
            await error_response(status, code, text)(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "DELETE") and declared is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the app see it
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                message_text = f"the body exceeds max_content_length ({self.limit} bytes)"
                await error_response(413, "TOO_LARGE", message_text)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Returns the OpenAPI document: FastAPI's, plus the security schemes, the roles of each
    operation (`x-accord-roles`, from `ACCESS`) and the schema of a decision request."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    extra = decisions.DecisionRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(extra.pop("$defs", {}))
    schemas["DecisionRequest"] = extra
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        "basic": {"type": "http", "scheme": "basic"},
        "bearer": {"type": "http", "scheme": "bearer", "description": "the token is NAME:SECRET"},
    }
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            roles = ACCESS.get(f"{method.upper()} {path}", ())
            if PUBLIC in roles:
                continue
            op["security"] = [{"basic": []}, {"bearer": []}]
            op["x-accord-roles"] = list(roles)
            op["description"] = (op.get("description") or "") + "Roles: " + ", ".join(roles) + "."
    app.openapi_schema = doc
    return doc


def create_api(node: Node) -> ASGIApp:
    """Returns the management API app for `node`, mounted at /api/v1 by `accord.app.create_app`."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        openapi_url=None,  # served below, as a route like any other (metrics, roles)
        docs_url=None,
        redoc_url=None,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.node = node
    for module in (registry, credentials, decisions, changes, audit, orders):
        app.include_router(module.router)

    def openapi() -> dict[str, Any]:
        return _openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]

    def served(request: Request) -> tuple[dict[str, Any], str]:
        doc = dict(app.openapi())
        root = str(request.scope.get("root_path", "")).rstrip("/")
        if root:
            doc["servers"] = [{"url": root}]
        return doc, root

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> JSONResponse:
        return JSONResponse(served(request)[0])

    @app.get("/docs", include_in_schema=False)
    async def browse(request: Request) -> HTMLResponse:
        doc, root = served(request)
        return HTMLResponse(docs.render(doc, root + "/openapi.json"))

    return BodyLimit(app, node.config.max_content_length)
