"""The analyst's preview before publishing: who could receive an item under a marking, and why."""

from __future__ import annotations

from datetime import date
from typing import Any

from accord.policy.decide import decide
from accord.policy.marking import Marking
from accord.policy.world import World


def preview(world: World, node_party: str, marking: Marking, at: date) -> list[dict[str, Any]]:
    """Returns, for every other party, whether it could receive items under `marking` on `at`,
    with rules, basis, route, recipient level and the explanation (the same as `accord check`)."""
    out = []
    for p in sorted(world.parties):
        if p == node_party:
            continue
        d = decide(marking, p, at, holder=node_party, world=world)
        out.append(
            {
                "party": p,
                "allowed": d.allowed,
                "rules": [r.value for r in d.rules],
                "basis": list(d.basis),
                "route": list(d.route),
                "recipient_level": d.recipient_level,
                "explanation": d.explanation,
            }
        )
    return out
