"""What every page shares: the templates, the signed-in user, CSRF checks, errors and headers.

A page handler is a plain function `handler(ctx) -> Response`, wrapped by `@page`. The wrapper
reads the session; without a signed-in user of this node it redirects a GET to the sign-in page
(and refuses anything else with 403); for a POST it reads the form and refuses it with 403 unless
it carries the session's CSRF token. The handler then runs in a worker thread (the store is
synchronous), with a `Ctx` giving it the node, the user, the form and `render`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord import i18n, labels
from accord.errors import AccordError, ImportRejected, InputError, StoreError
from accord.i18n import N_, _
from accord.labels import NAME_LANGS
from accord.ops.logging import log_store_error
from accord.policy.access import User
from accord.policy.world import World
from accord.principals import Principal
from accord.principals.service import PrincipalRecord, lookup_principal
from accord.registry.model import Party
from accord.taxii.node import Node
from accord.web.sessions import Session, Sessions

log = logging.getLogger("accord.web")

#: Form bodies larger than this are refused before they are read (bytes).
MAX_FORM = 2 * 1024 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

templates = Environment(
    loader=PackageLoader("accord.web", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# The callables read the request's language (accord.i18n.using), so one compiled template serves
# every language; newstyle gettext escapes the translation and fills `%(name)s` placeholders.
templates.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
)


def _tojson(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


templates.filters["pretty_json"] = _tojson
templates.filters["urlquote"] = lambda s: quote(str(s), safe="")
digits = i18n.number_text
templates.filters["digits"] = i18n.number_text
templates.filters["date"] = i18n.date_text
templates.filters["longdate"] = lambda d: i18n.date_text(d, "long")
templates.filters["datetime"] = i18n.datetime_text
templates.globals.update(labels.TEMPLATE_GLOBALS)
templates.globals["party_label"] = i18n.party_name
templates.globals["name_lang"] = lambda code: NAME_LANGS.get(str(code).split(" ")[0], "")


class Web:
    """The web interface's per-node state: the node and its session signer."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.sessions = Sessions(node.store)
        # Compile every template now (tens of ms each), not on some user's first visit.
        for name in templates.list_templates():
            templates.get_template(name)

    def user(self, session: Session | None) -> Principal | None:
        """Returns the live user the session belongs to, or None: the session must not have been
        signed out (its row is in the store), and the credential must still exist, unrevoked and
        unchanged (same fingerprint), and be a user of this node's nation."""
        if session is None or session.user is None or not self.sessions.live(session):
            return None
        found = lookup(self, session.user)
        if found is None or session.fp != self.sessions.fingerprint(found.secret_hash):
            return None
        return found.principal if may_sign_in(self.node, found.principal) else None


def may_sign_in(node: Node, p: Principal) -> bool:
    """True for the people the web interface is for: live users of this node's own nation, with a
    clearance. Partner nodes, and users of other nations, never sign in."""
    return p.kind == "user" and p.party == node.party and p.clearance is not None and not p.revoked


def lookup(web: Web, name: str) -> PrincipalRecord | None:
    """Returns the live principal named `name` with its stored secret hash, or None."""
    return lookup_principal(web.node.store, name)


@dataclass
class Ctx:
    """What a page handler gets: the request, the node, the signed-in `user` and `session`, the
    POSTed `form` (empty for a GET), and `base`, the path the interface is mounted at."""

    request: Request
    web: Web
    user: Principal
    session: Session
    form: FormData = field(default_factory=FormData)
    lang: str = i18n.DEFAULT

    @property
    def node(self) -> Node:
        return self.web.node

    @property
    def base(self) -> str:
        return base_path(self.request)

    def world(self) -> World:
        """Returns the node's decision world (cached per registry version by the node)."""
        return self.node.world()[1]

    def me(self) -> Party:
        """Returns this node's party."""
        return self.world().party(self.node.party)

    def person(self) -> User:
        """Returns the signed-in user as the rules engine's `User` (R9)."""
        return User(
            self.user.name,
            self.node.party,
            self.user.clearance or "U",
            self.user.groups,
            self.user.party,
        )

    def param(self, name: str, default: str = "") -> str:
        """Returns a query parameter (for GET) or form field (for POST), stripped."""
        if self.request.method == "POST":
            value = self.form.get(name)
            return value.strip() if isinstance(value, str) else default
        return self.request.query_params.get(name, default).strip()

    def params(self, name: str) -> list[str]:
        """Returns every value of a repeated query parameter or form field."""
        source: Any = self.form if self.request.method == "POST" else self.request.query_params
        return [v.strip() for v in source.getlist(name) if isinstance(v, str) and v.strip()]

    def date_param(self, name: str = "at") -> date:
        """Returns the date in parameter `name`, or the node's today; InputError for a bad one."""
        text = self.param(name)
        if not text:
            return self.node.today()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InputError(
                _("%(field)s: %(value)s is not a date (YYYY-MM-DD)")
                % {"field": name, "value": repr(text[:40])}
            ) from None

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Returns the template rendered with the page's common values (user, node, CSRF token,
        navigation) and `values`."""
        html = templates.get_template(template).render(
            base=self.base,
            user=self.user,
            csrf=self.session.csrf,
            party=self.node.party,
            party_name=i18n.party_name(self.node.party, self.me().name),
            today=self.node.today(),
            lang=self.lang,
            languages=i18n.NATIVE_NAMES,
            here=self.request.url.path
            + (f"?{self.request.url.query}" if self.request.url.query else ""),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, path: str) -> RedirectResponse:
        """Returns a 303 redirect to `path` inside the web interface."""
        return RedirectResponse(self.base + path, status_code=303)


def base_path(request: Request) -> str:
    return str(request.scope.get("root_path") or "")


def request_language(request: Request, session: Session | None = None) -> str:
    """Returns the language to answer in: the one the user chose (kept in the session), else
    the one the browser's `Accept-Language` prefers among those served, else English."""
    if session is None:
        web: Web | None = getattr(request.app.state, "web", None)
        session = web.sessions.read(request) if web is not None else None
    if session is not None and session.lang:
        return session.lang
    return i18n.negotiate(request.headers.get("accept-language"))


Handler = Callable[[Ctx], Response]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a page handler with sign-in, CSRF and form reading (see the module docstring)."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        web: Web = request.app.state.web
        session = web.sessions.read(request)
        user = await run_in_threadpool(web.user, session)
        lang = request_language(request, session)
        if user is None or session is None:
            if request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(
                    f"{base_path(request)}/login?next={quote(target, safe='')}", status_code=303
                )
            with i18n.using(lang):
                return error_page(request, 403, _("Your session has ended: sign in again."))
        form = FormData()
        if request.method == "POST":
            form = await read_form(request)
            if not session.csrf_ok(form.get("csrf")):
                with i18n.using(lang):
                    return error_page(
                        request,
                        403,
                        _(
                            "The form was refused: its security token is missing or out of "
                            "date. Reload the page and try again."
                        ),
                    )
        ctx = Ctx(request, web, user, session, form, lang)
        return await run_in_threadpool(_in_language, handler, ctx)

    return run


def _in_language(handler: Handler, ctx: Ctx) -> Response:
    """Runs `handler` with the request's language current (in the worker thread itself)."""
    with i18n.using(ctx.lang):
        return handler(ctx)


async def read_form(request: Request) -> FormData:
    """Returns the URL-encoded form of a POST; 413 for a body over MAX_FORM, 415 for another
    media type."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM):
        raise HTTPException(413, "The form is too large.")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise HTTPException(415, "Forms are sent as application/x-www-form-urlencoded.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise HTTPException(413, "The form is too large.")
    try:
        pairs: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=2000)
        )
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "The form could not be read.") from None
    return FormData(pairs)


def error_page(
    request: Request, status: int, message: str, details: list[str] | None = None
) -> Response:
    """Returns a small HTML error page in the request's language. It names no user (it may be
    shown before sign-in), but a signed-in user gets the navigation back and no "Sign in"."""
    web: Web | None = getattr(request.app.state, "web", None)
    session = web.sessions.read(request) if web is not None else None
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
    return HTMLResponse(html, status_code=status)


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
    return error_page(request, exc.status_code, _translated(request, str(exc.detail)))


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


def query_string(values: Mapping[str, str | None]) -> str:
    """Returns `?a=b&c=d` for the non-empty values (or an empty string)."""
    parts = [f"{k}={quote(v, safe='')}" for k, v in values.items() if v]
    return "?" + "&".join(parts) if parts else ""
