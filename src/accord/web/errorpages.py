"""Error pages of the web interface, in the reader's language, with the status the error's class
carries (accord.errors): the same status TAXII and the API give for the same error.

An error page names no user (it may be shown before sign-in), but a signed-in user gets the
navigation back instead of "Sign in". A store failure's detail stays in the node's log; the page
shows its error id only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from accord import i18n
from accord.errors import AccordError, ImportRejected, StoreError
from accord.i18n import N_, _
from accord.ops.logging import log_store_error
from accord.ops.routing import allow_header
from accord.web.context import base_path, request_language
from accord.web.templating import templates

log = logging.getLogger("accord.web")


def error_page(
    request: Request,
    status: int,
    message: str,
    details: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Returns a small HTML error page in the request's language. It names no user (it may be
    shown before sign-in), but a signed-in user gets the navigation back and no "Sign in"."""
    sessions = getattr(getattr(request.app.state, "web", None), "sessions", None)
    session = sessions.read(request) if sessions is not None else None
    lang = request_language(request, session)
    with i18n.using(lang):
        html = templates.get_template("error.html").render(
            base=base_path(request),
            status=status,
            message=message,
            details=details or [],
            lang=lang,
            signed_in=session is not None and session.user is not None,
        )
    return HTMLResponse(html, status_code=status, headers=headers)


def _translated(request: Request, message: str) -> str:
    with i18n.using(request_language(request)):
        return _(message)


#: Texts of the HTTP errors the web interface raises itself (translated when shown).
HTTP_TEXTS = (
    N_("The form is too large."),
    N_("Forms are sent as application/x-www-form-urlencoded."),
    N_("The form could not be read."),
    N_("Not Found"),
    N_("Method Not Allowed"),
)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # A 405 names the methods the resource allows (`Allow`, RFC 9110 §15.5.6).
    return error_page(
        request,
        exc.status_code,
        _translated(request, str(exc.detail)),
        headers=allow_header(request, exc.headers),
    )


async def on_accord_error(request: Request, exc: Exception) -> Response:
    """Answers a domain error with the status its class carries (accord.errors), the same as
    TAXII and the API: 404 for what does not exist or is not the user's to see, 403 Forbidden,
    422 for a rejected registry file (every problem listed) or a refusal by a rule, 409 for a
    conflict with stored data, 503 for an unavailable store (its detail logged, only its error
    id shown). A message made inside a page handler is already in the user's language."""
    assert isinstance(exc, AccordError)
    if isinstance(exc, StoreError):
        # The driver's text stays in the node's log; the page shows the error id only.
        log_store_error(log, exc)
        with i18n.using(request_language(request)):
            text = _("The node could not complete this request: %(error)s.") % {"error": exc.public}
        return error_page(request, exc.http_status, text)
    if isinstance(exc, ImportRejected):
        heading = _translated(request, N_("The input was rejected."))
        return error_page(request, exc.http_status, heading, exc.problems)
    if exc.http_status >= 500:
        log.error("request failed: %s: %s", type(exc).__name__, exc)
        text = _translated(request, N_("The node could not complete this request."))
        return error_page(request, exc.http_status, text)
    return error_page(request, exc.http_status, str(exc))
