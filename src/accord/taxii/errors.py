"""The one place where accord's errors become HTTP responses: the TAXII error resource (§3.6.1)
with the right status. Foreign exceptions never reach a client as a traceback."""

from __future__ import annotations

import logging

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from accord import errors as e
from accord.ops.logging import log_store_error
from accord.taxii.media import TAXII

log = logging.getLogger("accord.http")

# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[e.AccordError], int, str], ...] = (
    (e.Unauthenticated, 401, "Unauthorized"),
    (e.Forbidden, 403, "Forbidden"),
    (e.NotFound, 404, "Not Found"),
    (e.NotAcceptable, 406, "Not Acceptable"),
    (e.TooLarge, 413, "Payload Too Large"),
    (e.UnsupportedMedia, 415, "Unsupported Media Type"),
    (e.Unprocessable, 422, "Unprocessable Content"),
    (e.Refused, 422, "Refused"),
    (e.TooManyRequests, 429, "Too Many Requests"),
    (e.InputError, 400, "Bad Request"),
    (e.StoreError, 503, "Service Unavailable"),
    (e.AccordError, 500, "Internal Server Error"),
)


def error_response(
    status: int,
    title: str,
    description: str,
    error_id: str | None = None,
    retry_after: int | None = None,
) -> Response:
    """Returns the TAXII error resource; a 401 carries the Basic challenge, a 429 `Retry-After`
    (whole seconds, RFC 9110 §10.2.3); a store failure names its `error_id` (the log has it)."""
    body = {"title": title, "description": description, "http_status": str(status)}
    if error_id is not None:
        body["error_id"] = error_id
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="accord", charset="UTF-8"'
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII, headers=headers)


async def on_accord_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, e.StoreError):
        # The driver's text stays in the node's log; the client gets the error id only.
        log_store_error(log, exc)
        return error_response(503, "Service Unavailable", exc.public, exc.error_id)
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            if status >= 500:
                log.error("request failed: %s", type(exc).__name__)
            wait = exc.retry_after if isinstance(exc, e.TooManyRequests) else None
            return error_response(status, title, str(exc), retry_after=wait)
    raise exc  # pragma: no cover - every AccordError matches the last row


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code, str(exc.detail), f"{request.method} {request.url.path}: {exc.detail}"
    )


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return error_response(500, "Internal Server Error", "the server failed; the error was logged")
