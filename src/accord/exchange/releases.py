"""The release record: every object version served to a partner, with time, principal, basis and
the level the recipient must mark it with (PRODUCT.md §2 "Release"). Releases are final (R8), so
they are records of the hash-chained audit log (`accord.audit`), never rewritten.

One record per response keeps the read path fast (one append per page, not per object) while
naming every object version it carried.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any, Protocol

import sqlalchemy as sa

from accord.audit import log as audit
from accord.exchange.ingest import Outcome
from accord.exchange.queries import Row
from accord.exchange.visibility import Grant, View
from accord.principals import Principal
from accord.store import Store

_MARKING = attrgetter("marking")


class Actor(Protocol):
    """Who an audit record names: a principal or a writer (`accord.exchange.authority`)."""

    @property
    def name(self) -> str: ...

    @property
    def party(self) -> str: ...


_REF = attrgetter("stix_id", "version", "marking")


def release_body(
    party: str, collection_id: str, rows: Sequence[Row], view: View, channel: str
) -> dict[str, Any]:
    """Returns the audit body of a release of `rows` to `party` (rows of `view`: the view names
    their markings, so the read path makes no further store query for the record).

    `objects` names every object version as `[id, version, m]`, where `m` is a key of `markings`
    (the marking's STIX id), so a marking shared by many objects of a page is written once;
    `grants` says on which basis, by which route and at which level the recipient holds each
    marking (keys of `markings`), one entry per distinct grant. Built at C speed: this runs on
    every page a partner reads."""
    sids = view.stix_ids
    used = sorted(set(map(_MARKING, rows)))
    by_grant: dict[int, tuple[Grant | None, list[str]]] = {}
    for mrow in used:
        g = view.grants.get(mrow)
        # Equal grants are one object within a view (visibility.compute_view interns them).
        by_grant.setdefault(id(g), (g, []))[1].append(str(mrow))
    grants = [
        {
            "basis": list(g.basis) if g else [],
            "route": list(g.route) if g else [],
            "level": g.level if g else None,
            "markings": keys,
        }
        for g, keys in by_grant.values()
    ]
    return {
        "party": party,
        "collection": collection_id,
        "channel": channel,
        "count": len(rows),
        "objects": list(map(_REF, rows)),
        "markings": {str(m): sids.get(m, str(m)) for m in used},
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
    record_prepared(store, who, release_body(who.party, collection_id, rows, view, channel))


def record_prepared(store: Store, who: Principal, body: dict[str, Any] | audit.Body) -> None:
    """Appends a release to `who` whose body `release_body` built (perhaps ahead of time, by
    `accord.exchange.readahead`: the release itself is recorded only now, as the page leaves)."""
    audit.record(store, "release", who.name, who.party, body)


#: Refused objects a refusal record names (the first ones), and distinct reasons it counts.
REFUSAL_NAMED = 10
REFUSAL_REASONS = 20
# A STIX id inside a reason: reasons are counted without the ids they name (ids are listed, and
# redacted, only in `objects`), so "… marking-definition--X …" for many X is one reason.
_STIX_ID = re.compile(r"\b[a-z][a-z0-9-]*--[0-9a-fA-F-]{36}\b")


def refusal_body(
    collection_id: str, refused: Sequence[Outcome], raw: bytes | None = None
) -> dict[str, Any]:
    """Returns the body of the ONE record of an envelope's refused objects, whatever their
    number (docs/security.md, "Bounded cost of hostile input"): how many (`count`), how many
    per reason (`reasons`, the `REFUSAL_REASONS` commonest as `[message, count]`, any STIX id in
    a message replaced by `(id)`, and
    `reasons_omitted` when there were more), the first `REFUSAL_NAMED` as `[id, version,
    message]` (`objects`; `objects_omitted` says how many more), and, when the envelope's body
    is at hand, its size and SHA-256, which name exactly what was sent."""
    reasons = Counter(_STIX_ID.sub("(id)", o.message[:300]) for o in refused)
    common = reasons.most_common(REFUSAL_REASONS)
    body: dict[str, Any] = {
        "collection": collection_id,
        "count": len(refused),
        "reasons": [[m, n] for m, n in common],
        "objects": [[o.id, o.version, o.message[:300]] for o in refused[:REFUSAL_NAMED]],
    }
    if len(reasons) > len(common):
        body["reasons_omitted"] = len(reasons) - len(common)
    if len(refused) > REFUSAL_NAMED:
        body["objects_omitted"] = len(refused) - REFUSAL_NAMED
    if raw is not None:
        body["bytes"] = len(raw)
        body["sha256"] = hashlib.sha256(raw).hexdigest()
    return body


def record_ingest(
    conn: sa.Connection,
    who: Actor,
    collection_id: str,
    outcomes: Sequence[Outcome],
    raw: bytes | None = None,
) -> None:
    """Appends what an envelope delivered, inside the ingest's own transaction: a receipt naming
    every stored object version, and one refusal record for the rest (`refusal_body`: counts and
    hashes, bounded whatever the envelope held). `raw` is the envelope's body, when there was one."""
    ok = [[o.id, o.version, o.message] for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]
    if ok:
        audit.append(
            conn, "receipt", who.name, who.party, {"collection": collection_id, "objects": ok}
        )
    if bad:
        audit.append(conn, "refusal", who.name, who.party, refusal_body(collection_id, bad, raw))
