"""Status resources (§4.3): written when an envelope is processed, read back by their owner.

Processing is synchronous, so a status is `complete` when returned; its counts always agree with
its lists (taxii2-client checks `success + failure + pending == total` and that a list it is
given holds as many details as its count, taxii-stix.md §3.1).

A status costs the node a bounded amount whatever was posted (docs/security.md, "Bounded cost of
hostile input"):

- a list (`successes`, `failures`) is given whole while it holds at most `status_list_limit`
  details. A longer one is left out (a partial list would break the clients' count check) and
  its first `status_list_limit` details are given as `x_accord_successes` / `x_accord_failures`
  with `x_accord_successes_omitted` / `x_accord_failures_omitted`, the number not listed
  (custom properties, TAXII 2.1 §7.1); the counts stay exact;
- a status is kept `status_retention` seconds (§4.3 asks for at least 24 hours; then 404) and a
  principal keeps at most its `status_max_per_principal` newest; each status written purges at
  most `PURGE_BATCH` expired statuses and as many of the writer's surplus ones."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa

from accord.errors import NotFound
from accord.exchange.collections import now_us
from accord.exchange.ingest import Outcome
from accord.exchange.stix import format_us
from accord.limits import Limits
from accord.store import Store
from accord.store.exchange_schema import statuses

#: Most statuses one write purges of each kind (expired; over the writer's count).
PURGE_BATCH = 100
#: Longest message of one status-detail, in characters.
MESSAGE_CHARS = 300


def _detail(o: Outcome) -> dict[str, str]:
    return {"id": o.id, "version": o.version, "message": o.message[:MESSAGE_CHARS]}


def status_body(
    status_id: str, requested: int, outcomes: Sequence[Outcome], list_limit: int = 1000
) -> dict[str, object]:
    """Returns the status resource for processed outcomes (empty lists omitted, §3.8), each list
    bounded by `list_limit` as the module says."""
    n_ok = sum(1 for o in outcomes if o.ok)
    body: dict[str, object] = {
        "id": status_id,
        "status": "complete",
        "request_timestamp": format_us(requested),
        "total_count": len(outcomes),
        "success_count": n_ok,
        "failure_count": len(outcomes) - n_ok,
        "pending_count": 0,
    }
    for name, ok, count in (("successes", True, n_ok), ("failures", False, len(outcomes) - n_ok)):
        if count == 0:
            continue
        listed: list[dict[str, str]] = []
        for o in outcomes:
            if o.ok == ok:
                listed.append(_detail(o))
                if len(listed) == list_limit:
                    break
        if count <= list_limit:
            body[name] = listed
        else:
            body[f"x_accord_{name}"] = listed
            body[f"x_accord_{name}_omitted"] = count - len(listed)
    return body


# The two purges, built once (their values are bound per call); both deletes walk an index
# (migration 0011) and stop after PURGE_BATCH rows.
_EXPIRED = sa.delete(statuses).where(
    statuses.c.id.in_(
        sa.select(statuses.c.id)
        .where(statuses.c.created < sa.bindparam("cutoff", type_=sa.BigInteger))
        .order_by(statuses.c.created)
        .limit(PURGE_BATCH)
        .scalar_subquery()
    )
)
_SURPLUS = sa.delete(statuses).where(
    statuses.c.id.in_(
        sa.select(statuses.c.id)
        .where(statuses.c.principal == sa.bindparam("principal", type_=sa.String))
        .order_by(statuses.c.created.desc(), statuses.c.id.desc())
        .offset(sa.bindparam("keep", type_=sa.Integer))
        .limit(PURGE_BATCH)
        .scalar_subquery()
    )
)


def _purge(conn: sa.Connection, principal: str, limits: Limits, now: int) -> None:
    conn.execute(_EXPIRED, {"cutoff": now - limits.status_retention * 1_000_000})
    if limits.status_max_per_principal > 0:
        conn.execute(_SURPLUS, {"principal": principal, "keep": limits.status_max_per_principal})


def save_status(
    conn: sa.Connection,
    api_root: str,
    status_id: str,
    principal: str,
    requested: int,
    outcomes: Sequence[Outcome],
    limits: Limits | None = None,
) -> bytes:
    """Stores the status resource inside the caller's transaction, purging expired and surplus
    statuses as the module says; returns its JSON."""
    limits = limits or Limits()
    body = orjson.dumps(status_body(status_id, requested, outcomes, limits.status_list_limit))
    conn.execute(
        sa.insert(statuses).values(
            id=status_id,
            api_root=api_root,
            principal=principal,
            created=requested,
            body=body.decode(),
        )
    )
    _purge(conn, principal, limits, now_us())
    return body


def get_status(
    store: Store, api_root: str, status_id: str, principal: str, limits: Limits | None = None
) -> bytes:
    """Returns a status resource's JSON; NotFound unless `principal` made that request within
    the retention (an expired status not yet purged is gone all the same)."""
    limits = limits or Limits()
    cutoff = now_us() - limits.status_retention * 1_000_000
    with store.read() as conn:
        row = conn.execute(
            sa.select(statuses.c.body).where(
                statuses.c.id == status_id,
                statuses.c.api_root == api_root,
                statuses.c.principal == principal,
                statuses.c.created >= cutoff,
            )
        ).first()
    if row is None:
        raise NotFound(f"no status {status_id[:60]!r}")
    return str(row[0]).encode()
