"""The one place where accord's errors become HTTP responses: the TAXII error resource (§3.6.1)
with the right status. Foreign exceptions never reach a client as a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from accord import errors as e
from accord.ops.logging import log_store_error
from accord.ops.routing import allow_header
from accord.taxii.media import TAXII

log = logging.getLogger("accord.http")


def error_response(
    status: int,
    title: str,
    description: str,
    error_id: str | None = None,
    retry_after: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> Response:
    """Returns the TAXII error resource; a 401 carries the Basic challenge, a 429 `Retry-After`
    (whole seconds, RFC 9110 §10.2.3), a 405 the `Allow` Starlette names (`extra`: RFC 9110
    §15.5.6 says it MUST); a store failure names its `error_id` (the log has it)."""
    body = {"title": title, "description": description, "http_status": str(status)}
    if error_id is not None:
        body["error_id"] = error_id
    headers: dict[str, str] = dict(extra or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="accord", charset="UTF-8"'
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII, headers=headers)


async def on_accord_error(request: Request, exc: Exception) -> Response:
    """Answers a domain error with the status and title its class carries (accord.errors)."""
    assert isinstance(exc, e.AccordError)
    if isinstance(exc, e.StoreError):
        # The driver's text stays in the node's log; the client gets the error id only.
        log_store_error(log, exc)
        return error_response(exc.http_status, exc.title, exc.public, exc.error_id)
    if exc.http_status >= 500:
        log.error("request failed: %s: %s", type(exc).__name__, exc)
    wait = exc.retry_after if isinstance(exc, e.TooManyRequests) else None
    return error_response(exc.http_status, exc.title, str(exc), retry_after=wait)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code,
        str(exc.detail),
        f"{request.method} {request.url.path}: {exc.detail}",
        extra=allow_header(request, exc.headers),
    )


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return error_response(500, "Internal Server Error", "the server failed; the error was logged")
