"""Release markings: the values releasability is decided on (PRODUCT.md §2, "Item").

A marking is shared by many items (STIX objects point at it through `object_marking_refs`), so
every decision is made per marking: a million items carrying a few thousand distinct markings cost
a few thousand decisions. `Marking` is frozen and hashable so it can key caches and tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

#: The purpose a marking carries when its author names none (R4). Information exchanged under a
#: GSOMIA is given for the parties' defence; `defence` is the information purpose every agreement
#: whose scope says `purposes: all` covers. See docs/policy.md.
DEFAULT_PURPOSE = "defence"


@dataclass(frozen=True, slots=True)
class Marking:
    """One release marking.

    - `originator`: the party whose information it is; `level`: a level of the originator's scheme.
    - `topics`: every topic the information touches (R3); `purpose`: what it is given for (R4).
    - `rel_to`: None when the originator set no REL TO list, else the parties it may go to (R5);
      `noforn`: never to another party (R5); `orcon`: every onward release needs a per-item consent
      naming this marking's `id` (R6).
    - `id`: the marking-definition id, matched against a consent's `items` (per-item consent).
    - `groups`: the need-to-know groups the item names (R9, `may_access`).
    """

    originator: str
    level: str
    topics: frozenset[str] = frozenset()
    purpose: str = DEFAULT_PURPOSE
    rel_to: frozenset[str] | None = None
    noforn: bool = False
    orcon: bool = False
    id: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        originator: str,
        level: str,
        topics: Iterable[str] = (),
        purpose: str = DEFAULT_PURPOSE,
        rel_to: Iterable[str] | None = None,
        noforn: bool = False,
        orcon: bool = False,
        id: str | None = None,
        groups: Iterable[str] = (),
    ) -> Marking:
        """Returns a marking from plain lists (the convenient constructor for callers and tests)."""
        return cls(
            originator=originator,
            level=level,
            topics=frozenset(topics),
            purpose=purpose,
            rel_to=None if rel_to is None else frozenset(rel_to),
            noforn=noforn,
            orcon=orcon,
            id=id,
            groups=frozenset(groups),
        )

    def without_groups(self) -> Marking:
        """Returns the marking as it goes abroad: need-to-know groups are the node's own
        compartments and never leave it (`accord.exchange.abroad`)."""
        return dataclasses.replace(self, groups=frozenset())

    def label(self) -> str:
        """Returns a short human label, e.g. `KOR II dprk-nuclear (defence) REL TO JPN,USA ORCON`."""
        parts = [self.originator, self.level, ",".join(sorted(self.topics)) or "(no topic)"]
        parts.append(f"({self.purpose})")
        if self.rel_to is not None:
            parts.append("REL TO " + (",".join(sorted(self.rel_to)) or "(nobody)"))
        if self.noforn:
            parts.append("NOFORN")
        if self.orcon:
            parts.append("ORCON")
        return " ".join(parts)

    def to_json(self) -> dict[str, object]:
        """Returns the marking as a JSON-ready mapping (sorted lists, stable)."""
        return {
            "originator": self.originator,
            "level": self.level,
            "topics": sorted(self.topics),
            "purpose": self.purpose,
            "rel_to": None if self.rel_to is None else sorted(self.rel_to),
            "noforn": self.noforn,
            "orcon": self.orcon,
            "id": self.id,
            "groups": sorted(self.groups),
        }


def parse_groups(values: Iterable[str]) -> list[str]:
    """Returns need-to-know group names as every surface reads them: separated by commas or
    spaces, in lower case, each once (R9: who at the node may see the item)."""
    found: dict[str, None] = {}
    for value in values:
        for name in value.replace(",", " ").split():
            found[name.lower()] = None
    return list(found)
