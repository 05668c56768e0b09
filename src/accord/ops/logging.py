"""Structured logs: one JSON line per request, and every `accord.*` log record as a JSON line.

`RequestLogMiddleware` gives each request an id (the incoming `X-Request-ID` when it is a sane
token, else a new one), echoes it in the response's `X-Request-ID` header, and logs
`{"ts", "level", "logger", "msg": "request", "request_id", "method", "path", "status",
"duration_ms"}` when the response is done. Only the path is logged: never the query string (it
may carry a `next` token or filters), never a header (the `Authorization` header is a secret),
never a body (item contents). Other records logged while the request runs (an error in the
TAXII or API error mapping, …) carry the same `request_id`. A store failure is logged with its
detail and an `error_id` (`log_store_error`); clients are told only that id.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.errors import StoreError

request_id: ContextVar[str | None] = ContextVar("accord_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client", "error_id")

access_log = logging.getLogger("accord.access")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid is not None:
            data["request_id"] = rid
        for key in _FIELDS[1:]:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info and record.exc_info[0] is not None:
            data["error"] = record.exc_info[0].__name__
            data["trace"] = self.formatException(record.exc_info)
        text: str = orjson.dumps(data).decode()
        return text


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure() -> None:
    """Sends `accord.*` records at INFO and above to stderr as JSON lines (once per process)."""
    logger = logging.getLogger("accord")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_store_error(logger: logging.Logger, exc: StoreError) -> None:
    """Logs a store failure with its detail (the driver's text) and its `error_id`: the client
    is told only `exc.public`, and the operator finds the detail by that id in this log."""
    logger.error("the store failed: %s", exc, extra={"error_id": exc.error_id})


def _incoming_id(scope: Scope) -> str:
    for key, value in scope.get("headers") or ():
        if key == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _SANE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Logs each HTTP request as one JSON line and echoes its id in `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        configure()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        method, path = scope["method"], scope["path"]
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            access_log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "client": client[0] if client else None,
                },
            )
            request_id.reset(token)
