"""Markings that are not accord's (accord.exchange.foreign): TLP and statements stay on the
objects beside the release marking, predefined TLP definitions are known and not stored, a
statement travels as an object under a release marking, ACS beside accord's own marking defers
to it, and the peer marking table maps foreign markings — never releasing what it does not
name. Both backends."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.exchange import foreign, publishing, queries
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection, ensure_collections
from accord.exchange.marking_rows import marking_index
from accord.policy.marking import Marking
from accord.store import Store

KOR_U = Marking.of("KOR", "IV", ["general-military"])
TS = "2024-01-01T00:00:00.000Z"
TLP_GREEN_1 = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP_AMBER_2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STATEMENT = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
    "created": "2017-06-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "Copyright 2015-2025, The MITRE Corporation."},
}


def _indicator(n: int, refs: list[str]) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n:08d}-0000-4000-8000-000000000000",
        "created": TS,
        "modified": TS,
        "pattern": "[ipv4-addr:value = '10.0.0.1']",
        "pattern_type": "stix",
        "valid_from": TS,
        "object_marking_refs": refs,
    }


def _items(store: Store) -> Collection:
    return next(c for c in ensure_collections(store, "kor", "KOR") if c.kind == "items")


def _publish(
    store: Store, posted: list[Any], default: Marking | None = KOR_U
) -> list[publishing.Outcome]:
    drafted = publishing.draft(marking_index(store), posted, default)
    assert not drafted.unmarked and not drafted.problems, drafted
    return publishing.store_objects(
        store, _items(store), drafted.objects, Writer.host("analyst", "KOR"), lambda m: None
    )


def _bodies(store: Store) -> dict[str, dict[str, Any]]:
    rows, _ = queries.page(store, _items(store).key, None, queries.Query(), None, 1000)
    return {r.stix_id: orjson.loads(r.body) for r in rows}


def test_a_statement_travels_as_an_object_under_the_release_marking(store: Store) -> None:
    obj = _indicator(1, [STATEMENT["id"]])
    outcomes = _publish(store, [STATEMENT, obj])
    assert all(o.ok for o in outcomes), outcomes
    stored = _bodies(store)
    release = mk.marking_id(KOR_U)
    assert stored[obj["id"]]["object_marking_refs"] == [STATEMENT["id"], release]
    statement = stored[STATEMENT["id"]]
    assert statement["definition"] == STATEMENT["definition"]
    assert statement["object_marking_refs"] == [release]
    # Only the release marking is a release class: the statement is not one.
    assert STATEMENT["id"] not in marking_index(store).rows


def test_predefined_tlp_is_known_not_stored_and_stays_on_the_object(store: Store) -> None:
    tlp = foreign.tlp_definition(TLP_GREEN_1)
    assert tlp is not None
    obj = _indicator(2, [TLP_GREEN_1])
    outcomes = {o.id: o for o in _publish(store, [tlp, obj])}
    assert outcomes[TLP_GREEN_1].ok and "predefined" in outcomes[TLP_GREEN_1].message
    stored = _bodies(store)
    assert TLP_GREEN_1 not in stored
    assert stored[obj["id"]]["object_marking_refs"] == [TLP_GREEN_1, mk.marking_id(KOR_U)]


def test_a_definition_under_a_tlp_id_with_other_content_is_refused(store: Store) -> None:
    forged = {**(foreign.tlp_definition(TLP_GREEN_1) or {}), "definition": {"tlp": "white"}}
    obj = _indicator(3, [TLP_GREEN_1])
    outcomes = {o.id: o for o in _publish(store, [forged, obj])}
    assert not outcomes[TLP_GREEN_1].ok
    assert "predefined TLP:GREEN" in outcomes[TLP_GREEN_1].message
    assert outcomes[obj["id"]].ok  # the object keeps its release marking all the same


def test_a_statement_may_not_take_a_name_based_id(store: Store) -> None:
    v5 = {**STATEMENT, "id": "marking-definition--88648d07-e8da-57ed-bc9a-bfe73e53aea1"}
    outcomes = {o.id: o for o in _publish(store, [v5, _indicator(4, [v5["id"]])])}
    assert not outcomes[v5["id"]].ok and "version 5" in outcomes[v5["id"]].message


def _acs(marking_id: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id,
        "created": TS,
        "extensions": {
            mk.ACS_EXTENSION: {
                "extension_type": "property-extension",
                "identifier": "isa:guide.19001.ACS3-0001",
                "create_date_time": TS,
                "responsible_entity_custodian": "KOR.ACCORD",
                "responsible_entity_originator": "KOR.ACCORD",
                "policy_reference": "urn:isa:policy:acs:ns:v3.0?privdefault=deny&sharedefault=deny",
                "control_set": {"classification": "U", "permitted_nationalities": ["USA"]},
            }
        },
    }


def test_an_acs_marking_beside_accords_own_defers_to_it(store: Store) -> None:
    acs = _acs("marking-definition--0b6c2d1e-4f5a-4b7c-8d9e-0f1a2b3c4d5e")
    obj = _indicator(5, [acs["id"], mk.marking_id(KOR_U)])
    outcomes = _publish(store, [mk.marking_definition(KOR_U), acs, obj], default=None)
    assert all(o.ok for o in outcomes), outcomes
    # Two accord markings are still two release markings: refused.
    other = Marking.of("KOR", "III", ["general-military"])
    two = _indicator(6, [mk.marking_id(KOR_U), mk.marking_id(other)])
    drafted = publishing.draft(marking_index(store), [mk.marking_definition(other), two], None)
    out = publishing.store_objects(
        store, _items(store), drafted.objects, Writer.host("analyst", "KOR"), lambda m: None
    )
    assert not out[1].ok and "more than one release marking" in out[1].message


# ---- the peer marking table ----------------------------------------------------------------

TABLE = foreign.MarkingMap.of(
    [
        ("TLP:GREEN", Marking.of("USA", "U", ["general-military"])),
        ("TLP:CLEAR", Marking.of("USA", "U", ["general-military"])),
        ("TLP:AMBER", Marking.of("USA", "C", ["general-military"])),
    ]
)


def test_parse_entry_names_what_is_missing() -> None:
    name, m = foreign.parse_entry("TLP:GREEN=USA U general-military")
    assert name == "TLP:GREEN" and (m.originator, m.level, m.topics) == (
        "USA",
        "U",
        frozenset({"general-military"}),
    )
    _, m2 = foreign.parse_entry("Copyright MITRE=usa U general-military,dprk-missile")
    assert m2.originator == "USA" and m2.topics == {"general-military", "dprk-missile"}
    for bad in ("TLP:GREEN", "=USA U x", "TLP:GREEN=USA U"):
        with pytest.raises(InputError, match="--map"):
            foreign.parse_entry(bad)


def test_apply_maps_tlp_1_and_2_and_keeps_the_foreign_refs() -> None:
    objs = [_indicator(1, [TLP_GREEN_1]), _indicator(2, [TLP_AMBER_2])]
    out = foreign.apply(objs, TABLE)
    assert not out.refused
    green, amber = (mk.marking_id(m) for _, m in TABLE.entries[0::2])
    definitions = [o for o in out.objects if o["type"] == "marking-definition"]
    assert {d["id"] for d in definitions} == {green, amber}
    mapped = [o for o in out.objects if o["type"] == "indicator"]
    assert mapped[0]["object_marking_refs"] == [TLP_GREEN_1, green]
    assert mapped[1]["object_marking_refs"] == [TLP_AMBER_2, amber]
    assert objs[0]["object_marking_refs"] == [TLP_GREEN_1]  # the input is not changed


def test_apply_refuses_unmarked_unmapped_and_ambiguous_content() -> None:
    red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
    objs = [
        _indicator(1, []),
        _indicator(2, [red]),
        _indicator(3, [TLP_GREEN_1, TLP_AMBER_2]),
    ]
    out = foreign.apply(objs, TABLE)
    reasons = [out.refused[i] for i in range(len(out.objects)) if i in out.refused]
    assert len(reasons) == 3
    assert "unmarked" in reasons[0]
    assert "TLP:RED" in reasons[1]
    assert "different release markings" in reasons[2]


def test_apply_gives_a_statement_the_marking_of_the_content_naming_it() -> None:
    table = TABLE.over(
        foreign.MarkingMap.of([(STATEMENT["id"], Marking.of("USA", "U", ["general-military"]))])
    )
    out = foreign.apply([STATEMENT, _indicator(1, [STATEMENT["id"]])], table)
    assert not out.refused
    statement = next(o for o in out.objects if o["id"] == STATEMENT["id"])
    assert statement["object_marking_refs"] == [
        mk.marking_id(Marking.of("USA", "U", ["general-military"]))
    ]
    orphan = foreign.apply([STATEMENT], table)
    assert list(orphan.refused.values()) == [
        "a marking-definition that no mapped object of the page names"
    ]


def test_a_peer_entry_overrides_the_settings_table_and_white_maps_as_clear() -> None:
    peer = foreign.MarkingMap.of([("tlp:green", Marking.of("JPN", "U", ["general-military"]))])
    table = peer.over(TABLE)
    assert table.lookup(["TLP:GREEN"]) == Marking.of("JPN", "U", ["general-military"])
    white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
    assert table.lookup(foreign.names_of(white, None)) == Marking.of(
        "USA", "U", ["general-military"]
    )


_REFS = st.lists(
    st.sampled_from([*foreign.TLP1, *foreign.TLP2, STATEMENT["id"], "marking-definition--x"]),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_REFS, min_size=1, max_size=8))
def test_apply_never_releases_what_the_table_does_not_name(pages: list[list[str]]) -> None:
    objs = [_indicator(i, refs) for i, refs in enumerate(pages)]
    out = foreign.apply(objs, TABLE)
    mapped = {mk.marking_id(m) for _, m in TABLE.entries}
    for i, o in enumerate(out.objects):
        if o["type"] == "marking-definition":
            assert o["id"] in mapped  # only the definitions of table markings are added
            continue
        original = objs[int(o["id"].split("--")[1][:8])]["object_marking_refs"]
        if i in out.refused:
            assert o["object_marking_refs"] == original
            continue
        # Released: every foreign ref kept, exactly one release marking added from the table,
        # and at least one of its refs is one the table names.
        assert o["object_marking_refs"][:-1] == original
        assert o["object_marking_refs"][-1] in mapped
        assert any(TABLE.lookup(foreign.names_of(r, None)) for r in original)
