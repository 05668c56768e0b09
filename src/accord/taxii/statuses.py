"""Status resources (§4.3): written when an envelope is processed, read back by their owner.

Processing is synchronous, so a status is `complete` when returned; its counts always agree with
its lists (taxii2-client checks `success + failure + pending == total`, taxii-stix.md §3.1)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa

from accord.errors import NotFound
from accord.exchange.repository import Outcome
from accord.store import Store
from accord.store.exchange_schema import statuses
from accord.taxii.params import format_us


def status_body(status_id: str, requested: int, outcomes: Sequence[Outcome]) -> dict[str, object]:
    """Returns the status resource for processed outcomes (empty lists omitted, §3.8)."""
    ok = [{"id": o.id, "version": o.version, "message": o.message} for o in outcomes if o.ok]
    bad = [{"id": o.id, "version": o.version, "message": o.message} for o in outcomes if not o.ok]
    body: dict[str, object] = {
        "id": status_id,
        "status": "complete",
        "request_timestamp": format_us(requested),
        "total_count": len(outcomes),
        "success_count": len(ok),
        "failure_count": len(bad),
        "pending_count": 0,
    }
    if ok:
        body["successes"] = ok
    if bad:
        body["failures"] = bad
    return body


def save_status(
    conn: sa.Connection,
    api_root: str,
    status_id: str,
    principal: str,
    requested: int,
    outcomes: Sequence[Outcome],
) -> bytes:
    """Stores the status resource inside the caller's transaction; returns its JSON."""
    body = orjson.dumps(status_body(status_id, requested, outcomes))
    conn.execute(
        sa.insert(statuses).values(
            id=status_id,
            api_root=api_root,
            principal=principal,
            created=requested,
            body=body.decode(),
        )
    )
    return body


def get_status(store: Store, api_root: str, status_id: str, principal: str) -> bytes:
    """Returns a status resource's JSON; NotFound unless `principal` made that request."""
    with store.read() as conn:
        row = conn.execute(
            sa.select(statuses.c.body).where(
                statuses.c.id == status_id,
                statuses.c.api_root == api_root,
                statuses.c.principal == principal,
            )
        ).first()
    if row is None:
        raise NotFound(f"no status {status_id[:60]!r}")
    return str(row[0]).encode()
