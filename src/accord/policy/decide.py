"""`decide`: may this marking be released to this party on this date, and why (R1–R8).

The decision is a pure, deterministic function of (marking, recipient, date, holder, world).

Semantics (each choice is documented in docs/policy.md):
- A **direct** release holder → recipient rests on one candidate agreement: an information
  agreement or arrangement binding both (an arrangement with a hub only when one of the two is the
  hub: members exchange through the hub, TISA para 4). It passes when, under that agreement,
  R1 (in force, an arrangement's underlying agreements too), R2 (a level of the item in the
  holder's scheme has a row to the recipient), R3 (every topic in scope) and R4 (purpose covered)
  hold, and R5 (REL TO / NOFORN) and R6 (third-party consent) hold for the recipient. Candidates
  are tried bilateral agreements first, then by id; the first that passes is the basis.
- A **hub route** (R7) is examined when no direct release passes, so a direct route is always
  preferred ("two members without a direct agreement in force [for this item] exchange through
  the hub"). Each hop holder → hub → recipient is a release under the arrangement that must pass
  R1–R6; the hub holds the item at the level hop 1 maps it to. When the holder is the originator,
  sending through the hub is its approval: the decision reports the consent the release records.
  This reading keeps the rules monotone: a new agreement or consent never turns an allow into a
  deny (tests/policy/test_properties.py).
- A **denial** lists every failing rule: those of the best direct candidate (in force first, then
  fewest failures, then candidate order; IN_FORCE with R5/R6 when no agreement binds the pair)
  and, when a hub arrangement binds the pair, HUB_ROUTE with the failures of the best route.
- An **allow** lists the rules satisfied: R1–R6, HUB_ROUTE for a hub route, and NO_RECALL (R8,
  always: the release is final).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from accord.errors import InputError
from accord.i18n import _, day, listing
from accord.registry.model import Agreement, Consent

from . import explain
from .marking import Marking
from .rules import Rule, ordered
from .world import World

ConsentKind = str  # "originator" | "to-originator" | "recorded" | "implied" | "none"


@dataclass(frozen=True)
class HopCheck:
    """One hop checked under one agreement: what failed and why (rule → reason)."""

    holder: str
    recipient: str
    agreement: Agreement
    level: str | None
    recipient_level: str | None
    reasons: dict[Rule, str]
    consent: Consent | None
    consent_kind: ConsentKind
    not_in_force: tuple[str, ...] = ()
    recipient_levels: tuple[str, ...] = ()

    @property
    def failed(self) -> frozenset[Rule]:
        return frozenset(self.reasons)


@dataclass(frozen=True)
class Hop:
    """One release on a route: who gives, who receives, under which agreement, at which levels,
    and on which consent (`consent_kind`: originator / to-originator / recorded / implied)."""

    holder: str
    recipient: str
    agreement: str
    level: str
    recipient_level: str
    consent: str | None
    consent_kind: ConsentKind

    def to_json(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "recipient": self.recipient,
            "agreement": self.agreement,
            "level": self.level,
            "recipient_level": self.recipient_level,
            "consent": self.consent,
            "consent_kind": self.consent_kind,
        }


@dataclass(frozen=True)
class RecordedConsent:
    """The consent a hub release by the originator records (R7): the originator approves the hub
    releasing this item to this final recipient."""

    originator: str
    holder: str
    recipient: str
    item: str
    on: date

    def to_json(self) -> dict[str, object]:
        return {
            "originator": self.originator,
            "holder": self.holder,
            "recipient": self.recipient,
            "item": self.item,
            "date": self.on.isoformat(),
        }


@dataclass(frozen=True)
class Decision:
    """The answer: `allowed`; `rules` — the codes that decided (the failing ones for a denial, the
    satisfied ones for an allow), also split as `failed` / `satisfied`; `basis` — agreement and
    consent ids; `route` — party codes from holder to recipient (empty when denied); `hops`;
    `recipient_level` — the level of the recipient's scheme it must be marked with;
    `recorded_consent` — the consent a hub release by the originator records; `explanation`."""

    allowed: bool
    marking: Marking
    holder: str
    recipient: str
    at: date
    rules: tuple[Rule, ...]
    failed: tuple[Rule, ...]
    satisfied: tuple[Rule, ...]
    basis: tuple[str, ...]
    route: tuple[str, ...]
    hops: tuple[Hop, ...]
    recipient_level: str | None
    recorded_consent: RecordedConsent | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    _explain: Callable[[Decision], str] | None = field(default=None, repr=False, compare=False)
    _notices: Callable[[], list[dict[str, object]]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def notices(self) -> list[dict[str, object]]:
        """The termination notices running on the decision's date against the agreements of its
        basis (`agreement`, `event`, `given`, `effective`): a release that rests on an agreement
        that is ending says so (PRODUCT.md §2); empty otherwise."""
        return self._notices() if self._notices is not None else []

    @property
    def explanation(self) -> str:
        """The one-paragraph explanation, written when asked for and in the language current
        then (accord.i18n): most decisions — a release table's, a bulk check's — are never
        read by a person, and a web page reads it in its reader's language."""
        return self._explain(self) if self._explain is not None else ""

    @property
    def via_hub(self) -> bool:
        return len(self.route) > 2

    @property
    def direct(self) -> bool:
        """True for an allowed release straight from the holder to the recipient: the only
        kind this node makes itself (a hub route's second hop is the hub's release, R7)."""
        return self.allowed and len(self.route) == 2

    def to_json(self) -> dict[str, object]:
        """Returns the decision as a JSON-ready mapping (the `accord check --json` object)."""
        return {
            "allowed": self.allowed,
            "rules": [r.value for r in self.rules],
            "failed": [r.value for r in self.failed],
            "satisfied": [r.value for r in self.satisfied],
            "basis": list(self.basis),
            "route": list(self.route),
            "recipient_level": self.recipient_level,
            "hops": [h.to_json() for h in self.hops],
            "recorded_consent": (
                self.recorded_consent.to_json() if self.recorded_consent is not None else None
            ),
            "reasons": dict(self.reasons),
            "explanation": self.explanation,
            "notices": self.notices,
            "holder": self.holder,
            "recipient": self.recipient,
            "at": self.at.isoformat(),
            "marking": self.marking.to_json(),
        }


_DIRECT_OK = (
    Rule.IN_FORCE,
    Rule.LEVEL_MAPPED,
    Rule.TOPIC_SCOPE,
    Rule.PURPOSE,
    Rule.ORIGINATOR_RESTRICTION,
    Rule.THIRD_PARTY,
)


def r5_reason(m: Marking, recipient: str) -> str | None:
    """R5: returns why the originator's restrictions forbid `recipient`, or None when they allow
    it. The originator itself is never foreign to its own information."""
    if recipient == m.originator:
        return None
    if m.noforn:
        return _("the item is NOFORN: %(originator)s allows no release to another party") % {
            "originator": m.originator
        }
    if m.rel_to is not None and recipient not in m.rel_to:
        return _("REL TO (%(list)s) does not include %(recipient)s") % {
            "list": listing(sorted(m.rel_to), _("nobody")),
            "recipient": recipient,
        }
    return None


def r6_check(
    world: World, m: Marking, holder: str, recipient: str, at: date, implied: bool = False
) -> tuple[Consent | None, ConsentKind, str | None]:
    """R6: returns (consent, how the third-party rule is met, why not). The originator needs no
    consent; nor does a return to the originator; `implied` is the consent a hub route started by
    the originator records (R7); otherwise a recorded consent must cover the release."""
    if holder == m.originator:
        return None, "originator", None
    if recipient == m.originator:
        return None, "to-originator", None
    if implied:
        return None, "implied", None
    c = world.consent_for(m, holder, recipient, at)
    if c is not None:
        return c, "recorded", None
    values = {
        "originator": m.originator,
        "holder": holder,
        "recipient": recipient,
        "at": day(at),
        "id": m.id or _("no item id"),
    }
    if m.orcon:
        why = _(
            "no recorded consent of %(originator)s covers %(holder)s releasing this item "
            "(%(id)s, ORCON) to %(recipient)s on %(at)s"
        )
    else:
        why = _(
            "no recorded consent of %(originator)s covers %(holder)s releasing this item to "
            "%(recipient)s on %(at)s"
        )
    return None, "none", why % values


def check_hop(
    world: World,
    m: Marking,
    holder: str,
    levels: tuple[str, ...],
    recipient: str,
    ag: Agreement,
    at: date,
    implied: bool = False,
) -> HopCheck:
    """Checks one release holder → recipient under `ag` (R1–R6); `levels` are the item's levels
    in the holder's scheme (most protective first; empty when it has none). The recipient's level
    is the most protective any of them maps to."""
    reasons: dict[Rule, str] = {}
    ok, missing = world.basis_in_force(ag, at)
    if not ok:
        reasons[Rule.IN_FORCE] = explain.not_in_force(world, ag, missing, at)
    mapped: dict[str, str] = {}
    for lv in levels:
        to = world.map_level(ag, holder, lv, recipient)
        if to is not None:
            mapped.setdefault(to, lv)
    outs = world.by_rank(recipient, frozenset(mapped))
    to_level = outs[0] if outs else None
    level = mapped[to_level] if to_level is not None else (levels[0] if levels else None)
    if to_level is None:
        reasons[Rule.LEVEL_MAPPED] = explain.no_row(world, m, ag, holder, level, recipient)
    if ag.scope.topics != "all":
        outside = sorted(m.topics - frozenset(ag.scope.topics))
        if outside:
            reasons[Rule.TOPIC_SCOPE] = _(
                "%(topics)s outside the scope of %(agreement)s (%(scope)s)"
            ) % {
                "topics": explain.topics_text(outside),
                "agreement": ag.id,
                "scope": explain.topics_text(list(ag.scope.topics)) or _("no topic"),
            } + explain.article(ag, "scope")
    if not ag.scope.covers_purpose(m.purpose):
        covered = ag.scope.purposes
        reasons[Rule.PURPOSE] = _(
            "%(agreement)s covers the purposes %(covered)s, not %(purpose)s"
        ) % {
            "agreement": ag.id,
            "covered": listing([explain.purpose_text(p) for p in covered])
            if covered != "all"
            else _("all"),
            "purpose": explain.purpose_text(m.purpose),
        } + explain.article(ag, "purpose")
    r5 = r5_reason(m, recipient)
    if r5 is not None:
        reasons[Rule.ORIGINATOR_RESTRICTION] = r5
    consent, kind, r6 = r6_check(world, m, holder, recipient, at, implied)
    if r6 is not None:
        reasons[Rule.THIRD_PARTY] = r6 + explain.article(ag, "third-party")
    return HopCheck(holder, recipient, ag, level, to_level, reasons, consent, kind, missing, outs)


def _hop(c: HopCheck) -> Hop:
    assert c.level is not None and c.recipient_level is not None
    return Hop(
        c.holder,
        c.recipient,
        c.agreement.id,
        c.level,
        c.recipient_level,
        c.consent.id if c.consent is not None else None,
        c.consent_kind,
    )


def _basis(checks: list[HopCheck]) -> tuple[str, ...]:
    out: list[str] = []
    for c in checks:
        for i in (c.agreement.id, *c.agreement.underlying):
            if i not in out:
                out.append(i)
    for c in checks:
        if c.consent is not None and c.consent.id not in out:
            out.append(c.consent.id)
    return tuple(out)


def check_route(
    world: World, m: Marking, holder: str, recipient: str, arr: Agreement, at: date
) -> tuple[HopCheck, HopCheck]:
    """Checks the hub route holder → hub → recipient under arrangement `arr` (R7): hop 1 at the
    holder's level, hop 2 at the level the hub marked on receipt; hop 2 rests on the consent the
    originator's own sending records when the holder is the originator."""
    hub = arr.hub
    assert hub is not None
    hop1 = check_hop(world, m, holder, world.holder_levels(m, holder), hub, arr, at)
    hop2 = check_hop(
        world, m, hub, hop1.recipient_levels, recipient, arr, at, implied=holder == m.originator
    )
    return hop1, hop2


def decide(
    marking: Marking,
    recipient: str,
    at: date,
    holder: str | None = None,
    *,
    world: World,
) -> Decision:
    """Decides whether `holder` (default: the originator) may release `marking` to `recipient` on
    `at` under `world` (R1–R8). Raises InputError for an unknown party, level, topic or purpose,
    or when holder and recipient are the same party."""
    m = marking
    h = m.originator if holder is None else holder
    world.check_marking(m)
    world.party(h)
    world.party(recipient)
    if h == recipient:
        raise InputError(f"holder and recipient are both {h}: a release goes to another party")

    levels = world.holder_levels(m, h)
    checks = [
        check_hop(world, m, h, levels, recipient, ag, at)
        for ag in world.direct_candidates(h, recipient)
    ]
    for c in checks:
        if not c.failed:
            sat = ordered(frozenset((*_DIRECT_OK, Rule.NO_RECALL)))
            return _make(world, m, h, recipient, at, True, sat, [c], None, {})

    # R7: "two members without a direct agreement in force exchange through the hub"
    # (PRODUCT.md §3). A direct agreement in force, even one that refuses this item (Korea–Japan
    # has no Level I row), rules the hub out: its refusal stands.
    direct_in_force = any(Rule.IN_FORCE not in c.failed for c in checks)
    routes = (
        []
        if direct_in_force
        else [
            check_route(world, m, h, recipient, arr, at)
            for arr in world.hub_arrangements(h, recipient)
        ]
    )
    for hop1, hop2 in routes:
        if not hop1.failed and not hop2.failed:
            sat = ordered(frozenset((*_DIRECT_OK, Rule.HUB_ROUTE, Rule.NO_RECALL)))
            recorded = None
            if h == m.originator and recipient != m.originator:
                recorded = RecordedConsent(
                    m.originator, hop2.holder, recipient, m.id or m.label(), at
                )
            return _make(world, m, h, recipient, at, True, sat, [hop1, hop2], recorded, {})

    # Denied: the failures of the best direct candidate (in force first, then fewest failures,
    # then candidate order) and, when a hub arrangement binds the pair, of the best route.
    reasons: dict[Rule, str] = {}
    shown: list[HopCheck] = []
    if checks:
        best = min(checks, key=lambda c: (Rule.IN_FORCE in c.failed, len(c.failed)))
        reasons.update(best.reasons)
        if Rule.IN_FORCE in best.failed:  # none is in force: say why for each
            reasons[Rule.IN_FORCE] = "; ".join(c.reasons[Rule.IN_FORCE] for c in checks)
        shown.append(best)
    else:
        reasons[Rule.IN_FORCE] = _(
            "no information agreement binding %(holder)s and %(recipient)s allows a direct release"
        ) % {"holder": h, "recipient": recipient}
        r5 = r5_reason(m, recipient)
        if r5 is not None:
            reasons[Rule.ORIGINATOR_RESTRICTION] = r5
        _consent, _kind, r6 = r6_check(world, m, h, recipient, at)
        if r6 is not None:
            reasons[Rule.THIRD_PARTY] = r6
    if routes:
        hop1, hop2 = min(routes, key=lambda r: len(r[0].failed | r[1].failed))
        reasons[Rule.HUB_ROUTE] = explain.route_failure(hop1, hop2)
        for hop in (hop1, hop2):
            for rule, why in hop.reasons.items():
                extra = f"{hop.holder} → {hop.recipient}: {why}"
                if rule not in reasons:
                    reasons[rule] = extra
                elif why not in reasons[rule]:
                    reasons[rule] += "; " + _("through the hub, %(why)s") % {"why": extra}
        shown += [hop1, hop2]
    return _deny(world, m, h, recipient, at, frozenset(reasons), shown, reasons)


def _deny(
    world: World,
    m: Marking,
    h: str,
    recipient: str,
    at: date,
    failed: frozenset[Rule],
    shown: list[HopCheck],
    reasons: dict[Rule, str],
) -> Decision:
    basis = _basis(shown)
    return _make(world, m, h, recipient, at, False, ordered(failed), shown, None, reasons, basis)


def _make(
    world: World,
    m: Marking,
    h: str,
    recipient: str,
    at: date,
    allowed: bool,
    rules: tuple[Rule, ...],
    checks: list[HopCheck],
    recorded: RecordedConsent | None,
    reasons: dict[Rule, str],
    basis: tuple[str, ...] | None = None,
) -> Decision:
    hops = tuple(_hop(c) for c in checks) if allowed else ()
    route = (h, *(c.recipient for c in checks)) if allowed else ()
    level = checks[-1].recipient_level if allowed else None
    return Decision(
        allowed=allowed,
        marking=m,
        holder=h,
        recipient=recipient,
        at=at,
        rules=rules,
        failed=() if allowed else rules,
        satisfied=rules if allowed else (),
        basis=_basis(checks) if basis is None else basis,
        route=tuple(route),
        hops=hops,
        recipient_level=level,
        recorded_consent=recorded,
        reasons={r.value: reasons[r] for r in ordered(frozenset(reasons))},
        _explain=lambda d: explain.paragraph(world, d, checks, reasons),
        _notices=(lambda: explain.notices(world, _basis(checks), at)) if allowed else None,
    )
