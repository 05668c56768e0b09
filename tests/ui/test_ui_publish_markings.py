"""The web publish page keeps markings that are not accord's beside the release marking it adds:
a pasted bundle's copyright statement travels as an object under that marking, and its TLP
reference stays on the object (accord.exchange.foreign)."""

from __future__ import annotations

import json
import uuid

import orjson
from taxii_live import LiveNode
from ui_client import client, signed_in

from accord.exchange import markings as mk
from accord.exchange.collections import list_collections
from accord.exchange.queries import Query, page
from accord.policy.marking import Marking

TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def test_a_pasted_statement_and_tlp_stay_beside_the_release_marking(live: LiveNode) -> None:
    statement_id = f"marking-definition--{uuid.uuid4()}"
    indicator_id = f"indicator--{uuid.uuid4()}"
    bundle = {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": statement_id,
                "created": "2024-01-01T00:00:00.000Z",
                "definition_type": "statement",
                "definition": {"statement": "Copyright 2024, a test publisher."},
            },
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id,
                "created": "2024-01-01T00:00:00.000Z",
                "modified": "2024-01-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '192.0.2.77']",
                "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z",
                "object_marking_refs": [statement_id, TLP_GREEN],
            },
        ],
    }
    form = {
        "stix": json.dumps(bundle),
        "level": "III",
        "topic": "general-military",
        "groups": "military",
    }
    with client(live) as c:
        token = signed_in(c, "analyst")
        r = c.post("/ui/publish", data={**form, "action": "publish", "csrf": token})
        assert r.status_code in (200, 303), r.text[:500]
    release = mk.marking_id(Marking.of("KOR", "III", ["general-military"], groups=["military"]))
    items = next(c for c in list_collections(live.store, "kor") if c.kind == "items")
    rows, _ = page(live.store, items.key, None, Query(), None, 10_000)
    stored = {r.stix_id: orjson.loads(r.body) for r in rows}
    assert stored[indicator_id]["object_marking_refs"] == [statement_id, TLP_GREEN, release]
    assert stored[statement_id]["object_marking_refs"] == [release]
    assert stored[statement_id]["definition"] == bundle["objects"][0]["definition"]
