"""Throttling of failed authentication, per account and per client address (PRODUCT.md §7:
"guessing secrets is throttled"; docs/security.md, "Authentication").

Every failed attempt counts against the **submitted name** (whether or not a credential has that
name, so the answers never tell an attacker which names exist) and against the **client address**
(an IPv6 address counts as its /64). After `free_failures` failures of one account (or
`address_failures` from one address) within `window` seconds, each further attempt must wait
`backoff(failures)` seconds after the last failure: 1 s, then 2, 4, 8 … up to `backoff_cap`. An
attempt during the wait is refused with `Throttled` (HTTP 429 + `Retry-After`) **before the secret
is looked at**, so guessing during the back-off learns nothing, and a right secret is refused too.
A success clears the account's failures. An account that reaches `lockout` failures is locked:
every attempt is refused until an operator runs `accord credential unlock NAME` or
`lockout_seconds` pass; the lockout and the unlock are audit records naming the account and the
client address.

The counters are rows of `auth_failures`, shared by every process serving the store. So that a
valid request pays nothing for this, the store is consulted only while `accord_meta`'s
`auth_watch_until` (read in the same round trip as the request's other counters,
`accord.node.Snapshot.auth_watch`) says some failure anywhere may still matter: each failure
moves it to the end of its window (or of its lockout).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from accord.audit import log as audit
from accord.errors import NotFound, Throttled, Unauthenticated
from accord.store import Store
from accord.store.auth_schema import auth_failures
from accord.store.exchange_schema import principals
from accord.store.schema import meta

#: `accord_meta` key: seconds since the epoch until which recorded failures may still matter.
WATCH_KEY = "auth_watch_until"
ACCOUNT, ADDRESS = "account", "address"
_MICRO = 1_000_000

T = TypeVar("T")


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers of the throttle (settings `auth_*`, accord.settings; defaults documented in
    docs/security.md). `enabled=False` turns it off, for measuring its cost only."""

    enabled: bool = True
    free_failures: int = 5
    address_failures: int = 100
    backoff_cap: int = 900
    window: int = 3600
    lockout: int = 30
    lockout_seconds: int = 86400


def backoff(failures: int, free: int, cap: int) -> int:
    """Returns the seconds an account (or address) with `failures` recent failures must wait after
    its last one: 0 below `free`, then 1, 2, 4 … doubling per further failure, never above `cap`.
    Non-decreasing in `failures` (tests/security/test_auth_backoff.py)."""
    if failures < free or cap <= 0:
        return 0
    exponent = failures - free
    return cap if exponent >= cap.bit_length() else min(1 << exponent, cap)


def client_address(host: str | None) -> str:
    """Returns the address failures are counted against: the IPv4 address, the /64 of an IPv6
    address (one host holds a whole /64), or `unknown` when the server was not told."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(kind: str, subject: str) -> str:
    return hashlib.sha256(f"{kind}:{subject}".encode()).hexdigest()


def _now_us() -> int:
    return int(time.time() * _MICRO)


def _wait(row: sa.Row[tuple[object, ...]], policy: ThrottlePolicy, now: int) -> tuple[int, bool]:
    """Returns (microseconds still to wait, locked) for one stored row."""
    m = row._mapping
    last, failures, locked_at = int(m["last_failure"]), int(m["failures"]), m["locked_at"]
    if locked_at is not None:
        until = int(locked_at) + policy.lockout_seconds * _MICRO
        if now < until:
            return until - now, True
        return 0, False  # the lockout has run out; a new failure starts afresh
    if now - last > policy.window * _MICRO:
        return 0, False
    free = policy.free_failures if m["kind"] == ACCOUNT else policy.address_failures
    return max(0, last + backoff(failures, free, policy.backoff_cap) * _MICRO - now), False


def check(store: Store, policy: ThrottlePolicy, name: str, address: str, watch_until: int) -> bool:
    """Raises Throttled when the account `name` or the client `address` must wait (or the account
    is locked); returns True when the account has failures on record (a success then clears
    them). Reads the store only while `watch_until` (seconds) is ahead of the clock."""
    if not policy.enabled or time.time() >= watch_until:
        return False
    keys = {_key(ACCOUNT, name): ACCOUNT, _key(ADDRESS, address): ADDRESS}
    with store.read() as conn:
        rows = conn.execute(sa.select(auth_failures).where(auth_failures.c.key.in_(keys))).all()
    now = _now_us()
    has_account = False
    for row in rows:
        kind = keys[str(row._mapping["key"])]
        has_account = has_account or kind == ACCOUNT
        wait, locked = _wait(row, policy, now)
        if locked:
            raise Throttled(
                "too many failed attempts for this account: it is locked until an operator "
                f"unlocks it or {-(-wait // _MICRO)} seconds pass",
                -(-wait // _MICRO),
            )
        if wait > 0:
            whose = "this account" if kind == ACCOUNT else "this client address"
            raise Throttled(
                f"too many failed attempts for {whose}: the credentials were not checked; "
                f"retry after {-(-wait // _MICRO)} second(s)",
                -(-wait // _MICRO),
            )
    return has_account


def _insert(store: Store) -> Callable[..., sa.Insert]:
    dialect = postgresql if store.dialect == "postgresql" else sqlite
    return lambda **values: dialect.insert(auth_failures).values(**values).on_conflict_do_nothing()


def record_failure(store: Store, policy: ThrottlePolicy, name: str, address: str) -> None:
    """Counts one failed attempt against the account `name` and the client `address`, locks the
    account when it reaches `policy.lockout` (an audit record naming both), and moves the watch
    mark so that every process consults the counters until they can no longer matter."""
    if not policy.enabled:
        return
    now = _now_us()
    insert = _insert(store)
    watch = now // _MICRO + max(policy.window, policy.backoff_cap) + 1
    with store.begin() as conn:
        for kind, subject in ((ACCOUNT, name[:100]), (ADDRESS, address)):
            key = _key(kind, name if kind == ACCOUNT else address)
            conn.execute(insert(key=key, kind=kind, subject=subject, failures=0, last_failure=now))
            row = conn.execute(
                sa.select(auth_failures).where(auth_failures.c.key == key).with_for_update()
            ).one()
            m = row._mapping
            fresh = m["failures"] == 0 or _expired(row, policy, now)
            failures = 1 if fresh else int(m["failures"]) + 1
            locked_at = None if fresh else m["locked_at"]
            if kind == ACCOUNT and policy.lockout > 0 and failures >= policy.lockout:
                if locked_at is None:
                    locked_at = now
                    audit.append(
                        conn,
                        "credential",
                        address,
                        subject,
                        {"action": "lockout", "address": address, "failures": failures},
                    )
                watch = max(watch, int(locked_at) // _MICRO + policy.lockout_seconds + 1)
            conn.execute(
                sa.update(auth_failures)
                .where(auth_failures.c.key == key)
                .values(failures=failures, last_failure=now, locked_at=locked_at)
            )
        _raise_watch(conn, watch)


def _expired(row: sa.Row[tuple[object, ...]], policy: ThrottlePolicy, now: int) -> bool:
    """True when a row's failures no longer count: quiet for a window, or a lockout run out."""
    m = row._mapping
    if m["locked_at"] is not None:
        return now >= int(m["locked_at"]) + policy.lockout_seconds * _MICRO
    return now - int(m["last_failure"]) > policy.window * _MICRO


def _raise_watch(conn: sa.Connection, until: int) -> None:
    """Moves `auth_watch_until` forward to `until` (never back: another process may have set a
    later mark for a lockout)."""
    value = sa.cast(meta.c.value, sa.BigInteger)
    done = conn.execute(
        sa.update(meta).where(meta.c.key == WATCH_KEY, value < until).values(value=str(until))
    )
    if done.rowcount == 0:
        exists = conn.execute(sa.select(meta.c.key).where(meta.c.key == WATCH_KEY)).first()
        if exists is None:
            conn.execute(sa.insert(meta).values(key=WATCH_KEY, value=str(until)))


def clear_account(store: Store, name: str) -> None:
    """Forgets the account's failures (after a successful authentication)."""
    with store.begin() as conn:
        conn.execute(sa.delete(auth_failures).where(auth_failures.c.key == _key(ACCOUNT, name)))


def guarded(
    store: Store,
    policy: ThrottlePolicy,
    name: str,
    address: str,
    watch_until: int,
    attempt: Callable[[], T],
) -> T:
    """Runs `attempt` (which checks the secret and raises Unauthenticated when it is wrong) only
    when neither the account nor the address must wait; counts its failure, or clears the
    account's failures after a success. Returns what `attempt` returns."""
    on_record = check(store, policy, name, address, watch_until)
    try:
        result = attempt()
    except Unauthenticated:
        record_failure(store, policy, name, address)
        raise
    if on_record:
        clear_account(store, name)
    return result


def unlock(store: Store, name: str, actor: str, address: str) -> bool:
    """Unlocks the credential `name` and forgets its failures; returns whether it was locked.
    Audited (naming the account and where the unlock came from). Raises NotFound when no
    credential, live or revoked, has that name."""
    with store.begin() as conn:
        known = conn.execute(sa.select(principals.c.name).where(principals.c.name == name)).first()
        if known is None:
            raise NotFound(f"no credential named {name!r}")
        key = _key(ACCOUNT, name)
        row = conn.execute(sa.select(auth_failures).where(auth_failures.c.key == key)).first()
        locked = row is not None and row._mapping["locked_at"] is not None
        conn.execute(sa.delete(auth_failures).where(auth_failures.c.key == key))
        audit.append(
            conn,
            "credential",
            actor,
            name,
            {"action": "unlock", "address": address, "was_locked": locked},
        )
    return locked
