"""What-if for logistics support: which orders a change to the registry would make possible or
impossible (PRODUCT.md §3, What-if, and R10–R11).

An order between two parties needs a logistics-support agreement binding both and in force on the
order date (R10), whose scope covers each line's category (R11; an agreement listing no category
covers every category except weapons and ammunition, and weapons are never covered).
`support_diff(registry_a, registry_b, at)` compares, for every pair of parties some
logistics-support agreement binds in either registry, the agreements an order could rest on and
the categories it could ask for on `at`: the pairs where orders become possible, become
impossible, or where the categories change. The release diff (`accord.policy.whatif.diff`)
compares information; this compares logistics, so a what-if about an ACSA has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import combinations

from accord.logistics.rules import candidates
from accord.registry.model import CATEGORIES, Agreement, AgreementKind, Registry

#: What an agreement listing no category covers (R11): every category but ammunition and weapons.
_DEFAULT_CATEGORIES = tuple(c for c in CATEGORIES if c not in ("ammunition", "weapons"))


def categories(ag: Agreement) -> tuple[str, ...]:
    """Returns the categories an order under `ag` may ask for (R11), in the registry's order."""
    listed = ag.scope.categories or _DEFAULT_CATEGORIES
    return tuple(c for c in CATEGORIES if c in listed and c != "weapons")


@dataclass(frozen=True)
class SupportDiff:
    """What changes for orders between two parties (`parties`, sorted) on the date: the
    agreements an order could rest on before and after, and the categories gained and lost."""

    parties: tuple[str, str]
    before: tuple[str, ...]
    after: tuple[str, ...]
    gained: tuple[str, ...]
    lost: tuple[str, ...]

    @property
    def change(self) -> str:
        """`possible` (no order before, some after), `impossible` (the reverse), or `scope`
        (orders possible both ways, the categories or the agreements differ)."""
        if self.after and not self.before:
            return "possible"
        if self.before and not self.after:
            return "impossible"
        return "scope"

    def to_json(self) -> dict[str, object]:
        return {
            "parties": list(self.parties),
            "change": self.change,
            "agreements_before": list(self.before),
            "agreements_after": list(self.after),
            "categories_gained": list(self.gained),
            "categories_lost": list(self.lost),
        }


def _pairs(registry: Registry) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for ag in registry.agreements:
        if ag.kind is AgreementKind.LOGISTICS_SUPPORT:
            out.update(combinations(sorted(set(ag.parties)), 2))
    return out


def _covered(found: list[Agreement]) -> set[str]:
    return {c for ag in found for c in categories(ag)}


def support_diff(a: Registry, b: Registry, at: date) -> tuple[SupportDiff, ...]:
    """Returns, sorted by pair, every pair of parties for which orders on `at` change from
    registry `a` to registry `b` (`candidates`, the agreements R10 accepts, most recent first)."""
    out = []
    for p, q in sorted(_pairs(a) | _pairs(b)):
        before, after = candidates(a, p, q, at), candidates(b, p, q, at)
        was, now = _covered(before), _covered(after)
        ids_a, ids_b = tuple(x.id for x in before), tuple(x.id for x in after)
        if was == now and ids_a == ids_b:
            continue
        out.append(
            SupportDiff(
                (p, q),
                ids_a,
                ids_b,
                tuple(c for c in CATEGORIES if c in now - was),
                tuple(c for c in CATEGORIES if c in was - now),
            )
        )
    return tuple(out)
