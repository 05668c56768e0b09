"""What-if: compare what flows in two worlds (PRODUCT.md §3, What-if).

`diff(world_a, world_b, markings, at)` builds both release tables and reports, per (originator,
recipient) pair, the markings that become releasable, those that stop, and the releases that stop
needing the hub (hub route in A, direct in B) or start needing it. World B is typically
`world_a.with_additions(hypothetical_records)`: nothing hypothetical is ever stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from accord.registry.model import TOPICS

from .marking import DEFAULT_PURPOSE, Marking
from .table import ReleaseTable
from .world import World


def marking_universe(
    world: World,
    purpose: str = DEFAULT_PURPOSE,
    topics: Sequence[str] = TOPICS,
    parties: Iterable[str] | None = None,
) -> list[Marking]:
    """Returns one marking per (party, level of its scheme, topic) for `purpose`, without
    originator restrictions: the default set `accord whatif` compares when no items are given."""
    out = []
    for code in sorted(parties if parties is not None else world.parties):
        for lv in world.party(code).level_codes():
            for t in topics:
                out.append(Marking.of(code, lv, [t], purpose))
    return out


@dataclass(frozen=True)
class PairDiff:
    """What changes for releases by `holder` (the originator) to `recipient`."""

    holder: str
    recipient: str
    gained: tuple[Marking, ...]
    lost: tuple[Marking, ...]
    unhubbed: tuple[Marking, ...]
    hubbed: tuple[Marking, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "recipient": self.recipient,
            "gained": [m.to_json() for m in self.gained],
            "lost": [m.to_json() for m in self.lost],
            "no_longer_via_hub": [m.to_json() for m in self.unhubbed],
            "now_via_hub": [m.to_json() for m in self.hubbed],
        }


@dataclass(frozen=True)
class WorldDiff:
    """The whole diff: the date, the number of markings compared, and every pair that changed."""

    at: date
    markings: int
    pairs: tuple[PairDiff, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "markings": self.markings,
            "pairs": [p.to_json() for p in self.pairs],
        }


def summarise(world: World, markings: Sequence[Marking]) -> str:
    """Returns `levels II, III; topics dprk-missile, dprk-nuclear (4 markings)` for a list."""
    if not markings:
        return ""
    origin = markings[0].originator
    levels = sorted({m.level for m in markings}, key=lambda lv: -world.rank(origin, lv))
    topics = sorted({t for m in markings for t in m.topics})
    return (
        f"levels {', '.join(levels)}; topics {', '.join(topics)} "
        f"({len(markings)} marking{'s' if len(markings) != 1 else ''})"
    )


def diff(
    world_a: World,
    world_b: World,
    markings: Iterable[Marking],
    at: date,
    parties: Iterable[str] | None = None,
) -> WorldDiff:
    """Returns, per (originator, recipient) pair, what becomes or stops being releasable from
    world A to world B on `at`, and which releases stop (or start) needing the hub."""
    ms = tuple(dict.fromkeys(markings))
    codes = (
        sorted(parties)
        if parties is not None
        else sorted(world_a.parties.keys() & world_b.parties.keys())
    )
    ta = ReleaseTable(world_a, ms, at, codes)
    tb = ReleaseTable(world_b, ms, at, codes)
    out = []
    for h, r in ta.pairs():
        own = ta.bits.orig.get(h, 0)
        a, b = ta.pair(h, r) & own, tb.pair(h, r) & own
        hub_a, hub_b = ta.hub_pair(h, r) & own, tb.hub_pair(h, r) & own
        gained, lost = b & ~a, a & ~b
        unhubbed = hub_a & b & ~hub_b
        hubbed = hub_b & a & ~hub_a
        if gained or lost or unhubbed or hubbed:
            out.append(
                PairDiff(
                    h,
                    r,
                    tuple(ta.members(gained)),
                    tuple(ta.members(lost)),
                    tuple(ta.members(unhubbed)),
                    tuple(ta.members(hubbed)),
                )
            )
    return WorldDiff(at, len(ms), tuple(out))
