"""Reading items as a principal: the latest version of each item its view lets it see, newest
first, with filters — the one read that the web pages and the management API share.

A principal's view (`accord.exchange.visibility`) is the set of marking rows it may receive;
every read here is restricted to those rows in the store's own query (`queries.page`), so an
item outside the view is answered exactly like an item that does not exist (TAXII 2.1
Appendix B; docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from accord.exchange.collections import list_collections
from accord.exchange.marking_rows import MarkingIndex
from accord.exchange.queries import Query, page
from accord.exchange.visibility import View
from accord.policy.marking import Marking
from accord.store import Store
from accord.trust.provenance import is_provenance

#: At most this many items are listed (newest first); the filters narrow the rest.
LIST_LIMIT = 200
_SCAN_PAGE = 500
_SCAN_MAX = 20_000


@dataclass(frozen=True)
class Item:
    """One item version as read: STIX id, version, type, display name, collection alias, when
    it was added, its release marking (and marking row) and its level in this node's scheme."""

    id: str
    version: str
    type: str
    name: str
    collection: str
    added: datetime
    marking: Marking
    marking_row: int
    node_level: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Reader:
    """Who reads, and from where: the store, the node's API root, the reader's name (for its
    own polyinstances), its view and the marking index the view was computed over."""

    store: Store
    api_root: str
    name: str
    view: View
    index: MarkingIndex


def display_name(body: dict[str, Any]) -> str:
    """Returns what a person calls the object: its name, value or pattern, else its id."""
    for key in ("name", "value", "pattern"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return str(body.get("id", ""))


def haystack(body: dict[str, Any]) -> str:
    """Returns the text the `q` filter searches: id, name, description, pattern and labels."""
    parts = [body.get(k) for k in ("id", "name", "description", "pattern", "value")]
    labels = body.get("labels")
    if isinstance(labels, list):
        parts.extend(labels)
    return " ".join(p for p in parts if isinstance(p, str)).lower()


def _matches(m: Marking, level: str, topic: str) -> bool:
    if level and f"{m.originator} {m.level}" != level:
        return False
    return not topic or topic in m.topics


def visible_items(
    reader: Reader,
    *,
    ids: tuple[str, ...] = (),
    type_: str = "",
    level: str = "",
    topic: str = "",
    text: str = "",
    limit: int = LIST_LIMIT,
    markings: bool = False,
) -> tuple[list[Item], bool]:
    """Returns the latest versions the reader may see, newest first, matching the filters
    (`level` is `ORIGINATOR LEVEL`), at most `limit`, and whether more matched. Release
    markings (marking-definitions) and signed provenance are objects, not items a person reads:
    left out unless `markings`."""
    index, view = reader.index, reader.view
    rows = frozenset(
        r for r in view.rows if r in index.by_row and _matches(index.by_row[r], level, topic)
    )
    needle = text.lower()
    found: list[Item] = []
    scanned = 0
    for coll in list_collections(reader.store, reader.api_root):
        after: int | None = None
        q = Query(ids=ids, types=(type_,) if type_ else ())
        while scanned < _SCAN_MAX:
            batch, more = page(reader.store, coll.key, rows, q, after, _SCAN_PAGE, reader.name)
            scanned += len(batch)
            for r in batch:
                body = orjson.loads(r.body)
                if not markings and (
                    body.get("type") == "marking-definition" or is_provenance(body)
                ):
                    continue
                if needle and needle not in haystack(body):
                    continue
                grant = view.grants.get(r.marking)
                found.append(
                    Item(
                        r.stix_id,
                        r.version,
                        str(body.get("type", "")),
                        display_name(body),
                        coll.alias or coll.id,
                        datetime.fromtimestamp(r.date_added / 1_000_000, UTC),
                        index.by_row[r.marking],
                        r.marking,
                        grant.level if grant else None,
                        body,
                    )
                )
            if not more or not batch:
                break
            after = batch[-1].date_added
    found.sort(key=lambda i: i.added, reverse=True)
    return found[:limit], len(found) > limit


def find_item(reader: Reader, item_id: str, *, markings: bool = False) -> Item | None:
    """Returns the latest version of `item_id` the reader may see, in any collection, or None —
    whether it does not exist or is not the reader's to see (the caller says NotFound). A
    marking-definition counts only with `markings` (the API's release table of any object)."""
    items, _more = visible_items(reader, ids=(item_id,), limit=1, markings=markings)
    return items[0] if items else None
