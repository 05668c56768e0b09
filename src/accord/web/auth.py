"""Sign-in and sign-out.

The sign-in form is itself CSRF-protected: a visitor gets an anonymous session (a signed cookie
holding only a CSRF token) with the form, and the POST must carry that token. A successful sign-in
replaces the cookie with a new session (a new token) for the user, recorded in the store; sign-out
deletes that record, so the old cookie is refused afterwards. Partner nodes, and users of other
nations, are refused with the same message as a wrong secret. Failed sign-ins are throttled as on
TAXII and the API (accord.principals.throttle): while the name or address must wait, the form
answers 429 with `Retry-After` and the secret is not checked.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from accord import i18n
from accord.errors import Throttled, Unauthenticated
from accord.i18n import N_, _
from accord.principals import throttle
from accord.principals.service import check_secret
from accord.principals.throttle import client_address
from accord.web.context import base_path, request_language
from accord.web.errorpages import error_page
from accord.web.pages import Web, lookup, may_sign_in, read_form
from accord.web.sessions import Session
from accord.web.templating import templates

HOME = "/network"


def safe_next(request: Request, target: str | None) -> str:
    """Returns where to go after sign-in: `target` when it is a path inside the web interface
    (never another site: no scheme, no `//`, no backslash), else the network page."""
    base = base_path(request)
    if (
        target
        and target.startswith(base + "/")
        and not target.startswith("//")
        and "\\" not in target
        and "://" not in target
        and "/." not in target
        and not target.startswith(base + "/login")
    ):
        return target
    return base + HOME


def _login_page(
    request: Request, session: Session, target: str, error: str | None, status: int = 200
) -> HTMLResponse:
    lang = request_language(request, session)
    with i18n.using(lang):
        html = templates.get_template("login.html").render(
            base=base_path(request),
            csrf=session.csrf,
            next=target,
            error=_(error) if error else None,
            party=request.app.state.web.node.party,
            signed_out=request.query_params.get("signed_out") == "1",
            name=request.query_params.get("name", ""),
            lang=lang,
            languages=i18n.NATIVE_NAMES,
            here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        )
    response = HTMLResponse(html, status_code=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Form realm="accord"'
    return response


async def login(request: Request) -> Response:
    """GET: the sign-in form (a visitor session is issued with it). POST: checks the token and the
    credentials; a user of this node is signed in and sent on, anyone else gets the form again
    with "invalid credentials" (401)."""
    web: Web = request.app.state.web
    session = web.sessions.read(request)
    if request.method == "GET":
        if await run_in_threadpool(web.user, session):
            return RedirectResponse(
                safe_next(request, request.query_params.get("next")), status_code=303
            )
        if session is None or session.user is not None:
            session = Session.anonymous(session.lang if session is not None else None)
        page: Response = _login_page(request, session, request.query_params.get("next", ""), None)
        web.sessions.write(request, page, session)
        return page
    form = await read_form(request)
    if session is None or not session.csrf_ok(form.get("csrf")):
        return _refused(
            request,
            N_(
                "The sign-in form was refused: its security token is missing or out of date. "
                "Reload the sign-in page and try again."
            ),
        )
    name = str(form.get("name") or "").strip()
    secret = str(form.get("secret") or "")
    target = str(form.get("next") or "")

    address = client_address(request.client.host if request.client else None)

    def check() -> Session | None:
        found = lookup(web, name)  # one read: the secret is checked against this very row
        try:
            principal = throttle.guarded(
                web.node.store,
                web.node.config.throttle,
                name,
                address,
                web.node.snapshot().auth_watch,
                lambda: check_secret(found, name, secret),
            )
        except Unauthenticated:
            return None
        if found is None or not may_sign_in(web.node, principal):
            return None
        signed = Session.signed_in(
            principal.name, web.sessions.fingerprint(found.secret_hash), session.lang
        )
        web.sessions.start(signed)
        return signed

    try:
        signed = await run_in_threadpool(check) if name and secret else None
    except Throttled as exc:
        fresh = Session.anonymous(session.lang)
        with i18n.using(request_language(request, session)):
            text = _(
                "Sign-in refused: too many failed attempts for this name or from this address. "
                "The secret was not checked. Try again in %(seconds)s second(s); a locked "
                "credential is unlocked by an operator (accord credential unlock)."
            ) % {"seconds": exc.retry_after}
        throttled: Response = _login_page(request, fresh, target, text, status=429)
        throttled.headers["Retry-After"] = str(exc.retry_after)
        web.sessions.write(request, throttled, fresh)
        return throttled
    if signed is None:
        fresh = Session.anonymous(session.lang)
        response: Response = _login_page(
            request,
            fresh,
            target,
            N_(
                "Sign-in refused: the name or secret is wrong, or this credential is not a user "
                "of this node (partner nodes use TAXII, not the web interface)."
            ),
            status=401,
        )
        web.sessions.write(request, response, fresh)
        return response
    response = RedirectResponse(safe_next(request, target), status_code=303)
    web.sessions.write(request, response, signed)
    return response


async def logout(request: Request) -> Response:
    """POST (with the session's token): ends the session and returns to the sign-in form."""
    web: Web = request.app.state.web
    session = web.sessions.read(request)
    form = await read_form(request)
    if session is None or not session.csrf_ok(form.get("csrf")):
        return _refused(request, N_("The sign-out form was refused: reload and try again."))
    await run_in_threadpool(web.sessions.end, session)  # refused from now on, by every process
    response = RedirectResponse(f"{base_path(request)}/login?signed_out=1", status_code=303)
    if session.lang:
        # The signed-out visitor keeps the language chosen, in a new session of its own.
        web.sessions.write(request, response, Session.anonymous(session.lang))
    else:
        web.sessions.clear(request, response)
    return response


async def choose_language(request: Request) -> Response:
    """POST `lang` (en, ko or ja) with the session's token: keeps the choice in the session, for
    visitors on the sign-in page as for signed-in users, and returns to `next` (a page of the
    interface, else the network page)."""
    web: Web = request.app.state.web
    session = web.sessions.read(request)
    form = await read_form(request)
    if session is None or not session.csrf_ok(form.get("csrf")):
        return _refused(
            request,
            N_(
                "The form was refused: its security token is missing or out of date. Reload "
                "the page and try again."
            ),
        )
    lang = str(form.get("lang") or "")
    if lang not in i18n.LANGUAGES:
        return _refused(request, N_("Unknown language: choose one of en, ko, ja."), 400)
    target = str(form.get("next") or "")
    login = base_path(request) + "/login"
    back = target if target.startswith(login) and "//" not in target else safe_next(request, target)
    response = RedirectResponse(back, status_code=303)
    web.sessions.write(request, response, session.with_language(lang))
    return response


def _refused(request: Request, message: str, status: int = 403) -> Response:
    """Returns the error page for a refused form, `message` in the request's language."""
    return error_page(request, status, _in(request, message))


def _in(request: Request, message: str) -> str:
    """Returns `message` translated into the request's language."""
    with i18n.using(request_language(request)):
        return _(message)


async def home(request: Request) -> Response:
    """`/ui/` goes to the network page (which sends a visitor to sign in first)."""
    return RedirectResponse(base_path(request) + HOME, status_code=303)
