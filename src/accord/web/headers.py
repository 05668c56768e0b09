"""Security headers on every response of the web interface, and its timing.

A strict Content-Security-Policy (no inline script or style, no framing, forms only to this
origin), `nosniff`, `DENY` framing, `same-origin` referrers, `Cache-Control: no-store` on pages
(never on static files) and `Server-Timing: app;dur=MS`, the time the node took to produce the
response head (docs/web.md, "Security").
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


class SecurityHeaders:
    """ASGI middleware: a strict Content-Security-Policy and related headers on every response,
    `Cache-Control: no-store` on pages (never on static files), and `Server-Timing: app;dur=MS`
    giving the time the node took to produce the response head."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        static = str(scope.get("path", "")).startswith(str(scope.get("root_path", "")) + "/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                if not static:
                    headers["Cache-Control"] = "no-store"
                ms = (time.perf_counter() - start) * 1000
                headers["Server-Timing"] = f"app;dur={ms:.1f}"
            await send(message)

        await self.app(scope, receive, send_with_headers)
