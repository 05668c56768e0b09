"""Originator signatures (accord.trust.provenance, accord.exchange.signatures): what a node
originates is signed in the same transaction; what a peer delivers is checked against its
originator's pinned key — altered, forged, unsigned and re-marked versions are refused, a hub
relaying untouched content passes. Both backends."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.exchange import markings as mk
from accord.exchange import queries
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection, ensure_collections
from accord.exchange.ingest import Outcome, add_objects
from accord.policy.marking import Marking
from accord.principals import Principal
from accord.store import Store, open_store
from accord.trust import keys
from accord.trust import provenance as pv
from backends import sqlite_store

KOR_II = Marking.of("KOR", "II", ["general-military"], groups=["military"])
TS = "2017-01-01T00:00:00.000Z"


def _indicator(n: int, marking: Marking = KOR_II, name: str = "x") -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n:08d}-0000-4000-8000-000000000000",
        "created": TS,
        "modified": TS,
        "name": name,
        "pattern": "[ipv4-addr:value = '10.0.0.1']",
        "pattern_type": "stix",
        "valid_from": TS,
        "object_marking_refs": [mk.marking_id(marking)],
    }


def _coll(store: Store, party: str, kind: str) -> Collection:
    return next(c for c in ensure_collections(store, party.lower(), party) if c.kind == kind)


def _rows(store: Store, c: Collection) -> list[dict[str, Any]]:
    rows, _ = queries.page(store, c.key, None, queries.Query(versions=("all",)), None, 1000)
    return [orjson.loads(r.body) for r in rows]


def _publish_at_kor(store: Store, objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KOR's analyst publishes; returns the collection's objects as a partner would read them
    (partner form of the marking: groups removed)."""
    c = _coll(store, "KOR", "items")
    out = add_objects(
        store, c, [mk.marking_definition(KOR_II), *objs], Writer.host("analyst", "KOR"),
        lambda m: None,
    )  # fmt: skip
    assert all(o.ok for o in out), out
    national, partner = mk.marking_id(KOR_II), mk.marking_id(KOR_II.without_groups())
    served = []
    for body in _rows(store, c):
        text = orjson.dumps(body).decode().replace(national, partner)
        served.append(orjson.loads(text))
    for body in served:
        if body["id"] == partner or body["id"] == national:
            body.clear()
            body.update(mk.marking_definition(KOR_II.without_groups()))
    return served


@pytest.fixture
def kor(tmp_path: Any) -> Store:
    return open_store(sqlite_store(tmp_path / "kor.db"))


def _deliver(jpn: Store, sender: str, objs: list[dict[str, Any]]) -> dict[str, Outcome]:
    writer = Writer.of(Principal(f"{sender.lower()}-node", "partner", sender), frozenset(), "JPN")
    out = add_objects(jpn, _coll(jpn, "JPN", "inbox"), objs, writer, lambda m: None)
    return {o.id: o for o in out}


def test_what_a_node_originates_is_signed_before_the_items(kor: Store) -> None:
    served = _publish_at_kor(kor, [_indicator(1), _indicator(2)])
    kinds = ["provenance" if pv.is_provenance(o) else o["type"] for o in served]
    prov = next(o for o in served if pv.is_provenance(o))
    assert kinds.index("provenance") < kinds.index("indicator")  # read first
    own = {"KOR": [keys.PartyKey("KOR", keys.public_hex(keys.node_key(kor)), "own", 0)]}
    assert pv.verify(prov, own) is None
    ext = prov["extensions"][pv.PROVENANCE_EXTENSION]
    signed = {e[0]: e[2] for e in ext["entries"]}
    for o in served:
        if o["type"] == "indicator":
            assert signed[o["id"]] == pv.content_hash(o)
    assert ext["marking"] == mk.marking_id(KOR_II.without_groups())
    assert prov["object_refs"] == sorted(signed)  # a note about exactly the items it signs


@pytest.mark.parametrize(
    "case", ["intact", "altered", "forged", "unsigned", "re-marked", "replayed"]
)
def test_a_delivery_is_checked_against_the_originators_pinned_key(
    kor: Store, store: Store, case: str
) -> None:
    served = _publish_at_kor(kor, [_indicator(1)])
    with store.begin() as conn:
        keys.pin(conn, "KOR", keys.public_hex(keys.node_key(kor)), "test")
    item = next(o for o in served if o["type"] == "indicator")
    prov = next(o for o in served if pv.is_provenance(o))
    md = next(o for o in served if o["type"] == "marking-definition")
    if case == "altered":
        item["name"] = "y"  # one byte changed by a hub
    elif case == "forged":
        # Another node's key signs as Korea (its own provenance, with Korea's name on it).
        ext = prov["extensions"][pv.PROVENANCE_EXTENSION]
        prov = pv.build(
            "KOR", Ed25519PrivateKey.generate(), ext["marking"], prov["object_marking_refs"][0],
            [tuple(e) for e in ext["entries"]], ext["at"],
        )  # fmt: skip
        claimed = prov["extensions"][pv.PROVENANCE_EXTENSION]
        claimed["key"] = keys.fingerprint(keys.public_hex(keys.node_key(kor)))  # Korea's
    elif case == "unsigned":
        prov = None
    elif case == "replayed":
        # An old version passed off as a new one: its `modified` moved forward, nothing else.
        item["modified"] = "2018-01-01T00:00:00.000Z"
    elif case == "re-marked":
        other = Marking.of("KOR", "III", ["general-military"])
        item["object_marking_refs"] = [mk.marking_id(other)]
        md = mk.marking_definition(other)
    objs = [md, *([prov] if prov else []), item]
    got = _deliver(store, "USA", objs)  # relayed by a hub
    outcome = got[item["id"]]
    if case == "intact":
        assert outcome.ok, outcome
        return
    assert not outcome.ok
    expected = {
        "altered": "altered",
        "forged": "unsigned",  # the forged provenance is refused, so nothing vouches for it
        "unsigned": "unsigned",
        "re-marked": "re-marked",
        "replayed": "unsigned",  # no provenance vouches for that version
    }[case]
    assert expected in outcome.message, outcome
    if case == "forged":
        assert not got[prov["id"]].ok and "does not verify" in got[prov["id"]].message


def test_an_originator_without_a_pinned_key_is_stored_unverified(kor: Store, store: Store) -> None:
    served = _publish_at_kor(kor, [_indicator(1)])
    item = next(o for o in served if o["type"] == "indicator")
    md = next(o for o in served if o["type"] == "marking-definition")
    assert _deliver(store, "USA", [md, item])[item["id"]].ok  # no key pinned for KOR


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,20}", fullmatch=True), _VALUES, max_size=8))
def test_the_canonical_form_is_rfc8785_for_stix_like_objects(obj: dict[str, Any]) -> None:
    """ASCII property names and integer numbers, as STIX objects have: accord's canonical form
    is byte for byte RFC 8785 (JCS)."""
    obj.pop("object_marking_refs", None)
    assert pv.canonical(obj) == rfc8785.dumps(obj)
