"""National-only metadata never leaves the node (PRODUCT.md §7; docs/security.md, "National-only
metadata"): a partner reading over TAXII, and a partner receiving a push, gets release markings
without the node's need-to-know group names, under ids derived from what it receives; the node's
own users still see their groups; at the receiver, need-to-know for a received item is the
receiver's (by subject: a group named after one of its topics)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pytest
from taxii_live import LiveNode, start_node, walk

from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.exchange.marking_rows import marking_index
from accord.exchange.queries import Query, page
from accord.federation.peers import add_peer, list_peers
from accord.federation.sync import sync_peer
from accord.policy import User, World, may_access
from accord.policy.marking import Marking
from accord.principals import add_principal
from accord.registry import repository as registry_repo
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

PARTNERS = ("jpn-node", "usa-node", "chn-node")
#: The need-to-know group names of the node's first-run samples and of the tests' markings.
NATIONAL_GROUPS = ("dprk", "military", "cyber")


def grouped_ids(store: Any) -> set[str]:
    """The stored release markings that name groups: their national ids."""
    index = marking_index(store)
    return {index.stix_ids[r] for r, m in index.by_row.items() if m.groups}


def served(live: LiveNode, who: str) -> list[bytes]:
    """Every response body `who` gets reading the items collection: its pages (every version),
    its manifest and each object by id."""
    bodies = [
        r.content
        for r in walk(live, live.coll() + "objects/", who, 50, **{"match[version]": "all"})
    ]
    bodies += [r.content for r in walk(live, live.coll() + "manifest/", who, 50)]
    ids = {o["id"] for b in bodies[:1] for o in orjson.loads(b).get("objects", [])}
    for body in bodies:
        ids |= {o["id"] for o in orjson.loads(body).get("objects", [])}
    for oid in sorted(ids):
        r = live.get(live.coll() + f"objects/{oid}/", who)
        if r.status_code == 200:
            bodies.append(r.content)
    return bodies


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_partner_reads_no_national_group_names(live: LiveNode, partner: str) -> None:
    """Case 14. Fails on eff1280 for Japan and the USA: they read Korea's internal need-to-know
    group names (`dprk`, `military`) in the marking-definitions and under the ids of its items'
    markings. (China receives nothing: the control.)"""
    national = grouped_ids(live.store)
    assert national  # the first-run samples name groups
    bodies = served(live, partner)
    objects = [o for b in bodies for o in orjson.loads(b).get("objects", []) if "type" in o]
    for b in bodies:
        for nid in national:
            assert nid.encode() not in b, (partner, nid)
    for o in objects:
        if o["type"] == "marking-definition":
            ext = o["extensions"][mk.ACCORD_EXTENSION]
            assert "groups" not in ext, o
            # What the partner receives names itself: its id is derived from its content.
            assert mk.id_mismatch(o, mk.from_definition(o)) is None  # type: ignore[arg-type]
    if partner == "jpn-node":  # Japan receives KOR II and III items under the GSOMIA in 2017
        refs = {r for o in objects for r in o.get("object_marking_refs", [])}
        defs = {o["id"] for o in objects if o["type"] == "marking-definition"}
        assert refs and refs <= defs | {r for r in refs if r not in national}


def test_the_nodes_own_users_still_see_their_groups(live: LiveNode) -> None:
    """The control: national users read the national markings, groups included."""
    bodies = served(live, "chief")
    defs = [
        o
        for b in bodies
        for o in orjson.loads(b).get("objects", [])
        if o.get("type") == "marking-definition"
    ]
    assert any(d["extensions"][mk.ACCORD_EXTENSION].get("groups") for d in defs)


# ---- a push to a partner's node --------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveNode, LiveNode]]:
    """Korea's and Japan's nodes, each the other's peer, in 2017 (the GSOMIA in force)."""
    made: list[str] = []
    nodes: dict[str, LiveNode] = {}
    for party in ("KOR", "JPN"):
        if request.param == "sqlite":
            url = sqlite_store(tmp_path_factory.mktemp(party) / "accord.db")
        else:
            url, name = make_pg_database()
            made.append(name)
        nodes[party] = start_node(url, party=party, as_of=date(2017, 6, 1))
    add_principal(nodes["JPN"].store, "kor-peer", "partner", "KOR", "kor-peer-secret")
    add_peer(
        nodes["KOR"].store,
        "jpn",
        "JPN",
        nodes["JPN"].url,
        "kor-peer",
        "kor-peer-secret",
        pull=False,
    )
    try:
        yield nodes["KOR"], nodes["JPN"]
    finally:
        for n in nodes.values():
            n.stop()
        for name in made:
            drop_pg_database(name)


def test_a_push_carries_no_national_group_names_and_the_receiver_decides_need_to_know(
    pair: tuple[LiveNode, LiveNode],
) -> None:
    """Case 14, federation. Fails on eff1280: Japan's node stored Korea's markings with Korea's
    group names, and Japan's users were let in by sharing a Korean group's name."""
    kor, jpn = pair
    m = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
    item = {
        "type": "indicator", "spec_version": "2.1", "id": "indicator--7a1f5c3e-0d2b-4c8e-9f6a-1b2c3d4e5f60",
        "created": "2017-01-01T00:00:00.000Z", "modified": "2017-01-01T00:00:00.000Z",
        "name": "launch site", "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
        "valid_from": "2017-01-01T00:00:00Z", "object_marking_refs": [mk.marking_id(m)],
    }  # fmt: skip
    items = next(c for c in list_collections(kor.store, "kor") if c.kind == "items")
    done = add_objects(
        kor.store, items, [mk.marking_definition(m), item], Writer.host("t", "KOR"), lambda _: None
    )
    assert all(o.ok for o in done)
    (peer,) = list_peers(kor.store)
    report = sync_peer(kor.node, peer, retries=2)
    assert report.pushed >= 2, report.to_json()
    index = marking_index(jpn.store)
    received = {
        index.stix_ids[r]: mk_ for r, mk_ in index.by_row.items() if mk_.originator == "KOR"
    }
    assert received and not any(x.groups for x in received.values())
    assert mk.marking_id(m) not in received and mk.marking_id(m.without_groups()) in received
    inbox = next(c for c in list_collections(jpn.store, "jpn") if c.kind == "inbox")
    rows, _ = page(jpn.store, inbox.key, None, Query(versions=("all",)), None, 1000)
    assert {r.stix_id for r in rows} >= {item["id"], mk.marking_id(m.without_groups())}
    for r in rows:
        assert b'"groups"' not in r.body, r.body
    # At Japan's node the item's need-to-know is Japan's: by subject.
    world = World(registry_repo.load(jpn.store))
    plain = m.without_groups()
    topic = User("jp-analyst", "JPN", "GOKUHI", frozenset({"dprk-missile"}))
    korean_name = User("jp-other", "JPN", "GOKUHI", frozenset({"dprk"}))
    at = date(2017, 6, 1)
    assert may_access(topic, plain, at, world=world).allowed
    denied = may_access(korean_name, plain, at, world=world)
    assert not denied.allowed and "topics" in denied.explanation
