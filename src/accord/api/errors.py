"""The one place where errors become the management API's JSON error form:

    {"error": {"code": "STABLE_CODE", "message": "…", "field": "path.to.field" | null}}

accord's domain errors (`accord.errors`) answer with the status their class carries and a stable
code found by class, most specific first, in `CODES`;
FastAPI's request validation and Starlette's HTTP exceptions (unknown path, wrong method) are
rendered in the same form, so `{"detail": …}` never reaches a client. Two API-specific classes
carry a code and a field of their own:

    AccordError
    ├── InputError
    │   └── Unprocessable
    │       └── Invalid        a request field names something unusable       422  (code, field)
    └── Conflict               the request conflicts with what is stored      409  (code, field)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from accord import errors as e
from accord.logistics.rules import WORKFLOW, OrderRefused
from accord.ops.logging import log_store_error
from accord.ops.routing import allow_header

log = logging.getLogger("accord.api")


class Invalid(e.Unprocessable):
    """A field of the request is well-formed but unusable (an unknown party, level, topic…)."""

    def __init__(self, message: str, field: str | None = None, code: str = "INVALID") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class Conflict(e.AccordError):
    """The request conflicts with the stored state (a live credential of that name, …)."""

    http_status = 409
    title = "Conflict"

    def __init__(self, message: str, field: str | None = None, code: str = "CONFLICT") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable, upper-case code for programs to branch on.")
    message: str = Field(description="What went wrong, in words; never a traceback.")
    field: str | None = Field(
        description="The request field at fault, as a dotted path (`lines.0.currency`), or null."
    )


class ErrorBody(BaseModel):
    """Every error of the management API, whatever its status."""

    error: ErrorDetail


# Most specific first: the first class an error is an instance of gives its stable code; the
# status is the class's own (`http_status`, accord.errors), the same on every surface.
CODES: tuple[tuple[type[e.AccordError], str], ...] = (
    (e.Unauthenticated, "UNAUTHENTICATED"),
    (e.Forbidden, "FORBIDDEN"),
    (Conflict, "CONFLICT"),
    (e.NotFound, "NOT_FOUND"),
    (e.ImportRejected, "IMPORT_REJECTED"),
    (e.NotAcceptable, "NOT_ACCEPTABLE"),
    (e.TooLarge, "TOO_LARGE"),
    (e.UnsupportedMedia, "UNSUPPORTED_MEDIA_TYPE"),
    (Invalid, "INVALID"),
    (e.Unprocessable, "UNPROCESSABLE"),
    (e.Refused, "REFUSED"),
    (e.Throttled, "THROTTLED"),  # before its base class: the more precise code
    (e.TooManyRequests, "TOO_MANY_REQUESTS"),
    (e.InputError, "BAD_REQUEST"),
    (e.StoreConflict, "STORE_CONFLICT"),
    (e.StoreError, "STORE_UNAVAILABLE"),
    (e.AccordError, "INTERNAL"),
)

# Statuses of Starlette's own HTTP exceptions (routing, methods) and their codes.
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}

_PROBLEM_PATH = re.compile(r"^(?:[^:]+:\d+: )?(?P<path>[A-Za-z_][\w.\[\]-]*): ")


def classify(exc: e.AccordError) -> tuple[int, str, str | None]:
    """Returns (status, code, field) for a domain error: the status is the error's own."""
    if isinstance(exc, OrderRefused):
        code = "ORDER_STATE_CONFLICT" if set(exc.rules) == {WORKFLOW} else "RULE_REFUSED"
        return exc.http_status, code, None
    if isinstance(exc, Invalid | Conflict):
        return exc.http_status, exc.code, exc.field
    for cls, code in CODES:
        if isinstance(exc, cls):
            field = problem_field(exc.problems) if isinstance(exc, e.ImportRejected) else None
            return exc.http_status, code, field
    return exc.http_status, "INTERNAL", None  # pragma: no cover - AccordError is the last row


def problem_field(problems: Sequence[str]) -> str | None:
    """Returns `consents.0.holder` for the problem `consents[0].holder: 'XXX' is not …`."""
    if not problems:
        return None
    m = _PROBLEM_PATH.match(problems[0])
    if m is None or m.group("path") == "(top level)":
        return None
    return re.sub(r"\[(\d+)\]", r".\1", m.group("path"))


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Returns the JSON error form with `status`; a 401 carries the Basic challenge."""
    body = {"error": {"code": code, "message": message, "field": field}}
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = 'Basic realm="accord", charset="UTF-8"'
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=all_headers
    )


async def on_accord_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.AccordError)
    status, code, field = classify(exc)
    if isinstance(exc, e.StoreError):
        # The driver's text stays in the node's log; the client gets the error id only.
        log_store_error(log, exc)
        return error_response(status, code, exc.public, field)
    message = str(exc)
    if isinstance(exc, e.ImportRejected):
        message = "; ".join(exc.problems) or message
    if status >= 500:
        log.error("request failed: %s: %s", type(exc).__name__, exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, e.TooManyRequests) else None
    return error_response(status, code, message, field, headers)


def field_path(loc: Sequence[Any]) -> str | None:
    """Returns the dotted field path of a validation error location: ("body", "lines", 0,
    "currency") → `lines.0.currency`; pydantic's union-member labels (`tuple[str, ...]`,
    `literal['all']`) are left out."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    kept = [str(p) for p in parts if isinstance(p, int) or not any(c in str(p) for c in "[]'(),")]
    return ".".join(kept) or None


def _validation_message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errs = list(exc.errors())
    if not errs:
        return error_response(422, "VALIDATION_FAILED", "the request is not valid")
    first = dict(errs[0])
    if first.get("type") == "json_invalid":
        return error_response(400, "MALFORMED_JSON", "the body is not valid JSON")
    field = field_path(first.get("loc", ()))
    where = f"{field}: " if field else ""
    more = f" (and {len(errs) - 1} more problem(s))" if len(errs) > 1 else ""
    return error_response(
        422, "VALIDATION_FAILED", f"{where}{_validation_message(first)}{more}", field
    )


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(
        exc.status_code, code, message, headers=allow_header(request, exc.headers)
    )


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return error_response(500, "INTERNAL", "the server failed; the error was logged")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    e.AccordError: on_accord_error,
    RequestValidationError: on_validation_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Returns the OpenAPI `responses` entries of the error form for `statuses`."""
    words = {
        400: "Malformed request (bad JSON, bad query value)",
        401: "No valid credentials (Basic or Bearer NAME:SECRET)",
        403: "Authenticated, but this role may not use this endpoint",
        404: "No such thing (or not the caller's to see)",
        409: "Conflicts with what is stored",
        413: "Body larger than the node accepts",
        422: "Well-formed, but invalid or refused by a rule",
        429: "Over a quota or throttled: try again after `Retry-After` seconds",
        503: "The store is unavailable",
    }
    return {s: {"model": ErrorBody, "description": words[s]} for s in statuses}
