"""Nothing about an object a principal may not receive reaches it (PRODUCT.md §4; TAXII 2.1
Appendix B; taxii-stix.md §1.5–§1.6): not the object, not its id, not a version of it, not its
date_added, not a count, a `more` flag, a page boundary or an X-TAXII header.

"May receive" is computed here, independently of the server's views, from the policy engine:
- a partner node P receives a marking when P is its originator, or when
  `decide(marking, P, as_of, holder="KOR", world=…)` allows it on a direct route (KOR → P);
- a user of KOR receives it when `may_access` allows it (R9); a user of another nation nothing.
The objects and their markings are read back from the store's rows and the STIX marking-definitions
themselves, never from the server's marking index.

Deterministic tests run on both backends over the samples plus hand-made items (REL TO, NOFORN,
ORCON, groups, levels, partly hidden versions, versions posted out of order); a Hypothesis test
publishes random items into a fresh SQLite node per example and reads every endpoint as every
principal.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taxii_live import (
    SECRETS,
    LiveNode,
    add_test_principals,
    assert_taxii_error,
    start_node,
    walk,
)

from accord.exchange import markings as mk
from accord.exchange import queries
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection, list_collections
from accord.exchange.ingest import add_objects
from accord.exchange.markings import ACCORD_EXTENSION, marking_definition
from accord.node import Node, NodeConfig
from accord.policy.access import User, may_access
from accord.policy.decide import decide
from accord.policy.marking import Marking
from accord.policy.world import World
from accord.principals import list_principals
from accord.registry import repository as registry_repo
from accord.registry import service
from accord.registry.model import TOPICS
from accord.store import Store, open_store
from accord.store.exchange_schema import objects as objects_table

AS_OF = date(2017, 6, 1)
MISSING = "indicator--00000000-0000-4000-8000-000000000000"


def nth_id(n: int) -> str:
    """A fixed indicator id (never MISSING: n > 0)."""
    return f"indicator--00000000-{n:04d}-4000-8000-000000000000"


# name -> (kind, party, clearance, groups), as taxii_live.add_test_principals makes them
# (checked against the store by the `truth` fixture).
PRINCIPALS: dict[str, tuple[str, str, str | None, frozenset[str]]] = {
    "analyst": ("user", "KOR", "II", frozenset({"dprk", "military"})),
    "clerk": ("user", "KOR", "III", frozenset()),
    "chief": ("user", "KOR", "I", frozenset({"dprk", "military", "cyber"})),
    "jpn-node": ("partner", "JPN", None, frozenset()),
    "usa-node": ("partner", "USA", None, frozenset()),
    "chn-node": ("partner", "CHN", None, frozenset()),
    "gbr-user": ("user", "GBR", "TS", frozenset({"dprk"})),
}
assert set(PRINCIPALS) == set(SECRETS)


# ---- the independent truth ----------------------------------------------------------------------


def may_receive(world: World, at: date, who: str, m: Marking) -> bool:
    kind, party, clearance, groups = PRINCIPALS[who]
    if kind == "partner":
        if m.originator == party:
            return True
        d = decide(m, party, at, holder="KOR", world=world)
        return d.allowed and len(d.route) == 2
    if party != "KOR" or clearance is None:
        return False
    return may_access(User(who, "KOR", clearance, groups, party), m, at, world=world).allowed


def marking_of(definition: dict[str, Any]) -> Marking:
    """Reads accord's release marking from a STIX marking-definition (not via the server)."""
    ext = definition["extensions"][ACCORD_EXTENSION]
    return Marking.of(
        originator=ext["originator"],
        level=ext["level"],
        topics=ext.get("topics", []),
        purpose=ext.get("purpose", "defence"),
        rel_to=ext.get("rel_to"),
        noforn=ext.get("noforn", False),
        orcon=ext.get("orcon", False),
        groups=ext.get("groups", []),
    )


def taxii_time(us: int) -> str:
    dt = datetime.fromtimestamp(us // 1_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}Z"


@dataclass(frozen=True)
class Stored:
    """One stored object version with the marking its STIX says it carries."""

    id: str
    type: str
    version: str
    date_added: str
    marking: Marking


def stored_versions(store: Store, coll: int) -> list[Stored]:
    """Every live object version of a collection, oldest date_added first."""
    o = objects_table
    with store.read() as conn:
        rows = conn.execute(
            sa.select(o.c.stix_id, o.c.type, o.c.version, o.c.date_added, o.c.body)
            .where(o.c.coll == coll, o.c.deleted.is_(False))
            .order_by(o.c.date_added)
        ).all()
    bodies = [(r[0], r[1], r[2], int(r[3]), json.loads(r[4])) for r in rows]
    defs = {b["id"]: marking_of(b) for _, t, _, _, b in bodies if t == "marking-definition"}
    out = []
    for sid, typ, version, added, body in bodies:
        if typ == "marking-definition":
            m = defs[sid]
        else:
            (m,) = [defs[r] for r in body["object_marking_refs"] if r in defs]
        out.append(Stored(sid, typ, version, taxii_time(added), m))
    return out


def version_of(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj["created"])


# ---- reading everything as one principal --------------------------------------------------------


def check_principal(
    live: LiveNode,
    stored: list[Stored],
    who: str,
    world: World,
    per_id: list[str] | None = None,
    limit: int = 2,
    missing: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> list[httpx.Response]:
    """Reads the collection listing, the collection, objects (paged), the manifest, and each object
    and its versions as `who`; asserts each shows exactly the receivable versions and that no body
    or header carries an id, version or date_added of a version `who` may not receive. Returns
    every response read. `missing` caches the 404 bodies for a missing id per principal."""
    ok = [s for s in stored if may_receive(world, AS_OF, who, s.marking)]
    hidden = [s for s in stored if s not in ok]
    ok_ids = {s.id for s in ok}
    hidden_ids = {s.id for s in hidden} - ok_ids
    ok_versions = {s.version for s in ok}
    secrets = (
        hidden_ids
        | {s.date_added for s in hidden}
        | {s.version for s in hidden if s.type != "marking-definition"} - ok_versions
    )
    # A partner never gets a marking-definition naming this node's need-to-know groups: it is
    # served as its partner form (once a page), and by its national id it is absent; that id
    # never appears (accord.exchange.abroad).
    kind, party = PRINCIPALS[who][0], PRINCIPALS[who][1]

    def national(s: Stored) -> bool:
        return (
            kind == "partner"
            and s.type == "marking-definition"
            and bool(s.marking.groups)
            and s.marking.originator != party
        )

    secrets |= {s.id for s in ok if national(s)}

    def served(rows: list[Stored]) -> list[Stored]:
        """One page of stored versions as the partner receives it."""
        out: list[Stored] = []
        for s in rows:
            if national(s):
                s = replace(s, id=mk.marking_id(s.marking.without_groups()))
            if s.type == "marking-definition" and any(x.id == s.id for x in out):
                continue
            out.append(s)
        return out

    def paged(rows: list[Stored], size: int) -> list[Stored]:
        return [x for i in range(0, len(rows), size) for x in served(rows[i : i + size])]

    seen: list[httpx.Response] = []
    coll = live.coll()

    def get(path: str, **params: str) -> httpx.Response:
        r = live.get(path, who, params=params)
        seen.append(r)
        return r

    def latest(rows: list[Stored]) -> list[tuple[str, str]]:
        last = {s.id: max(x.version for x in rows if x.id == s.id) for s in rows}
        return [(s.id, s.version) for s in rows if s.version == last[s.id]]

    ids = per_id if per_id is not None else sorted({s.id for s in stored})
    listing = get("/kor/collections/")
    assert listing.status_code == 200
    if get(coll).status_code == 404:
        # No access to the collection at all: nothing is receivable, everything is absent.
        assert not ok, f"{who} may receive {len(ok)} versions but cannot open the collection"
        for path in ("objects/", "manifest/", *(f"objects/{i}/" for i in ids)):
            assert_taxii_error(get(coll + path), 404)
    else:
        pages = walk(live, coll + "objects/", who, limit, **{"match[version]": "all"})
        seen.extend(pages)
        got = [(o["id"], version_of(o)) for p in pages for o in p.json().get("objects", [])]
        assert got == [(s.id, s.version) for s in paged(ok, limit)], who
        for o in (o for p in pages for o in p.json().get("objects", [])):
            if kind == "partner" and o["type"] == "marking-definition" and o["id"] not in ok_ids:
                assert "groups" not in o["extensions"][mk.ACCORD_EXTENSION], o
        # No trailing page: `more` is false as soon as only hidden versions remain.
        assert len(pages) == max(1, math.ceil(len(ok) / limit)), (who, len(ok), len(pages))
        for p in pages:
            assert ("next" in p.json()) is p.json()["more"]

        r = get(coll + "objects/")
        assert [(o["id"], version_of(o)) for o in r.json().get("objects", [])] == latest(served(ok))

        m = get(coll + "manifest/", **{"match[version]": "all"})
        records = [(x["id"], x["date_added"], x["version"]) for x in m.json().get("objects", [])]
        assert records == [(s.id, s.date_added, s.version) for s in served(ok)], who

        cache = {} if missing is None else missing
        for tail in ("", "versions/"):
            if (who, tail) not in cache:
                cache[who, tail] = assert_taxii_error(get(coll + f"objects/{MISSING}/{tail}"), 404)
        missing_object, missing_versions = cache[who, ""], cache[who, "versions/"]
        for oid in ids:
            mine = [s for s in ok if s.id == oid and not national(s)]
            one = get(coll + f"objects/{oid}/", **{"match[version]": "all"})
            versions = get(coll + f"objects/{oid}/versions/")
            if mine:
                assert [version_of(o) for o in one.json()["objects"]] == [s.version for s in mine]
                assert versions.json() == {"more": False, "versions": [s.version for s in mine]}
                assert versions.headers["x-taxii-date-added-first"] == mine[0].date_added
                assert versions.headers["x-taxii-date-added-last"] == mine[-1].date_added
            else:
                # Exactly the answer for an id that does not exist.
                hidden_body = assert_taxii_error(one, 404)
                assert hidden_body == json.loads(json.dumps(missing_object).replace(MISSING, oid))
                hidden_versions = assert_taxii_error(versions, 404)
                assert hidden_versions == json.loads(
                    json.dumps(missing_versions).replace(MISSING, oid)
                )

    ok_dates = {s.date_added for s in ok}
    for r in seen:
        for h in ("x-taxii-date-added-first", "x-taxii-date-added-last"):
            if h in r.headers:
                assert r.headers[h] in ok_dates, (who, r.request.url, h)
        exposed = r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())
        # An id the caller itself put in the path may be echoed (as for a missing id).
        asked = str(r.request.url)
        leaked = [s for s in secrets if s in exposed and s not in asked]
        assert not leaked, (who, str(r.request.url), leaked)
    return seen


# ---- deterministic: the samples plus hand-made items, both backends -----------------------------

HAND_MADE: list[tuple[str, list[Marking]]] = [
    ("level-one", [Marking.of("KOR", "I", ["dprk-nuclear"], groups=["dprk"])]),
    ("rel-to-jpn", [Marking.of("KOR", "II", ["dprk-missile"], rel_to=["JPN"], groups=["dprk"])]),
    ("noforn", [Marking.of("KOR", "III", ["general-military"], noforn=True, groups=["military"])]),
    ("orcon", [Marking.of("KOR", "II", ["dprk-missile"], orcon=True, groups=["dprk"])]),
    (
        "cyber-rel-usa-gbr",
        [
            Marking.of(
                "KOR", "III", ["cyber"], "intelligence", rel_to=["USA", "GBR"], groups=["cyber"]
            )
        ],
    ),
    (
        "u-then-level-one",  # the later version is hidden from most
        [
            Marking.of("KOR", "U", ["general-military"]),
            Marking.of("KOR", "I", ["dprk-nuclear"], groups=["dprk"]),
        ],
    ),
    (
        "ii-then-u",  # the later version is the more releasable one
        [
            Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"]),
            Marking.of("KOR", "U", ["general-military"]),
        ],
    ),
    ("tail", [Marking.of("KOR", "I", ["wmd"], groups=["dprk"])]),  # last of all: hidden from JPN
]
OUT_OF_ORDER = "ii-then-u"  # posted newest version first


def hand_made_envelope() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Returns the envelope (marking-definitions first) and the id of each hand-made object."""
    out: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    defs: dict[str, dict[str, Any]] = {}
    second = itertools.count(1)
    for name, markings in HAND_MADE:
        oid = f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, 'accord-leak:' + name)}"
        ids[name] = oid
        versions = []
        for m in markings:
            md = marking_definition(m)
            defs.setdefault(md["id"], md)
            versions.append(stix_indicator(oid, next(second), md["id"]))
        out.extend(reversed(versions) if name == OUT_OF_ORDER else versions)
    return [*defs.values(), *out], ids


def stix_indicator(oid: str, second: int, marking_id: str) -> dict[str, Any]:
    """An indicator version whose `modified` (a unique second of 2017) is its version."""
    stamp = f"2017-01-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid,
        "created": "2016-06-01T00:00:00.000Z",
        "modified": stamp,
        "name": "leak test",
        "pattern": "[ipv4-addr:value = '192.0.2.1']",
        "pattern_type": "stix",
        "valid_from": "2016-06-01T00:00:00Z",
        "object_marking_refs": [marking_id],
    }


def items_collection(store: Store) -> Collection:
    return next(c for c in list_collections(store, "kor") if c.kind == "items")


def publish(store: Store, envelope: list[dict[str, Any]]) -> None:
    """Stores an envelope as the node's own items, bypassing the publisher's R9 check."""
    outcomes = add_objects(
        store, items_collection(store), envelope, Writer.host("leak-test", "KOR"), lambda m: None
    )
    assert all(o.ok for o in outcomes), [o for o in outcomes if not o.ok]


@dataclass
class Truth:
    world: World
    stored: list[Stored]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def truth(live: LiveNode) -> Truth:
    envelope, ids = hand_made_envelope()
    publish(live.store, envelope)
    made = {
        p.name: (p.kind, p.party, p.clearance, frozenset(p.groups))
        for p in list_principals(live.store)
        if not p.revoked
    }
    for name, spec in PRINCIPALS.items():
        assert made[name] == spec, name
    world = World(registry_repo.load(live.store))
    return Truth(world, stored_versions(live.store, items_collection(live.store).key), ids)


def receivers(t: Truth, name: str, version: int = -1) -> set[str]:
    versions = [s for s in t.stored if s.id == t.ids[name]]
    m = sorted(versions, key=lambda s: s.version)[version].marking
    return {w for w in PRINCIPALS if may_receive(t.world, AS_OF, w, m)}


@pytest.mark.parametrize("who", sorted(PRINCIPALS))
def test_every_endpoint_shows_each_principal_exactly_what_it_may_receive(
    live: LiveNode, truth: Truth, who: str
) -> None:
    indicators = sorted({s.id for s in truth.stored if s.type == "indicator"})
    check_principal(live, truth.stored, who, truth.world, per_id=indicators, limit=4)


def test_the_hand_made_items_split_the_principals(truth: Truth) -> None:
    """The data makes the leak tests bite: each restriction hides an item from someone who can
    read the collection (whatever the pending U↔U equivalence decides)."""
    assert receivers(truth, "level-one") & {"analyst", "clerk", "jpn-node"} == set()
    assert {"chief", "usa-node"} <= receivers(truth, "level-one")
    assert "usa-node" not in receivers(truth, "rel-to-jpn")  # REL TO JPN (R5)
    assert {"jpn-node", "analyst"} <= receivers(truth, "rel-to-jpn")
    assert receivers(truth, "noforn") & {"jpn-node", "usa-node"} == set()  # NOFORN (R5)
    assert "analyst" in receivers(truth, "noforn") and "clerk" not in receivers(truth, "noforn")
    assert "jpn-node" not in receivers(truth, "cyber-rel-usa-gbr")
    assert "clerk" in receivers(truth, "u-then-level-one", 0)
    assert "clerk" not in receivers(truth, "u-then-level-one", 1)
    assert "jpn-node" not in receivers(truth, "tail") and "usa-node" in receivers(truth, "tail")
    assert all("gbr-user" not in receivers(truth, name) for name, _ in HAND_MADE)


def test_hidden_object_by_id_is_404_exactly_like_a_missing_id(live: LiveNode, truth: Truth) -> None:
    hidden = truth.ids["level-one"]
    for who in ("analyst", "clerk", "jpn-node", "chn-node"):
        assert who not in receivers(truth, "level-one")
        r = live.get(live.coll() + f"objects/{hidden}/", who)
        m = live.get(live.coll() + f"objects/{MISSING}/", who)
        assert_taxii_error(r, 404)
        assert_taxii_error(m, 404)
        assert r.text == m.text.replace(MISSING, hidden)
        assert set(r.headers) == set(m.headers)
    assert live.get(live.coll() + f"objects/{hidden}/", "usa-node").status_code == 200


def test_versions_of_a_hidden_object_are_404(live: LiveNode, truth: Truth) -> None:
    hidden = truth.ids["level-one"]
    for who in ("analyst", "jpn-node"):
        r = live.get(live.coll() + f"objects/{hidden}/versions/", who)
        m = live.get(live.coll() + f"objects/{MISSING}/versions/", who)
        assert_taxii_error(r, 404)
        assert r.text == m.text.replace(MISSING, hidden)
        for params in ({"match[version]": "all"}, {"match[version]": "first"}, {"limit": "1"}):
            one = live.get(live.coll() + f"objects/{hidden}/", who, params=params)
            assert_taxii_error(one, 404)


def test_partly_hidden_object_shows_only_the_receivable_versions(
    live: LiveNode, truth: Truth
) -> None:
    """u-then-level-one: whoever receives the unclassified version but not the Level I one sees an
    object with one version; nothing says another exists."""
    oid = truth.ids["u-then-level-one"]
    v1, v2 = sorted(s.version for s in truth.stored if s.id == oid)
    path = live.coll() + f"objects/{oid}/"
    partial = sorted(
        receivers(truth, "u-then-level-one", 0) - receivers(truth, "u-then-level-one", 1)
    )
    assert "clerk" in partial
    for who in partial:
        assert [version_of(o) for o in live.json(path, who)["objects"]] == [v1]  # its "last"
        assert live.json(path + "versions/", who) == {"more": False, "versions": [v1]}
        assert_taxii_error(live.get(path, who, params={"match[version]": v2}), 404)
        manifest = live.get(live.coll() + "manifest/", who, params={"match[version]": "all"})
        assert v2 not in manifest.text
    assert [version_of(o) for o in live.json(path, "chief")["objects"]] == [v2]


def test_last_version_is_the_newest_receivable_not_the_last_added(
    live: LiveNode, truth: Truth
) -> None:
    """ii-then-u was posted newest first: `last` is by version, whatever the date_added order."""
    oid = truth.ids[OUT_OF_ORDER]
    v1, v2 = sorted(s.version for s in truth.stored if s.id == oid)
    assert [
        version_of(o) for o in live.json(live.coll() + f"objects/{oid}/", "chief")["objects"]
    ] == [v2]
    first = live.json(live.coll() + f"objects/{oid}/", "chief", params={"match[version]": "first"})
    assert [version_of(o) for o in first["objects"]] == [v1]


def test_more_is_false_when_only_hidden_objects_remain(live: LiveNode, truth: Truth) -> None:
    ok = [s for s in truth.stored if may_receive(truth.world, AS_OF, "jpn-node", s.marking)]
    assert ok and not may_receive(truth.world, AS_OF, "jpn-node", truth.stored[-1].marking)
    path = live.coll() + "objects/"
    params = {"match[version]": "all"}
    exact = live.json(path, "jpn-node", params={**params, "limit": str(len(ok))})
    assert exact["more"] is False and "next" not in exact
    # Every receivable version, but national marking-definitions sharing a partner form go once.
    plain = {
        mk.marking_id(s.marking.without_groups()) for s in ok if s.type == "marking-definition"
    }
    others = [s for s in ok if s.type != "marking-definition"]
    assert len(exact["objects"]) == len(others) + len(plain)
    short = live.json(path, "jpn-node", params={**params, "limit": str(len(ok) - 1)})
    assert short["more"] is True and short["next"]
    after = live.get(path, "jpn-node", params={**params, "added_after": ok[-1].date_added})
    assert after.json() == {"more": False}
    assert "x-taxii-date-added-first" not in after.headers
    manifest = live.json(
        live.coll() + "manifest/", "jpn-node", params={**params, "limit": str(len(ok))}
    )
    assert manifest["more"] is False


def test_x_taxii_headers_never_name_a_hidden_date_added(live: LiveNode, truth: Truth) -> None:
    """Walked by added_after = X-TAXII-Date-Added-Last from the start of time, page by page."""
    for who in ("jpn-node", "analyst", "clerk"):
        ok = {s.date_added for s in truth.stored if may_receive(truth.world, AS_OF, who, s.marking)}
        hidden = {s.date_added for s in truth.stored} - ok
        params = {"limit": "1", "match[version]": "all"}
        seen = []
        for _ in range(len(truth.stored) + 1):
            r = live.get(live.coll() + "objects/", who, params=params)
            if not r.json().get("objects"):
                break
            first, last = (
                r.headers["x-taxii-date-added-first"],
                r.headers["x-taxii-date-added-last"],
            )
            assert first == last and last in ok and last not in hidden
            seen.append(last)
            params = {**params, "added_after": last}
        assert seen == sorted(ok)


def test_next_token_replayed_by_another_principal_is_400(live: LiveNode, truth: Truth) -> None:
    path = live.coll() + "objects/"
    first = live.json(path, "analyst", params={"limit": "1"})
    token = first["next"]
    assert live.get(path, "analyst", params={"limit": "1", "next": token}).status_code == 200
    for other in ("clerk", "chief", "jpn-node", "usa-node", "chn-node"):
        assert_taxii_error(live.get(path, other, params={"limit": "1", "next": token}), 400)
    assert_taxii_error(live.get(path, "gbr-user", params={"limit": "1", "next": token}), 404)


def _tamper(token: str, **changes: object) -> str:
    head, sig = token.split(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    payload.update(changes)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + sig


def test_next_token_with_altered_filters_is_400(live: LiveNode, truth: Truth) -> None:
    path = live.coll() + "objects/"
    params = {"limit": "1", "match[type]": "indicator"}
    token = live.json(path, "usa-node", params=params)["next"]
    assert live.get(path, "usa-node", params={**params, "next": token}).status_code == 200
    for altered in (
        {"limit": "1", "match[type]": "marking-definition"},
        {"limit": "1"},
        {**params, "added_after": "2000-01-01T00:00:00Z"},
        {**params, "match[version]": "all"},
        {**params, "match[foo]": "bar"},
    ):
        assert_taxii_error(live.get(path, "usa-node", params={**altered, "next": token}), 400)
    for forged in (
        _tamper(token, p="analyst"),  # the analyst's name on a usa-node token
        _tamper(token, a=0),  # rewound to the start
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # another signature
        token.split(".")[0],  # no signature
    ):
        assert_taxii_error(live.get(path, "usa-node", params={**params, "next": forged}), 400)
        assert_taxii_error(live.get(path, "analyst", params={**params, "next": forged}), 400)


def test_collections_listing_reveals_no_object(live: LiveNode, truth: Truth) -> None:
    every_id = {s.id for s in truth.stored}
    for who in PRINCIPALS:
        for path in ("/taxii2/", "/kor/", "/kor/collections/", live.coll(), live.coll("inbox")):
            r = live.get(path, who)
            assert not [i for i in every_id if i in r.text], (who, path)


# ---- Hypothesis: random items in a fresh node per example (SQLite) ------------------------------


@dataclass
class Sandbox:
    live: LiveNode
    template: Path
    folder: Path
    world: tuple[int, World]
    counter: Iterator[int]
    missing: dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One server whose node is replaced per example by a copy of a template store (the demo
    registry, the test principals, no items): a fresh node costs a file copy, not a setup."""
    folder = tmp_path_factory.mktemp("leak-sandbox")
    template = folder / "template.db"
    store = open_store(f"sqlite:///{template}")
    service.load_demo(store)
    add_test_principals(store)
    Node(store, "KOR", NodeConfig(api_root="kor", title="template", as_of=AS_OF))
    store.close()
    shutil.copy(template, folder / "base.db")
    live = start_node(f"sqlite:///{folder / 'base.db'}", as_of=AS_OF)
    try:
        yield Sandbox(live, template, folder, live.node.world(), itertools.count(), {})
    finally:
        live.stop()


def fresh_node(sb: Sandbox) -> Store:
    path = sb.folder / f"example-{next(sb.counter)}.db"
    shutil.copy(sb.template, path)
    store = open_store(f"sqlite:///{path}")
    node = Node(store, "KOR", NodeConfig(api_root="kor", title="KOR sandbox", as_of=AS_OF))
    node._world = sb.world  # the same registry: reuse the decision world (building it is slow)
    sb.live.server.config.app.state.node = node
    sb.live.node, sb.live.store = node, store
    return store


markings = st.builds(
    Marking.of,
    originator=st.just("KOR"),
    level=st.sampled_from(("I", "II", "III", "U")),
    topics=st.sets(st.sampled_from(TOPICS), min_size=1, max_size=2),
    purpose=st.sampled_from(("defence", "intelligence", "exercise")),
    rel_to=st.none() | st.sets(st.sampled_from(("JPN", "USA", "CHN", "GBR")), max_size=3),
    noforn=st.booleans(),
    orcon=st.booleans(),
    groups=st.sets(st.sampled_from(("dprk", "military", "cyber")), max_size=2),
)


@st.composite
def envelopes(draw: st.DrawFn) -> list[dict[str, Any]]:
    """1–4 indicators of 1–2 versions each, with random markings, posted in a random order."""
    objects = draw(st.lists(st.lists(markings, min_size=1, max_size=2), min_size=1, max_size=4))
    defs: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    second = itertools.count(1)
    for n, versions in enumerate(objects):
        oid = f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'accord-leak-{n}')}"
        for m in versions:
            md = marking_definition(m)
            defs.setdefault(md["id"], md)
            out.append(stix_indicator(oid, next(second), md["id"]))
    return draw(st.permutations([*defs.values(), *out]))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelope=envelopes())
def test_random_items_leak_nothing_to_anyone(
    sandbox: Sandbox, envelope: list[dict[str, Any]]
) -> None:
    store = fresh_node(sandbox)
    try:
        publish(store, envelope)
        stored = stored_versions(store, items_collection(store).key)
        world = sandbox.world[1]
        indicators = sorted({s.id for s in stored if s.type == "indicator"})
        for who in PRINCIPALS:
            check_principal(
                sandbox.live, stored, who, world, indicators, limit=3, missing=sandbox.missing
            )
    finally:
        store.close()


def test_a_publish_landing_between_authorisation_and_query_does_not_leak(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chief may receive every marking stored when its request is authorised; an item under a new
    marking it may not receive (no need-to-know) is published while the request runs, after the
    view was computed and before the page is read. It must not be served."""
    store = fresh_node(sandbox)
    try:
        shared = marking_definition(Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"]))
        publish(
            store,
            [shared, stix_indicator(nth_id(1), 1, shared["id"])],
        )
        secret = marking_definition(Marking.of("KOR", "II", ["wmd"], groups=["navy"]))
        late = stix_indicator(nth_id(2), 2, secret["id"])
        racing = [secret, late]
        page = queries.page

        def page_after_a_publish(*args: Any, **kwargs: Any) -> tuple[list[queries.Row], bool]:
            if racing:
                publish(store, list(racing))
                racing.clear()
            return page(*args, **kwargs)

        monkeypatch.setattr(queries, "page", page_after_a_publish)
        r = sandbox.live.get(sandbox.live.coll() + "objects/", "chief")
        assert r.status_code == 200 and not racing
        assert late["id"] not in r.text and secret["id"] not in r.text
        world = sandbox.world[1]
        assert not may_receive(
            world, AS_OF, "chief", Marking.of("KOR", "II", ["wmd"], groups=["navy"])
        )
    finally:
        store.close()


def test_add_objects_status_does_not_reveal_a_hidden_id_and_version(sandbox: Sandbox) -> None:
    store = fresh_node(sandbox)
    try:
        top = marking_definition(Marking.of("KOR", "I", ["dprk-nuclear"], groups=["dprk"]))
        hidden = stix_indicator(nth_id(3), 1, top["id"])
        publish(store, [top, hidden])
        mine = marking_definition(Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"]))
        coll = sandbox.live.coll() + "objects/"
        probe = {**hidden, "name": "probe", "object_marking_refs": [mine["id"]]}
        fresh = {**probe, "id": nth_id(4)}
        a = sandbox.live.post(coll, {"objects": [mine, probe]}, "analyst").json()
        b = sandbox.live.post(coll, {"objects": [mine, fresh]}, "analyst").json()
        assert (a["success_count"], a["failure_count"]) == (b["success_count"], b["failure_count"])
        assert a["successes"][-1]["message"] == b["successes"][-1]["message"] == "stored"
    finally:
        store.close()
