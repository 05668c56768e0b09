"""Auditors of the live test node, and releases for them to report on: Japan's and the United
States' nodes read Korea's items (each version they receive is a release)."""

from __future__ import annotations

from taxii_live import LiveNode

from accord.principals import add_principal
from accord.principals.service import lookup_principal

#: Users of the node: name → (clearance, groups, role). `auditor-low` is cleared for III only;
#: `auditor-out` is cleared for I but holds none of the groups the node's items need.
PEOPLE = {
    "auditor-full": ("I", ("dprk", "military", "cyber"), "auditor"),
    "auditor-low": ("III", (), "auditor"),
    "auditor-out": ("I", ("navy",), "auditor"),
    "legal-officer": ("I", ("dprk",), "legal"),
}
SECRET = "auditor-secret-1"


def add_auditors(live: LiveNode) -> None:
    """Adds PEOPLE (once per node) and has JPN's and USA's nodes read the items collection."""
    for name, (clearance, groups, role) in PEOPLE.items():
        if lookup_principal(live.store, name) is None:
            add_principal(
                live.store, name, "user", "KOR", SECRET, clearance=clearance, groups=groups,
                roles=(role,),
            )  # fmt: skip
    live.json(live.coll() + "objects/", "jpn-node")
    live.json(live.coll() + "objects/", "usa-node")
