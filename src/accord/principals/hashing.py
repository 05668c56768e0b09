"""Secrets stored only as salted slow hashes (scrypt, RFC 7914).

`hash_secret(s)` returns `scrypt$N$r$p$salt$hash` (base64); `verify(s, stored)` compares in constant
time. The parameters (N=2^14, r=8, p=1: about 16 MiB and tens of milliseconds) make a stolen
table expensive to attack; the cost per request is paid once per process thanks to the verified-
credential cache in `accord.principals.service`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    """Returns the stored form of `secret` with a fresh random salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify(secret: str, stored: str) -> bool:
    """True when `secret` hashes to `stored`; False for any malformed stored value."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        got = hashlib.scrypt(
            secret.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)
