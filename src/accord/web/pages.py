"""What every page handler shares: the signed-in user, CSRF checks, forms and rendering.

A page handler is a plain function `handler(ctx) -> Response`, wrapped by `@page`. The wrapper
reads the session; without a signed-in user of this node it redirects a GET to the sign-in page
(and refuses anything else with 403); for a POST it reads the form and refuses it with 403 unless
it carries the session's CSRF token. The handler then runs in a worker thread (the store is
synchronous), with a `Ctx` giving it the node, the user, the form and `render`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from accord import i18n
from accord.errors import InputError
from accord.i18n import _
from accord.node import Node
from accord.policy.access import User
from accord.policy.world import World
from accord.principals import Principal
from accord.principals.service import PrincipalRecord, lookup_principal
from accord.registry.model import Party
from accord.web.context import base_path, request_language
from accord.web.errorpages import error_page
from accord.web.sessions import Session, Sessions
from accord.web.templating import templates

log = logging.getLogger("accord.web")

#: Form bodies larger than this are refused before they are read (bytes).
MAX_FORM = 2 * 1024 * 1024
#: The same for a form that uploads a file (`upload_page`: an order's documents).
MAX_UPLOAD = 8 * 1024 * 1024


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


Handler = Callable[[Ctx], Response]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a page handler with sign-in, CSRF and form reading (see the module docstring)."""
    return _wrap(handler, uploads=False)


def upload_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """As `page`, and a POST may also be multipart/form-data carrying one file (MAX_UPLOAD
    bytes at most), its CSRF token among the fields."""
    return _wrap(handler, uploads=True)


def _wrap(handler: Handler, uploads: bool) -> Callable[[Request], Awaitable[Response]]:
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
            form = await read_form(request, uploads)
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


async def read_form(request: Request, uploads: bool = False) -> FormData:
    """Returns the URL-encoded form of a POST; 413 for a body over MAX_FORM, 415 for another
    media type. With `uploads`, a multipart form of at most MAX_UPLOAD bytes and one file."""
    length = request.headers.get("content-length")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if uploads and ctype == "multipart/form-data":
        if length is None or not length.isdigit():
            raise HTTPException(400, "The form could not be read.")
        if int(length) > MAX_UPLOAD:
            raise HTTPException(413, "The form is too large.")
        try:
            return await request.form(max_files=1, max_fields=100)
        except (HTTPException, ValueError):
            raise HTTPException(400, "The form could not be read.") from None
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM):
        raise HTTPException(413, "The form is too large.")
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


def query_string(values: Mapping[str, str | None]) -> str:
    """Returns `?a=b&c=d` for the non-empty values (or an empty string)."""
    parts = [f"{k}={quote(v, safe='')}" for k, v in values.items() if v]
    return "?" + "&".join(parts) if parts else ""
