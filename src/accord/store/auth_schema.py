"""Tables of sign-in protection (docs/security.md, "Authentication"): failed attempts per account
and per client address, and the web interface's server-side sessions. Same `metadata` as the
registry tables; both are shared by every process serving the store.

- `auth_failures` has one row per throttled key: `key` is the SHA-256 (hex) of `account:NAME` or
  `address:ADDR`, so an attacker's submitted name is never an index key of unbounded length;
  `subject` keeps the name (at most 100 characters) or the address for the audit trail and
  `accord credential unlock`. `failures` counts failures since the last quiet `window`,
  `last_failure` and `locked_at` are microseconds since the epoch.
- `web_sessions` has one row per signed-in web session: `id` is the SHA-256 (hex) of the random
  session id the cookie carries (a copy of the table gives no usable cookie); sign-out deletes it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from accord.store.schema import metadata

auth_failures = Table(
    "auth_failures",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("last_failure", BigInteger, nullable=False),
    Column("locked_at", BigInteger, nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
Index("ix_web_sessions_created", web_sessions.c.created_at)
