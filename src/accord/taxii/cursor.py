"""Stateless `next` tokens (§3.5, Appendix B).

A token is `base64url(payload).signature`, signed with itsdangerous (HMAC-SHA256 under the node's
cursor key, salted for this use only): the payload binds the principal, the endpoint,
the collection and a digest of the other filters to a position (the last date_added served). Any
process holding the node's key can serve the next page (nothing is kept in memory, unlike
medallion), a token replayed by another principal or with other filters is refused (400), and
every page is re-authorised because visibility is recomputed per request: the token carries only a
position, never a result set.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

import orjson
from itsdangerous import BadSignature, Signer

from accord.errors import InputError

_SALT = "accord.taxii.cursor"


def _signer(key: bytes) -> Signer:
    return Signer(key, salt=_SALT, digest_method=hashlib.sha256)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_digest(params: Sequence[tuple[str, str]]) -> str:
    """Returns a digest of the filters other than `next` and `limit`, order-independent."""
    kept = sorted((k, v) for k, v in params if k not in ("next", "limit"))
    return hashlib.sha256(orjson.dumps(kept)).hexdigest()[:32]


def issue(key: bytes, principal: str, scope: str, digest: str, position: int) -> str:
    """Returns a token for the page after `position`."""
    payload = orjson.dumps({"p": principal, "s": scope, "q": digest, "a": position})
    return _signer(key).sign(_b64(payload)).decode()


def redeem(key: bytes, token: str, principal: str, scope: str, digest: str) -> int:
    """Returns the position a token names; InputError when it is forged, altered, or issued for
    another principal, endpoint or set of filters."""
    try:
        payload = _unb64(_signer(key).unsign(token).decode())
        data = orjson.loads(payload)
    except (BadSignature, ValueError, UnicodeError, orjson.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise InputError("next: not a token this server issued")
    if data.get("p") != principal or data.get("s") != scope or data.get("q") != digest:
        raise InputError("next: the token was issued for another request (same filters required)")
    return int(data["a"])
