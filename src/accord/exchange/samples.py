"""A few sample items for a new node, so that a new user sees something at once.

They are illustrative: DPRK-themed indicators and a report at several levels and topics, published
as the node's own items under markings of its own scheme. Levels are chosen by rank (the highest
classified level, the next, the lowest classified, unclassified), so the samples fit any party.
"""

from __future__ import annotations

import uuid
from typing import Any

from accord.exchange import markings as mk
from accord.policy.marking import Marking
from accord.registry.model import Party

_NS = uuid.UUID("0a8c3ff6-5b7d-4f86-8fc4-3a6e4a3c2e01")
CREATED = "2016-12-01T00:00:00.000Z"


def _sid(kind: str, party: str, n: int) -> str:
    return f"{kind}--{uuid.uuid5(_NS, f'{party}:{kind}:{n}')}"


def sample_objects(party: Party) -> list[dict[str, Any]]:
    """Returns marking-definitions and STIX objects for `party`'s node, in posting order."""
    levels = party.level_codes()
    classified = levels[:-1] or levels
    top, low = classified[0], classified[-1]
    mid = classified[1] if len(classified) > 1 else low
    specs = [
        (top, ("dprk-nuclear",), "Assessed nuclear test site activity (sample)"),
        (mid, ("dprk-nuclear", "wmd"), "Fissile material procurement network (sample)"),
        (mid, ("dprk-missile",), "Launch preparation indicators (sample)"),
        (low, ("dprk-missile",), "Transporter-erector-launcher movement (sample)"),
        (low, ("general-military",), "Coastal artillery exercise pattern (sample)"),
        ("U", ("general-military",), "Public statement tracking (sample)"),
    ]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, (level, topics, title) in enumerate(specs):
        group = "dprk" if any(t.startswith("dprk") or t == "wmd" for t in topics) else "military"
        m = Marking.of(party.code, level, topics, groups=(group,))
        mid_ = mk.marking_id(m)
        if mid_ not in seen:
            out.append(mk.marking_definition(m))
            seen.add(mid_)
        out.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": _sid("indicator", party.code, n),
                "created": CREATED,
                "modified": CREATED,
                "name": title,
                "indicator_types": ["malicious-activity"],
                "pattern": f"[ipv4-addr:value = '198.51.100.{n + 1}']",
                "pattern_type": "stix",
                "valid_from": "2016-12-01T00:00:00Z",
                "labels": ["illustrative"],
                "object_marking_refs": [mid_],
            }
        )
    return out
