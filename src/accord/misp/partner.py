"""A partner's MISP feed as TAXII would give it today, and its release record.

The objects are read exactly as the TAXII Get Objects view reads them for that principal: the
partner's view (`Node.view`), every collection it may read, the latest versions, restricted in
the store's own query (`accord.exchange.queries.page`), in the partner forms of their markings
(`accord.exchange.abroad`). Everything a feed response carries that is derived from an item is a
release, recorded in the audit trail as TAXII records one (`accord.exchange.releases`), on the
channel `misp-feed`.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from accord.errors import Forbidden
from accord.exchange import abroad, queries
from accord.exchange.marking_rows import marking_index
from accord.exchange.releases import record_release
from accord.exchange.visibility import View
from accord.misp.feed import Feed, Source, build_feed
from accord.node import Node, Snapshot
from accord.principals import Principal
from accord.trust.provenance import is_provenance

CHANNEL = "misp-feed"
_PAGE = 1000


def may_read_feed(node: Node, who: Principal, party: str) -> None:
    """Raises Forbidden unless `who` is a partner credential of `party`, another party than the
    node's: the same answer whatever `party` names, so it tells nothing about its feed."""
    if not (who.is_partner and who.party == party and party != node.party):
        raise Forbidden(f"these credentials do not read the MISP feed of {party[:20]}")


def partner_sources(
    node: Node, who: Principal, snap: Snapshot | None = None
) -> tuple[list[Source], View]:
    """Returns what `who` (a partner) receives over TAXII today, every collection it may read,
    as it receives it (each with its stored row, which the release record names), and the view
    it was read through."""
    snap = snap or node.snapshot()
    view = node.view(who, snap)
    index = marking_index(node.store, snap.markings)
    grouped = abroad.forms(node.store.url, index)
    out: list[Source] = []
    for c in node.collections(snap):
        after: int | None = None
        while True:
            rows, more = queries.page(
                node.store, c.key, view.rows, queries.Query(), after, _PAGE, who.name
            )
            stored = {r.seq: r for r in rows}
            for r in abroad.partner_rows(rows, grouped, who.party):
                body = orjson.loads(r.body)
                if is_provenance(body):
                    continue  # accord's signed provenance: for accord nodes, not MISP events
                m = index.by_row[r.marking].without_groups()
                out.append(Source(c.id, stored[r.seq], body, m))
            if not more or not rows:
                break
            after = rows[-1].date_added
    return out, view


def record_feed_release(node: Node, who: Principal, view: View, sources: Sequence[Source]) -> None:
    """Records the release of `sources` to `who`'s party, read through `view`, one record per
    collection, with `who` as actor (`accord.exchange.releases.record_release`)."""
    if not sources:
        return
    by_collection: dict[str, list[queries.Row]] = {}
    for s in sources:
        by_collection.setdefault(s.collection, []).append(s.row)
    for collection, rows in by_collection.items():
        record_release(node.store, who, collection, rows, view, channel=CHANNEL)


def partner_feed(node: Node, who: Principal, snap: Snapshot | None = None) -> tuple[Feed, View]:
    """Returns the MISP feed of what `who` receives today (`partner_sources`, `build_feed`) and
    the view it was read through."""
    sources, view = partner_sources(node, who, snap)
    return build_feed(sources), view
