"""ISA ACS 3.0 markings for tools that are not accord nodes (taxii-stix.md §4.2).

A TAXII server, OpenCTI or MISP does not read accord's release marking extension: it would hold
an item with nothing telling it the originator's restrictions. Each item pushed to a peer that is
not an accord node therefore also names an ACS 3.0 marking-definition, beside accord's own
(which still decides for accord nodes, `accord.exchange.ingest`):

- `control_set.classification`: the item's level in the United States' scheme (ACS's vocabulary
  is U/C/S/TS), through the equivalence table of an agreement between the originator and the
  United States (`World.holder_level`); with no such row, an unclassified level is `U` and any
  other `TS` — the most protective, never a guess downwards (R2).
- `control_set.permitted_nationalities`: the originator and its REL TO parties when the marking
  names them, else the originator and the recipient: the release was decided for that recipient
  and no agreement allows a release to a third party without the originator's consent (R6).
  NOFORN adds `formal_determination: ["NF"]`.
- `policy_reference`: privileges permitted, further sharing denied by default.
- custodian `<sender>.ACCORD`, originator `<originator>.ACCORD` (the org-token form ACS asks for).

The definition's id is derived from its content (a hash, in a version 4 UUID's form, since a name
based one is reserved for accord's own markings), so equal markings are one definition.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

from accord.exchange.markings import ACS_EXTENSION, MARKING_CREATED
from accord.policy import World
from accord.policy.marking import Marking

ACS_LEVELS = ("U", "C", "S", "TS")
_US = "USA"


def classification(world: World, m: Marking) -> str:
    """Returns the marking's level as ACS 3.0 classifies it (U, C, S or TS)."""
    if m.originator == _US and m.level in ACS_LEVELS:
        return m.level
    level = world.holder_level(m, _US) if _US in world.parties else None
    if level in ACS_LEVELS:
        return str(level)
    return "U" if world.rank(m.originator, m.level) == 0 else "TS"


def definition(world: World, m: Marking, sender: str, recipient: str) -> dict[str, Any]:
    """Returns the ACS 3.0 marking-definition that restates `m` for `recipient`'s tools."""
    nationalities = sorted({m.originator, *(m.rel_to or ())} if m.rel_to else {m.originator})
    if not m.noforn and not m.rel_to:
        nationalities = sorted({m.originator, recipient})
    control: dict[str, Any] = {
        "classification": classification(world, m),
        "permitted_nationalities": nationalities,
    }
    if m.noforn:
        control["formal_determination"] = ["NF"]
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "create_date_time": MARKING_CREATED,
        "responsible_entity_custodian": f"{sender}.ACCORD",
        "responsible_entity_originator": f"{m.originator}.ACCORD",
        "policy_reference": "urn:isa:policy:acs:ns:v3.0?privdefault=permit&sharedefault=deny",
        "control_set": control,
        "further_sharing": [{"sharing_scope": ["FOREIGNGOV"], "rule_effect": "deny"}],
    }
    digest = hashlib.sha256(orjson.dumps(ext, option=orjson.OPT_SORT_KEYS)).digest()[:16]
    ident = uuid.UUID(bytes=digest, version=4)
    ext["identifier"] = f"isa:guide.19001.ACS3-{ident}"
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{ident}",
        "created": MARKING_CREATED,
        "name": f"ACS 3.0: {control['classification']} REL TO {', '.join(nationalities)}",
        "extensions": {ACS_EXTENSION: ext},
    }


def beside(body: bytes, ref: str) -> bytes:
    """Returns an object's JSON with the ACS marking `ref` named after its own markings."""
    obj = orjson.loads(body)
    refs = obj.get("object_marking_refs")
    obj["object_marking_refs"] = [*(refs if isinstance(refs, list) else []), ref]
    return orjson.dumps(obj)
