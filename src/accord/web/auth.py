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

from accord.errors import Throttled, Unauthenticated
from accord.principals import throttle
from accord.principals.service import check_secret
from accord.principals.throttle import client_address
from accord.web.pages import (
    Web,
    base_path,
    error_page,
    lookup,
    may_sign_in,
    read_form,
    templates,
)
from accord.web.sessions import Session

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
    html = templates.get_template("login.html").render(
        base=base_path(request),
        csrf=session.csrf,
        next=target,
        error=error,
        party=request.app.state.web.node.party,
        signed_out=request.query_params.get("signed_out") == "1",
        name=request.query_params.get("name", ""),
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
            session = Session.anonymous()
        page: Response = _login_page(request, session, request.query_params.get("next", ""), None)
        web.sessions.write(request, page, session)
        return page
    form = await read_form(request)
    if session is None or not session.csrf_ok(form.get("csrf")):
        return error_page(
            request,
            403,
            "The sign-in form was refused: its security token is missing or out of date. "
            "Reload the sign-in page and try again.",
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
        signed = Session.signed_in(principal.name, web.sessions.fingerprint(found.secret_hash))
        web.sessions.start(signed)
        return signed

    try:
        signed = await run_in_threadpool(check) if name and secret else None
    except Throttled as exc:
        fresh = Session.anonymous()
        throttled: Response = _login_page(
            request,
            fresh,
            target,
            f"Sign-in refused: too many failed attempts for this name or from this address. "
            f"The secret was not checked. Try again in {exc.retry_after} second(s); a locked "
            "credential is unlocked by an operator (accord credential unlock).",
            status=429,
        )
        throttled.headers["Retry-After"] = str(exc.retry_after)
        web.sessions.write(request, throttled, fresh)
        return throttled
    if signed is None:
        fresh = Session.anonymous()
        response: Response = _login_page(
            request,
            fresh,
            target,
            "Sign-in refused: the name or secret is wrong, or this credential is not a user of "
            "this node (partner nodes use TAXII, not the web interface).",
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
        return error_page(request, 403, "The sign-out form was refused: reload and try again.")
    await run_in_threadpool(web.sessions.end, session)  # refused from now on, by every process
    response = RedirectResponse(f"{base_path(request)}/login?signed_out=1", status_code=303)
    web.sessions.clear(request, response)
    return response


async def home(request: Request) -> Response:
    """`/ui/` goes to the network page (which sends a visitor to sign in first)."""
    return RedirectResponse(base_path(request) + HOME, status_code=303)
