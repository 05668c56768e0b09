"""The one redaction rule of the audit trail: what one reader may see of each record (PRODUCT.md
§7, "one redaction rule decides what each reader of the audit trail may see"; R9).

The web pages (`accord.web.audit`) and the management API (`accord.api.audit`) both show records
through `redact_record` and answer "who has my item?" through `disclosures`, so a reader sees the
same thing on either surface.

The rule never asks whether an object exists. A reader's `Sight` is the set of object ids it has
in view (some version of the object, destroyed ones included, carries a marking in the reader's
view) and the set of marking ids in its view; everything else — an id of a hidden object, an id
no object has ever had, a marking outside the view — is withheld in exactly the same way. So the
rendering of a record depends only on the record and on the reader's view, never on what else is
stored (tests/security/test_redaction.py holds it to that with random records and views).

Per kind of record:

- `release`: an object version is listed only when the reader has both the object and the
  marking it was released under in view; the markings, grants and `count` describe the listed
  versions only, so nothing about withheld versions, their number or their recipient levels shows.
- `receipt`, `refusal`: an object (`objects`, `failures`, `hidden_conflicts`) is listed only when
  the reader has it in view; its version and message go with it.
- `reclassification`, `destruction`, `compromise`: about one item (the subject). When the reader
  does not have it in view the subject and the body are reduced to the placeholder.
- every kind, and every field not named above: any STIX id anywhere in the subject or the body
  (values and keys) is shown only when in view, otherwise replaced by the placeholder.

A reader whose view holds every stored marking (`View.everything`) sees records unredacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from accord.audit import log
from accord.errors import NotFound
from accord.exchange.visibility import View
from accord.store import Store
from accord.store.audit_schema import audit_log
from accord.store.exchange_schema import collections, id_hash, objects
from accord.trust import receipts

HIDDEN = "(withheld: an item you may not see)"
HIDDEN_MARKING = "(withheld: a marking you may not see)"
STIX_ID = re.compile(
    r"\b[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
_MARKING_PREFIX = "marking-definition--"
_ABOUT_ONE_ITEM = ("reclassification", "destruction", "compromise")
# Ids of notices about an item: shown with the item when the item is shown.
_NOTICE_FIELDS = ("notice", "request")
_CHUNK = 500


@dataclass(frozen=True)
class Sight:
    """What one reader has in view: `items` (object ids) and `markings` (marking-definition ids);
    `everything` when its view holds every stored marking (then nothing is withheld)."""

    items: frozenset[str] = frozenset()
    markings: frozenset[str] = frozenset()
    everything: bool = False

    def item(self, stix_id: object) -> bool:
        """True when the reader may see the object `stix_id` names."""
        return self.everything or (isinstance(stix_id, str) and stix_id in self.items)

    def marking(self, stix_id: object) -> bool:
        """True when the reader may see the marking `stix_id` names."""
        return self.everything or (isinstance(stix_id, str) and stix_id in self.markings)

    def shows(self, stix_id: str) -> bool:
        """True when `stix_id` (of an object or a marking) is shown in clear."""
        if stix_id.startswith(_MARKING_PREFIX):
            return self.marking(stix_id)
        return self.item(stix_id)


def placeholder(stix_id: str) -> str:
    """Returns the text that stands for a withheld id: it depends on the id's type prefix only."""
    return HIDDEN_MARKING if stix_id.startswith(_MARKING_PREFIX) else HIDDEN


def ids_in(value: object) -> set[str]:
    """Returns every STIX id in `value` (a string, or JSON: keys and values, at any depth)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            found.update(m.group(0) for m in STIX_ID.finditer(v))
        elif isinstance(v, Mapping):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)
    return found


def sight(store: Store, view: View, ids: Iterable[str]) -> Sight:
    """Returns the reader's sight over `ids` (the ids the records to show name): the object ids
    among them of which some version, destroyed or not, carries a marking in `view`, and the
    marking ids of `view`. Ids outside the result are withheld whether or not they exist."""
    if view.everything:
        return Sight(everything=True)
    markings = frozenset(view.stix_ids[r] for r in view.rows if r in view.stix_ids)
    wanted = sorted({i for i in ids if not i.startswith(_MARKING_PREFIX)})
    items: set[str] = set()
    if wanted and view.rows:
        rows = sorted(view.rows)
        with store.read() as conn:
            for k in range(0, len(wanted), _CHUNK):
                chunk = wanted[k : k + _CHUNK]
                items.update(
                    str(sid)
                    for (sid,) in conn.execute(
                        sa.select(objects.c.stix_id)
                        .where(*_by_id(chunk), objects.c.marking.in_(rows))
                        .distinct()
                    )
                )
    return Sight(frozenset(items), markings)


def _by_id(ids: list[str]) -> tuple[sa.ColumnElement[bool], ...]:
    # Through the index (coll, idh), then the id itself.
    return (
        objects.c.coll.in_(sa.select(collections.c.key).scalar_subquery()),
        objects.c.idh.in_(sorted({id_hash(i) for i in ids})),
        objects.c.stix_id.in_(ids),
    )


def _scrub(value: Any, s: Sight) -> Any:
    """`value` with every id not in sight replaced by its placeholder (keys and values)."""
    if isinstance(value, str):
        if "--" not in value:
            return value
        return STIX_ID.sub(
            lambda m: m.group(0) if s.shows(m.group(0)) else placeholder(m.group(0)), value
        )
    if isinstance(value, Mapping):
        return {_scrub(k, s): _scrub(v, s) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, s) for v in value]
    return value


def _release(body: dict[str, Any], s: Sight) -> dict[str, Any]:
    # Keys of `markings` name the marking of each listed version; the first releases named the
    # marking's STIX id on every object instead (then the key is the id itself).
    names: dict[str, Any] = (
        body.get("markings", {}) if isinstance(body.get("markings"), dict) else {}
    )
    kept = []
    for entry in body.get("objects", []):
        if not isinstance(entry, list | tuple) or len(entry) != 3:
            continue
        oid, _version, ref = entry
        key = str(ref)
        if s.item(oid) and s.marking(names.get(key, key)):
            kept.append(list(entry))
    used = {str(e[2]) for e in kept}
    out = dict(body)
    out["objects"] = kept
    out["count"] = len(kept)
    if "markings" in body:
        out["markings"] = {k: v for k, v in names.items() if k in used}
    grants = body.get("grants")
    if isinstance(grants, dict):
        out["grants"] = {k: v for k, v in grants.items() if k in used}
    elif isinstance(grants, list):
        shown = []
        for g in grants:
            if not isinstance(g, dict):
                continue
            ms = [m for m in g.get("markings", []) if str(m) in used]
            if ms:
                shown.append({**g, "markings": ms})
        out["grants"] = shown
    return out


def _listed(body: dict[str, Any], s: Sight) -> dict[str, Any]:
    # Receipts and refusals: each listed object goes, with its version and message, when hidden.
    out = dict(body)
    if isinstance(body.get("objects"), list):
        out["objects"] = [
            e for e in body["objects"] if isinstance(e, list | tuple) and e and s.item(e[0])
        ]
    if isinstance(body.get("failures"), list):
        out["failures"] = [
            f for f in body["failures"] if isinstance(f, dict) and s.item(f.get("id"))
        ]
    if isinstance(body.get("hidden_conflicts"), list):
        out["hidden_conflicts"] = [i for i in body["hidden_conflicts"] if s.item(i)]
    return out


def redact_record(
    kind: str, subject: str, body: Mapping[str, Any], s: Sight
) -> tuple[str, dict[str, Any]]:
    """Returns the (subject, body) of one record as the reader with sight `s` may see them.

    The result depends only on the record and on `s`: a hidden id and an id that names nothing
    are withheld alike, so the rendering tells the reader nothing about what else is stored."""
    if s.everything:
        return subject, dict(body)
    b = dict(body)
    if kind == "release":
        b = _release(b, s)
    elif kind in ("receipt", "refusal"):
        b = _listed(b, s)
    elif kind == "polyinstance":
        # A write kept as its writer's own instance of an id: told only to readers who may see
        # the original it stands beside (its marking, the third field), never to the others.
        b["objects"] = [
            e
            for e in b.get("objects", [])
            if isinstance(e, list | tuple) and len(e) > 2 and s.item(e[0]) and s.marking(e[2])
        ]
        return _scrub(subject, s), _scrub(b, s)
    elif kind in _ABOUT_ONE_ITEM:
        item = b.get("item", subject)
        if not s.item(item):
            return HIDDEN, {"item": HIDDEN}
        notices = {k: b.pop(k) for k in _NOTICE_FIELDS if k in b}
        return _scrub(subject, s), {**_scrub(b, s), **notices}
    return _scrub(subject, s), _scrub(b, s)


@dataclass(frozen=True)
class Shown:
    """One audit record as a reader may see it: the chain's fields, the subject and the body
    redacted by the rule, `at` in microseconds since the epoch."""

    seq: int
    at: int
    kind: str
    actor: str
    subject: str
    body: dict[str, Any]
    prev: str
    hash: str


def records(
    store: Store,
    view: View,
    limit: int,
    *,
    after: int | None = None,
    before: int | None = None,
    kind: str | None = None,
    newest_first: bool = False,
) -> tuple[list[Shown], bool]:
    """Returns one page of the audit trail as the reader with `view` may see it, and whether more
    records follow: at most `limit` records after `after` or before `before` (sequence numbers),
    of one `kind` when given, oldest or newest first. The web pages and the management API page
    the trail through here, so a reader gets the same records on either."""
    q = sa.select(audit_log).limit(limit + 1)
    q = q.order_by(audit_log.c.seq.desc() if newest_first else audit_log.c.seq)
    if after is not None:
        q = q.where(audit_log.c.seq > after)
    if before is not None:
        q = q.where(audit_log.c.seq < before)
    if kind:
        q = q.where(audit_log.c.kind == kind)
    with store.read() as conn:
        rows = [r._mapping for r in conn.execute(q)]
    page = rows[:limit]
    bodies = [orjson.loads(m["body"]) for m in page]
    s = sight(store, view, ids_in([*bodies, *(str(m["subject"]) for m in page)]))
    out = []
    for m, body in zip(page, bodies, strict=True):
        subject, shown = redact_record(str(m["kind"]), str(m["subject"]), body, s)
        out.append(
            Shown(
                int(m["seq"]),
                int(m["at"]),
                str(m["kind"]),
                str(m["actor"]),
                subject,
                shown,
                str(m["prev"]),
                str(m["hash"]),
            )
        )
    return out, len(rows) > limit


def disclosures(store: Store, view: View, item_id: str) -> list[dict[str, Any]]:
    """Returns the releases of `item_id` ("who has my item?", `accord.audit.log.disclosures`) the
    reader with `view` may see: only versions released under a marking in its view. Raises
    NotFound, with the same words, for an item the reader does not have in view and for an id
    no item has (R9: a hidden item is answered as an absent one). Each release carries the
    receipt its receiver signed, when one came back (`accord.trust.receipts`)."""
    s = sight(store, view, [item_id])
    if not s.item(item_id) or (s.everything and not _stored(store, item_id)):
        raise NotFound(f"no item {item_id!r}")
    shown = [r for r in log.disclosures(store, item_id) if s.marking(r["marking"])]
    return receipts.with_receipts(store, item_id, shown)


def releases(
    store: Store,
    view: View,
    *,
    party: str | None = None,
    since: int | None = None,
    until: int | None = None,
    item_ids: tuple[str, ...] | None = None,
    limit: int = 2000,
    max_records: int = 10_000,
) -> tuple[list[dict[str, Any]], bool]:
    """Returns the releases (`accord.audit.log.releases`: to `party`, recorded in [`since`,
    `until`) µs, of `item_ids` when given) the reader with `view` may see, oldest first, at most
    `limit`, and whether more matched — the auditor's report per party and period (PRODUCT.md
    §1; the one redaction rule of §7). A release is listed only when the reader has both the
    object and the marking it was released under in view, exactly as `disclosures` and
    `redact_record` decide; releases of marking-definitions are not items and are left out.
    Each carries its receipt, when one came back (`accord.trust.receipts`). At most
    `max_records` release records are read (the oldest that match): more matched when the
    answer says so."""
    read, truncated = log.release_records(
        store, item_ids=item_ids, party=party, since=since, until=until, max_records=max_records
    )
    found = [r for r in read if not str(r["item"]).startswith(_MARKING_PREFIX)]
    s = sight(store, view, [str(r["item"]) for r in found])
    shown = [r for r in found if s.item(r["item"]) and s.marking(r["marking"])]
    page = shown[:limit]
    out = [
        {
            **r,
            "receipt": receipts.receipt_of(
                store, str(r["item"]), str(r["party"]), str(r["version"])
            ),
        }
        for r in page
    ]
    return out, truncated or len(shown) > limit


def _stored(store: Store, item_id: str) -> bool:
    with store.read() as conn:
        found = conn.execute(sa.select(objects.c.seq).where(*_by_id([item_id])).limit(1)).first()
    return found is not None
