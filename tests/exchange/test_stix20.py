"""STIX 2.0 upgraded to 2.1 (`accord.exchange.stix20`): the changes STIX 2.1 made (the STIX 2.1
OASIS Standard: §3.2 spec_version, §4.7 indicator, §4.11 malware, §4.14 observed-data, §4.15–§4.17
report, threat-actor, tool, §7.2.1.4 TLP), checked with the stix2 library's 2.1 classes, on real
content (MITRE ATT&CK as MITRE publishes it, tests/data/attack/README.md) and on generated objects."""

from __future__ import annotations

import copy
import json
import uuid
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stix2
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2.exceptions import STIXDeprecationWarning

from accord.errors import InputError
from accord.exchange import foreign
from accord.exchange.stix import check_object
from accord.exchange.stix20 import LABELS_MOVED, Upgraded, is_stix20, upgrade

ATTACK = (
    Path(__file__).resolve().parent.parent / "data" / "attack" / "enterprise-attack-subset.json"
)
TS = "2016-04-06T20:03:48.000Z"


def parse21(obj: dict[str, Any]) -> object:
    """The stix2 library's reading of `obj` as STIX 2.1 (raises when it is not valid 2.1). An
    observed-data keeping its `objects` is valid and deprecated (§4.14): stix2's warning saying
    so is expected (test_observed_data_keeps_its_20_objects asserts it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The 'objects' property", STIXDeprecationWarning)
        return stix2.parse(obj, allow_custom=True, version="2.1")


def sdo(typ: str, **props: Any) -> dict[str, Any]:
    return {"type": typ, "id": f"{typ}--{uuid.uuid4()}", "created": TS, "modified": TS, **props}


INDICATOR_20 = sdo(
    "indicator",
    labels=["malicious-activity"],
    pattern="[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    valid_from="2016-01-01T00:00:00Z",
    x_acme_score=7,
)
TLP_GREEN_20 = {
    "type": "marking-definition",
    "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "created": "2017-01-20T00:00:00.000Z",
    "definition_type": "tlp",
    "definition": {"tlp": "green"},
}


# ---- real content: ATT&CK as MITRE publishes it ------------------------------------------------


def test_attack_bundle_is_stix20_and_every_object_upgrades_to_valid_stix21() -> None:
    bundle = json.loads(ATTACK.read_bytes())
    objects = bundle["objects"]
    before = copy.deepcopy(objects)
    assert is_stix20(bundle) and all(is_stix20(o) for o in objects)
    up = upgrade(objects)
    assert objects == before  # the input is never modified
    assert len(up.objects) == len(objects) == 329
    for old, new in zip(objects, up.objects, strict=True):
        assert check_object(new) is None, new["id"]
        parse21(new)
        assert new["spec_version"] == "2.1"
        # MITRE's statement marking, its identity and every x_mitre_* property are kept.
        for key in old:
            if key != "labels" or new["type"] not in LABELS_MOVED:
                assert new[key] == old[key], (new["id"], key)
    kinds = Counter(line.split(": ", 1)[1] for line in up.changes)
    assert kinds == {
        'spec_version "2.1" added': 329,
        "labels moved to malware_types": 7,
        "is_family true added": 7,
        "labels moved to tool_types": 13,
    }
    malware = next(o for o in up.objects if o["type"] == "malware")
    assert malware["malware_types"] == ["malware"] and malware["is_family"] is True
    assert "labels" not in malware
    assert upgrade(up.objects).changes == []


# ---- each change, as the STIX 2.1 standard gives it ---------------------------------------------


def test_indicator_gains_its_types_pattern_type_and_pattern_version() -> None:
    up = upgrade([INDICATOR_20])
    (new,) = up.objects
    oid = INDICATOR_20["id"]
    assert up.changes == [
        f'{oid}: spec_version "2.1" added',
        f"{oid}: labels moved to indicator_types",
        f'{oid}: pattern_type "stix" added',
        f'{oid}: pattern_version "2.0" added',
    ]
    assert new["indicator_types"] == ["malicious-activity"] and "labels" not in new
    assert new["x_acme_score"] == 7
    indicator = parse21(new)
    assert isinstance(indicator, stix2.v21.Indicator) and indicator.pattern_version == "2.0"


@pytest.mark.parametrize(
    ("typ", "target", "extra"),
    [
        ("malware", "malware_types", {"name": "Poison Ivy"}),
        ("tool", "tool_types", {"name": "VNC"}),
        ("threat-actor", "threat_actor_types", {"name": "Evil Org"}),
        (
            "report",
            "report_types",
            {"name": "r", "published": TS, "object_refs": [INDICATOR_20["id"]]},
        ),
    ],
)
def test_labels_move_to_the_type_property_of_21(
    typ: str, target: str, extra: dict[str, Any]
) -> None:
    obj = sdo(typ, labels=["remote-access-trojan", "x-own-word"], **extra)
    (new,) = upgrade([obj]).objects
    assert new[target] == ["remote-access-trojan", "x-own-word"] and "labels" not in new
    parse21(new)


def test_other_types_keep_their_labels() -> None:
    obj = sdo("attack-pattern", name="Spearphishing", labels=["phishing"])
    up = upgrade([obj])
    assert up.objects[0]["labels"] == ["phishing"]
    assert up.changes == [f'{obj["id"]}: spec_version "2.1" added']


def test_malware_keeps_an_is_family_it_states() -> None:
    obj = sdo("malware", name="one sample", labels=["trojan"], is_family=False)
    up = upgrade([obj])
    assert up.objects[0]["is_family"] is False
    assert not [c for c in up.changes if "is_family" in c]
    parse21(up.objects[0])


def test_tlp_marking_definition_is_the_21_one() -> None:
    up = upgrade([TLP_GREEN_20])
    assert up.objects == [json.loads(stix2.v21.TLP_GREEN.serialize())]  # §7.2.1.4, with its name
    assert up.changes[-1].endswith('name "TLP:GREEN" added')
    assert up.objects == [foreign.tlp_definition(TLP_GREEN_20["id"])]  # what ingest knows


def test_statement_marking_definition_changes_only_its_spec_version() -> None:
    statement = {
        "type": "marking-definition",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2017-06-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2017, Example Corp."},
    }
    (new,) = upgrade([statement]).objects
    assert new == {**statement, "spec_version": "2.1"}
    parse21(new)


def test_observed_data_keeps_its_20_objects() -> None:
    obj = sdo(
        "observed-data",
        first_observed=TS,
        last_observed=TS,
        number_observed=1,
        objects={"0": {"type": "ipv4-addr", "value": "198.51.100.3"}},
    )
    (new,) = upgrade([obj]).objects
    assert new["objects"] == obj["objects"]
    with pytest.warns(STIXDeprecationWarning, match="'objects' property of observed-data"):
        stix2.parse(new, allow_custom=True, version="2.1")


@pytest.mark.parametrize(
    ("obj", "why"),
    [
        pytest.param(
            sdo(
                "observed-data",
                first_observed=TS,
                last_observed=TS,
                number_observed=1,
                objects={"0": {"type": "file", "name": "a.exe", "created": TS}},
            ),
            "objects['0']: file property created was renamed ctime in STIX 2.1",
            id="renamed-observable-property",
        ),
        pytest.param(
            sdo(
                "observed-data",
                first_observed=TS,
                last_observed=TS,
                number_observed=1,
                objects={"0": {"type": "file", "name": "a.zip", "is_encrypted": True}},
            ),
            "file property is_encrypted was removed in STIX 2.1",
            id="removed-observable-property",
        ),
        pytest.param(
            sdo("malware", name="m", labels=["worm"], malware_types=["virus"]),
            "has both the STIX 2.0 labels and malware_types",
            id="labels-and-types",
        ),
        pytest.param(
            sdo("grouping", context="x", object_refs=[INDICATOR_20["id"]]),
            "grouping is a STIX 2.1 type without spec_version",
            id="type-new-in-21",
        ),
    ],
)
def test_what_cannot_be_upgraded_faithfully_is_refused_by_id(obj: dict[str, Any], why: str) -> None:
    with pytest.raises(InputError) as err:
        upgrade([INDICATOR_20, obj])
    assert str(err.value).startswith(obj["id"] + ": ") and why in str(err.value)


def test_stix21_content_passes_unchanged() -> None:
    (ind21,) = upgrade([INDICATOR_20]).objects
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "198.51.100.3"}
    objects: list[Any] = [ind21, sco, "not an object", {"no": "type"}]
    up = upgrade(objects)
    assert up == Upgraded(objects, [])
    assert not any(is_stix20(o) for o in objects)


def test_an_explicit_spec_version_20_is_upgraded() -> None:
    obj = sdo("campaign", name="c", spec_version="2.0")
    up = upgrade([obj])
    assert up.objects[0]["spec_version"] == "2.1"
    assert up.changes == [f"{obj['id']}: spec_version 2.0 → 2.1"]


def test_bundles() -> None:
    assert is_stix20({"type": "bundle", "id": "bundle--x", "spec_version": "2.0", "objects": []})
    assert not is_stix20({"type": "bundle", "id": "bundle--x", "objects": []})  # 2.1: none


# ---- properties over generated STIX 2.0 content -------------------------------------------------

WORD = st.from_regex(r"[a-z][a-z0-9-]{0,12}[a-z0-9]", fullmatch=True)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORD, inner, max_size=3),
    max_leaves=6,
)
CUSTOM = st.dictionaries(
    st.from_regex(r"x_[a-z][a-z0-9_]{2,12}", fullmatch=True), JSON_VALUE, max_size=3
)
START = datetime(2015, 1, 1, tzinfo=UTC)


def _ts(offset_ms: int) -> str:
    t = START + timedelta(milliseconds=offset_ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _ref(typ: str) -> str:
    return f"{typ}--{uuid.uuid4()}"


@st.composite
def stix20_object(draw: st.DrawFn) -> dict[str, Any]:
    """A STIX 2.0 SDO, SRO, marking-definition or custom object, with custom properties."""
    typ = draw(
        st.sampled_from(
            ["attack-pattern", "campaign", "course-of-action", "identity", "indicator",
             "intrusion-set", "malware", "observed-data", "report", "threat-actor", "tool",
             "vulnerability", "relationship", "sighting", "marking-definition", "x-acme-thing"]
        )
    )  # fmt: skip
    created = draw(st.integers(0, 10**11))
    obj: dict[str, Any] = {"type": typ, "id": f"{typ}--{draw(st.uuids(version=4))}"}
    obj["created"] = _ts(created)
    if typ == "marking-definition":
        obj["definition_type"] = "statement"
        obj["definition"] = {"statement": draw(st.text(min_size=1, max_size=40))}
    else:
        obj["modified"] = _ts(created + draw(st.integers(0, 10**9)))
    names = {"name": draw(st.text(min_size=1, max_size=20))}
    required: dict[str, dict[str, Any]] = {
        "indicator": {"pattern": "[ipv4-addr:value = '203.0.113.7']", "valid_from": obj["created"]},
        "identity": {**names, "identity_class": "organization"},
        "report": {**names, "published": obj["created"], "object_refs": [_ref("campaign")]},
        "relationship": {
            "relationship_type": "uses",
            "source_ref": _ref("intrusion-set"),
            "target_ref": _ref("malware"),
        },
        "sighting": {"sighting_of_ref": _ref("indicator")},
        "observed-data": {
            "first_observed": obj["created"],
            "last_observed": obj["created"],
            "number_observed": 1,
            "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.3"}},
        },
    }
    obj.update(required.get(typ, names if typ not in ("marking-definition",) else {}))
    if typ in LABELS_MOVED or draw(st.booleans()):
        obj["labels"] = draw(st.lists(WORD, min_size=1, max_size=3))
    if draw(st.booleans()):
        obj["object_marking_refs"] = [_ref("marking-definition")]
    if draw(st.booleans()):
        obj["created_by_ref"] = _ref("identity")
    obj.update(draw(CUSTOM))
    return obj


CONTENT = st.lists(stix20_object(), min_size=1, max_size=6)


@given(CONTENT)
@settings(max_examples=60, deadline=None)
def test_upgrade_is_idempotent(objects: list[dict[str, Any]]) -> None:
    once = upgrade(objects)
    twice = upgrade(once.objects)
    assert twice.changes == [] and twice.objects == once.objects


@given(CONTENT)
@settings(max_examples=60, deadline=None)
def test_upgrade_never_modifies_its_input(objects: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(objects)
    up = upgrade(objects)
    assert objects == before
    assert all(new is not old for new, old in zip(up.objects, objects, strict=True))


@given(CONTENT)
@settings(max_examples=60, deadline=None)
def test_upgrade_drops_nothing_but_the_labels_it_moves(objects: list[dict[str, Any]]) -> None:
    up = upgrade(objects)
    for old, new in zip(objects, up.objects, strict=True):
        gone = set(old) - set(new)
        target = LABELS_MOVED.get(old["type"])
        assert gone == ({"labels"} if target else set())
        if target:
            assert new[target] == old["labels"]
        assert {k: v for k, v in new.items() if k in old} == {k: old[k] for k in old if k in new}
        lines = [c for c in up.changes if c.startswith(old["id"] + ": ")]
        assert len(lines) == len(set(new) - set(old)) + len(gone) - (1 if target else 0)


@given(CONTENT)
@settings(max_examples=40, deadline=None)
def test_upgrade_yields_what_the_21_check_and_stix2_accept(objects: list[dict[str, Any]]) -> None:
    for new in upgrade(objects).objects:
        assert check_object(new) is None, new
        parse21(new)
