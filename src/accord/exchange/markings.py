"""STIX marking-definitions that carry release markings, in and out.

accord's own marking is a property-extension of a marking-definition (STIX 2.1 §7.3: new markings
SHOULD use the extension facility). Its id is derived from its content, so equal markings published
twice are one marking-definition, one release class. ISA ACS 3.0 markings
(`extension-definition--3a65884d-…`, taxii-stix.md §4.2) are mapped where they can be:
`control_set.classification` → level (US scheme codes), `permitted_nationalities` → REL TO,
`formal_determination: NF` → NOFORN, the originator from `responsible_entity_originator` or the
custodian's first token. ACS carries no topic, so a mapped marking is given `general-military`
(never inside a topic-limited scope such as TISA's: the conservative reading of R3).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from accord.errors import Unprocessable
from accord.policy.marking import DEFAULT_PURPOSE, Marking

ACCORD_EXTENSION = "extension-definition--88648d07-e8da-57ed-bc9a-bfe73e53aea1"
ACS_EXTENSION = "extension-definition--3a65884d-005a-4290-8335-cb2d778a83ce"
_NAMESPACE = uuid.UUID("88648d07-e8da-57ed-bc9a-bfe73e53aea1")
MARKING_CREATED = "2016-11-23T00:00:00.000Z"  # fixed, so that equal markings are equal objects


def spec_json(m: Marking) -> str:
    """Returns the marking's canonical JSON (sorted keys), the key of its release class."""
    data = {
        "originator": m.originator,
        "level": m.level,
        "topics": sorted(m.topics),
        "purpose": m.purpose,
        "rel_to": None if m.rel_to is None else sorted(m.rel_to),
        "noforn": m.noforn,
        "orcon": m.orcon,
        "groups": sorted(m.groups),
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def marking_id(m: Marking) -> str:
    """Returns the deterministic STIX id of the marking-definition for `m`."""
    return f"marking-definition--{uuid.uuid5(_NAMESPACE, spec_json(m))}"


def marking_definition(m: Marking) -> dict[str, Any]:
    """Returns the STIX 2.1 marking-definition object that carries `m` in accord's extension."""
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "originator": m.originator,
        "level": m.level,
        "topics": sorted(m.topics),
        "purpose": m.purpose,
        "noforn": m.noforn,
        "orcon": m.orcon,
    }
    if m.rel_to is not None:
        ext["rel_to"] = sorted(m.rel_to)
    if m.groups:
        ext["groups"] = sorted(m.groups)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(m),
        "created": MARKING_CREATED,
        "name": m.label(),
        "extensions": {ACCORD_EXTENSION: ext},
    }


def id_mismatch(obj: dict[str, Any], m: Marking | None) -> str | None:
    """Returns why a posted marking-definition may not be stored under its id, or None.

    accord's markings are immutable and named by their content (PRODUCT.md §7): a definition in
    accord's extension is stored only under the id its content derives (`marking_id`). Any other
    definition (ACS 3.0; a statement, `m` None) may not take a name-based (version 5) UUID, the
    kind accord derives, so that no one can occupy an id this node would mint for one of its own
    markings (STIX 2.1 §2.9 asks for version 4 UUIDs outside cyber observables)."""
    oid = str(obj.get("id", ""))
    exts = obj.get("extensions")
    if m is not None and isinstance(exts, dict) and isinstance(exts.get(ACCORD_EXTENSION), dict):
        if oid != marking_id(m):
            return (
                f"the id of an accord marking-definition is derived from its content "
                f"({marking_id(m)}), not {oid[:120]}"
            )
        return None
    try:
        version = uuid.UUID(oid.partition("--")[2]).version
    except ValueError:
        return "the marking-definition's id is not type--UUID"
    if version == 5:
        return "a marking-definition outside accord's extension may not use a version 5 UUID"
    return None


def _str_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unprocessable(f"release marking: {field} must be a list of strings")
    return list(value)


def from_definition(obj: dict[str, Any]) -> Marking | None:
    """Returns the release marking a marking-definition carries (accord's extension or a mappable
    ACS 3.0 one), None when it carries neither; raises Unprocessable for a malformed one."""
    exts = obj.get("extensions")
    if not isinstance(exts, dict):
        return None
    ext = exts.get(ACCORD_EXTENSION)
    if isinstance(ext, dict):
        originator, level = ext.get("originator"), ext.get("level")
        if not isinstance(originator, str) or not isinstance(level, str):
            raise Unprocessable("release marking: originator and level are required strings")
        purpose = ext.get("purpose", DEFAULT_PURPOSE)
        if not isinstance(purpose, str):
            raise Unprocessable("release marking: purpose must be a string")
        rel = ext.get("rel_to")
        for key in ("noforn", "orcon"):
            if not isinstance(ext.get(key, False), bool):
                raise Unprocessable(f"release marking: {key} must be true or false")
        return Marking.of(
            originator=originator,
            level=level,
            topics=_str_list(ext.get("topics", []), "topics"),
            purpose=purpose,
            rel_to=None if rel is None else _str_list(rel, "rel_to"),
            noforn=bool(ext.get("noforn", False)),
            orcon=bool(ext.get("orcon", False)),
            groups=_str_list(ext.get("groups", []), "groups"),
        )
    acs = exts.get(ACS_EXTENSION)
    if isinstance(acs, dict):
        return _from_acs(acs)
    return None


def _from_acs(acs: dict[str, Any]) -> Marking:
    control = acs.get("control_set")
    if not isinstance(control, dict) or not isinstance(control.get("classification"), str):
        raise Unprocessable("ACS 3.0 marking: control_set.classification is required")
    who = acs.get("responsible_entity_originator") or acs.get("responsible_entity_custodian")
    if not isinstance(who, str) or not who:
        raise Unprocessable("ACS 3.0 marking: no originator or custodian to take the party from")
    originator = who.split(".")[0].upper()
    nationalities = control.get("permitted_nationalities")
    determinations = control.get("formal_determination") or []
    return Marking.of(
        originator=originator,
        level=str(control["classification"]),
        topics=("general-military",),
        rel_to=None
        if nationalities is None
        else _str_list(nationalities, "permitted_nationalities"),
        noforn="NF" in determinations,
    )
