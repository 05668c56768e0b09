"""Where a request stands: the path the web interface is mounted at, and the language to answer
in (the user's choice kept in the session, else `Accept-Language`, else English)."""

from __future__ import annotations

from starlette.requests import Request

from accord import i18n
from accord.web.sessions import Session


def base_path(request: Request) -> str:
    return str(request.scope.get("root_path") or "")


def request_language(request: Request, session: Session | None = None) -> str:
    """Returns the language to answer in: the one the user chose (kept in the session), else
    the one the browser's `Accept-Language` prefers among those served, else English."""
    if session is None:
        sessions = getattr(getattr(request.app.state, "web", None), "sessions", None)
        session = sessions.read(request) if sessions is not None else None
    if session is not None and session.lang:
        return session.lang
    return i18n.negotiate(request.headers.get("accept-language"))
