"""The release record: every object version served to a partner, with time, principal, basis and
the level the recipient must mark it with (PRODUCT.md §2 "Release"). Releases are final (R8), so
they are records of the hash-chained audit log (`accord.audit`), never rewritten.

One record per response keeps the read path fast (one append per page, not per object) while
naming every object version it carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from accord.audit import log as audit
from accord.exchange.repository import Outcome, Row
from accord.exchange.visibility import Grant, View
from accord.principals import Principal
from accord.store import Store


def release_body(
    party: str, collection_id: str, rows: Sequence[Row], view: View, channel: str
) -> dict[str, Any]:
    """Returns the audit body of a release of `rows` to `party` (rows of `view`: the view names
    their markings, so the read path makes no further store query for the record).

    `objects` names every object version with its marking; `grants` says on which basis, by which
    route and at which level the recipient holds each marking, one entry per distinct grant (a
    page often carries many markings released on the same basis)."""
    sids = view.stix_ids
    by_grant: dict[int, tuple[Grant | None, list[str]]] = {}
    seen: set[int] = set()
    for r in rows:
        mrow = r.marking
        if mrow in seen:
            continue
        seen.add(mrow)
        g = view.grants.get(mrow)
        # Equal grants are one object within a view (visibility.compute_view interns them).
        by_grant.setdefault(id(g), (g, []))[1].append(sids.get(mrow, str(mrow)))
    grants = [
        {
            "basis": list(g.basis) if g else [],
            "route": list(g.route) if g else [],
            "level": g.level if g else None,
            "markings": markings,
        }
        for g, markings in by_grant.values()
    ]
    return {
        "party": party,
        "collection": collection_id,
        "channel": channel,
        "count": len(rows),
        "objects": [[r.stix_id, r.version, sids.get(r.marking, str(r.marking))] for r in rows],
        "grants": grants,
    }


def record_release(
    store: Store,
    who: Principal,
    collection_id: str,
    rows: Sequence[Row],
    view: View,
    channel: str = "taxii-read",
) -> None:
    """Appends the release of `rows` to `who` to the audit log."""
    body = release_body(who.party, collection_id, rows, view, channel)
    audit.record(store, "release", who.name, who.party, body)


def record_ingest(
    conn: sa.Connection, who: Principal, collection_id: str, outcomes: Sequence[Outcome]
) -> None:
    """Appends what an envelope delivered, inside the ingest's own transaction: a receipt for the
    stored objects, a refusal for the rest."""
    ok = [[o.id, o.version, o.message] for o in outcomes if o.ok]
    bad = [[o.id, o.version, o.message] for o in outcomes if not o.ok]
    if ok:
        audit.append(
            conn, "receipt", who.name, who.party, {"collection": collection_id, "objects": ok}
        )
    if bad:
        audit.append(
            conn, "refusal", who.name, who.party, {"collection": collection_id, "objects": bad}
        )
