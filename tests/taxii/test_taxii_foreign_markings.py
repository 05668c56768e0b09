"""TAXII posts by national users keep markings that are not accord's (accord.exchange.foreign):
a copyright statement and TLP stay on the object beside its release marking, the statement is
read by exactly those who may read the content it comes with, and the predefined TLP definition
is known, not stored."""

from __future__ import annotations

import time
from typing import Any

from taxii_live import ANALYST_MARKING, ANALYST_MD, LiveNode, indicator, new_id

from accord.exchange import foreign
from accord.exchange import markings as mk

TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


def _statement() -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": new_id("marking-definition"),
        "created": "2017-01-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2017, Korea's test analysts."},
        "object_marking_refs": [ANALYST_MD["id"]],
    }


def _status(live: LiveNode, posted: dict[str, Any]) -> dict[str, Any]:
    r = live.post(live.coll() + "objects/", {"objects": posted["objects"]})
    assert r.status_code == 202, r.text
    status = r.json()
    for _ in range(50):
        if status["status"] == "complete":
            return status
        time.sleep(0.05)
        status = live.json(f"/{live.api_root}/status/{status['id']}/")
    return status


def test_statement_and_tlp_travel_with_the_content(live: LiveNode) -> None:
    statement = _statement()
    tlp = foreign.tlp_definition(TLP_GREEN)
    obj = indicator(object_marking_refs=[statement["id"], TLP_GREEN, ANALYST_MD["id"]])
    status = _status(live, {"objects": [ANALYST_MD, statement, tlp, obj]})
    assert status["failure_count"] == 0, status
    assert status["success_count"] == 4
    partner_form = ANALYST_MARKING.without_groups()
    for who, sees in [("analyst", True), ("jpn-node", True), ("chn-node", False)]:
        got = {
            o["id"]: o
            for o in live.json(live.coll() + "objects/", who).get("objects", [])
            if o["id"] in (obj["id"], statement["id"], TLP_GREEN)
        }
        assert TLP_GREEN not in got  # predefined: known to every reader, not stored
        if not sees:
            assert got == {}, who
            continue
        # A partner reads the release marking in its partner form (no need-to-know groups).
        release = ANALYST_MD["id"] if who == "analyst" else mk.marking_id(partner_form)
        assert got[obj["id"]]["object_marking_refs"] == [statement["id"], TLP_GREEN, release]
        assert got[statement["id"]]["object_marking_refs"] == [release], who
        assert got[statement["id"]]["definition"] == statement["definition"], who
    # The statement is not a release class: naming it alone releases nothing.
    alone = indicator(object_marking_refs=[statement["id"]])
    status = _status(live, {"objects": [alone]})
    assert status["failure_count"] == 1
    assert "no release marking" in status["failures"][0]["message"]
