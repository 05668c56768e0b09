"""Signed session cookies and CSRF tokens; signed-in sessions are also kept in the store.

A session is one cookie, `accord_session`, whose value is a signed, timestamped payload
(itsdangerous): the signed-in user's name (or none, for a visitor on the sign-in page), a random
per-session CSRF token, a fingerprint of the user's stored credential so that revoking or
replacing the credential ends every session made with it, in every process, and for a signed-in
user a random session id whose SHA-256 is a row of `web_sessions`: sign-out deletes the row, so
the cookie of a signed-out session is refused afterwards by every process, even if it was copied
before (docs/security.md, "Authentication"). Visitor sessions hold no row. The signing key is
kept in the store's meta table (`web_session_key`), so every process serving the store accepts the
cookies the others issue. The cookie is HttpOnly, SameSite=Strict, scoped to the web interface's
path, and Secure when the request came over https.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from accord.errors import StoreError
from accord.i18n import LANGUAGES
from accord.store import Store
from accord.store.auth_schema import web_sessions
from accord.store.meta import get_meta
from accord.store.schema import meta

COOKIE = "accord_session"
KEY_NAME = "web_session_key"
#: A session lasts at most this long after sign-in (seconds); the browser drops it on exit.
MAX_AGE = 8 * 3600


def shared_key(store: Store) -> str:
    """Returns the session signing key kept in the store, creating it on first use. The insert is
    atomic (the key is the table's primary key), so processes starting together agree on one."""
    found = get_meta(store, KEY_NAME)
    if found is not None:
        return found
    try:
        with store.begin() as conn:
            conn.execute(sa.insert(meta).values(key=KEY_NAME, value=secrets.token_hex(32)))
    except (StoreError, sa.exc.IntegrityError):
        pass  # another process created it first: read theirs
    found = get_meta(store, KEY_NAME)
    if found is None:  # pragma: no cover - the insert above failed for another reason
        raise StoreError("the web session key could not be stored")
    return found


@dataclass(frozen=True)
class Session:
    """A decoded session: `user` (None before sign-in), the per-session `csrf` token, `fp`, the
    fingerprint of the credential the user signed in with, `sid`, the id of its stored row, and
    `lang`, the language the user chose (None: the browser's `Accept-Language` decides)."""

    user: str | None
    csrf: str
    fp: str | None = None
    sid: str | None = field(default=None, repr=False)
    lang: str | None = None

    @classmethod
    def anonymous(cls, lang: str | None = None) -> Session:
        """Returns a new visitor session with a fresh CSRF token (and the language chosen)."""
        return cls(None, secrets.token_urlsafe(32), lang=lang)

    @classmethod
    def signed_in(cls, user: str, fp: str, lang: str | None = None) -> Session:
        """Returns a new session for `user` with a fresh CSRF token (never the visitor's); the
        language chosen before sign-in is kept."""
        return cls(user, secrets.token_urlsafe(32), fp, secrets.token_urlsafe(32), lang)

    def with_language(self, lang: str) -> Session:
        """Returns this session with `lang` chosen (same user, token and row)."""
        return replace(self, lang=lang)

    def csrf_ok(self, token: object) -> bool:
        """True when `token` (a form field) is this session's CSRF token."""
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.csrf.encode())


class Sessions:
    """Reads and writes session cookies for one store's key."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = shared_key(store)
        self._serializer = URLSafeTimedSerializer(self._key, salt="accord.web.session")

    def fingerprint(self, secret_hash: str) -> str:
        """Returns a short keyed digest of a stored credential hash (never the hash itself)."""
        return hmac.new(self._key.encode(), secret_hash.encode(), hashlib.sha256).hexdigest()[:32]

    def read(self, request: Request) -> Session | None:
        """Returns the request's session, or None when there is no cookie or it is forged,
        tampered with, expired or malformed."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE)
        except BadSignature:
            # The key may have been created by another process after this one read it.
            fresh = get_meta(self._store, KEY_NAME)
            if fresh is None or fresh == self._key:
                return None
            self._key = fresh
            self._serializer = URLSafeTimedSerializer(fresh, salt="accord.web.session")
            try:
                data = self._serializer.loads(raw, max_age=MAX_AGE)
            except BadSignature:
                return None
        if not isinstance(data, dict):
            return None
        user, csrf, fp, sid = data.get("u"), data.get("c"), data.get("f"), data.get("s")
        lang = data.get("l")
        if not isinstance(csrf, str) or not csrf:
            return None
        if user is not None and not (
            isinstance(user, str) and isinstance(fp, str) and isinstance(sid, str)
        ):
            return None
        return Session(
            user,
            csrf,
            fp if isinstance(fp, str) else None,
            sid if isinstance(sid, str) else None,
            lang if lang in LANGUAGES else None,
        )

    def start(self, session: Session) -> None:
        """Records a signed-in session in the store (and forgets sessions past MAX_AGE)."""
        assert session.user is not None and session.sid is not None
        now = int(time.time())
        with self._store.begin() as conn:
            conn.execute(sa.delete(web_sessions).where(web_sessions.c.created_at < now - MAX_AGE))
            conn.execute(
                sa.insert(web_sessions).values(
                    id=_row_id(session.sid), name=session.user, created_at=now
                )
            )

    def live(self, session: Session) -> bool:
        """True when the signed-in session's row is in the store: not signed out, not expired."""
        if session.user is None or session.sid is None:
            return False
        with self._store.read() as conn:
            found = conn.execute(
                sa.select(web_sessions.c.name, web_sessions.c.created_at).where(
                    web_sessions.c.id == _row_id(session.sid)
                )
            ).first()
        return (
            found is not None
            and found[0] == session.user
            and int(found[1]) >= int(time.time()) - MAX_AGE
        )

    def end(self, session: Session) -> None:
        """Ends a signed-in session in every process: its row is deleted."""
        if session.sid is None:
            return
        with self._store.begin() as conn:
            conn.execute(sa.delete(web_sessions).where(web_sessions.c.id == _row_id(session.sid)))

    def write(self, request: Request, response: Response, session: Session) -> None:
        """Sets the session cookie on `response`: signed, HttpOnly, SameSite=Strict, limited to
        the web interface's path, Secure over https."""
        value = self._serializer.dumps(
            {
                "u": session.user,
                "c": session.csrf,
                "f": session.fp,
                "s": session.sid,
                "l": session.lang,
            }
        )
        response.set_cookie(
            COOKIE,
            value,
            path=cookie_path(request),
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )

    def clear(self, request: Request, response: Response) -> None:
        """Removes the session cookie (sign-out)."""
        response.delete_cookie(
            COOKIE,
            path=cookie_path(request),
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )


def _row_id(sid: str) -> str:
    """Returns the stored key of a session id: its SHA-256, so the table gives no cookie."""
    return hashlib.sha256(sid.encode()).hexdigest()


def cookie_path(request: Request) -> str:
    """Returns the path the cookie is limited to: where the web interface is mounted."""
    return str(request.scope.get("root_path") or "") + "/"
