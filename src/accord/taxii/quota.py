"""Per-principal write quotas on TAXII Add Objects (docs/security.md, "Bounded cost of hostile
input"): each principal may POST `write_quota_objects` objects and `write_quota_bytes` body bytes
per window of `write_quota_interval` seconds. An envelope is accepted while the principal's
window is not yet spent, and is then charged in full; once spent, every further envelope of that
window is refused with `TooManyRequests` (429 and `Retry-After`: the seconds to the window's
end). So a window admits at most its budget plus one envelope (`max_content_length` bounds that
one), and a single envelope larger than the budget is still processed rather than refused for
ever.

Every kind of TAXII writer is counted alike: partner nodes and the node's own users posting to
TAXII. The node's own users publishing through the web interface or the CLI are not: they are
the node's operators, authenticated and audited by the node itself.

The count lives in the store (`write_quotas`, one row per principal), so the quota holds across
worker processes. A request costs one read by key before its body is read (`check`: a writer
whose window is spent is refused without reading or parsing the body) and, for an envelope, one
upsert (`charge`), in a transaction of its own, rolled back when it is refused so that a refused
attempt costs the principal nothing."""

from __future__ import annotations

import functools
import math
import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from accord.errors import TooManyRequests
from accord.limits import Limits
from accord.store import Store
from accord.store.exchange_schema import write_quotas

# The principal's window, read before the body (values bound per call).
_WINDOW = sa.select(write_quotas.c.started, write_quotas.c.objects, write_quotas.c.bytes).where(
    write_quotas.c.principal == sa.bindparam("principal", type_=sa.String)
)


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    """The charge, built once per dialect (its values are bound per call): it adds to the
    principal's row while its window is current; a newer window starts afresh."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(write_quotas).values(
        principal=sa.bindparam("principal", type_=sa.String),
        started=sa.bindparam("started", type_=sa.BigInteger),
        objects=sa.bindparam("objects", type_=sa.BigInteger),
        bytes=sa.bindparam("bytes", type_=sa.BigInteger),
    )
    current = write_quotas.c.started >= ins.excluded.started
    return ins.on_conflict_do_update(
        index_elements=[write_quotas.c.principal],
        set_={
            "started": sa.case((current, write_quotas.c.started), else_=ins.excluded.started),
            "objects": sa.case(
                (current, write_quotas.c.objects + ins.excluded.objects),
                else_=ins.excluded.objects,
            ),
            "bytes": sa.case(
                (current, write_quotas.c.bytes + ins.excluded.bytes), else_=ins.excluded.bytes
            ),
        },
    ).returning(write_quotas.c.started, write_quotas.c.objects, write_quotas.c.bytes)


def _window(limits: Limits, now: float) -> int:
    interval = limits.write_quota_interval
    return int(now // interval) * interval


def _refusal(
    limits: Limits, started: int, objects: int, n_bytes: int, now: float
) -> TooManyRequests:
    interval = limits.write_quota_interval
    budget = [
        f"{n} {unit}"
        for n, unit in (
            (limits.write_quota_objects, "objects"),
            (limits.write_quota_bytes, "bytes"),
        )
        if n > 0
    ]
    retry = max(1, math.ceil(started + interval - now))
    return TooManyRequests(
        f"write quota spent: at most {' and '.join(budget)} per {interval} s per principal "
        f"(this window: {objects} objects, {n_bytes} bytes); try again in {retry} s",
        retry_after=retry,
    )


def _spent(limits: Limits, objects: int, n_bytes: int) -> bool:
    max_objects, max_bytes = limits.write_quota_objects, limits.write_quota_bytes
    return (max_objects > 0 and objects >= max_objects) or (max_bytes > 0 and n_bytes >= max_bytes)


def _off(limits: Limits) -> bool:
    return limits.write_quota_interval <= 0 or (
        limits.write_quota_objects <= 0 and limits.write_quota_bytes <= 0
    )


def check(store: Store, limits: Limits, principal: str, now: float | None = None) -> None:
    """Raises `TooManyRequests` when `principal`'s current window is already spent: one read by
    key, made before the body is read, so a writer over its quota costs no body and no parse."""
    if _off(limits):
        return
    now = time.time() if now is None else now
    with store.read() as conn:
        row = conn.execute(_WINDOW, {"principal": principal}).first()
    if (
        row is not None
        and int(row[0]) >= _window(limits, now)
        and _spent(limits, int(row[1]), int(row[2]))
    ):
        raise _refusal(limits, int(row[0]), int(row[1]), int(row[2]), now)


def charge(
    store: Store,
    limits: Limits,
    principal: str,
    n_objects: int,
    n_bytes: int,
    now: float | None = None,
) -> None:
    """Charges an envelope of `n_objects` objects and `n_bytes` bytes to `principal`'s window;
    raises `TooManyRequests` (nothing charged) when the window was already spent."""
    if _off(limits):
        return
    now = time.time() if now is None else now
    with store.begin() as conn:
        row = conn.execute(
            _upsert(store.dialect),
            {
                "principal": principal,
                "started": _window(limits, now),
                "objects": n_objects,
                "bytes": n_bytes,
            },
        ).one()
        started, objects_before, bytes_before = (
            int(row[0]),
            int(row[1]) - n_objects,
            int(row[2]) - n_bytes,
        )
        if _spent(limits, objects_before, bytes_before):
            # Raised inside the transaction: the charge above is rolled back.
            raise _refusal(limits, started, objects_before, bytes_before, now)
