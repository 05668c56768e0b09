"""An immutable, indexed view of a registry for the rules engine.

`World(registry)` indexes once what every decision asks: parties and their schemes, the information
agreements binding each pair of parties, every equivalence row as a lookup, the consents by
(originator, holder). Queries are dictionary lookups; whether an agreement is in force on a date is
derived from its events by `accord.registry.lifecycle` and memoised per (agreement, date).

`World.with_additions(part)` is the what-if world (PRODUCT.md §3, What-if): the registry plus
hypothetical records, merged with `files.merge` and checked with `files.validate_against`; nothing
is ever stored.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from accord.errors import InputError, NotFound
from accord.i18n import _
from accord.registry import files, lifecycle
from accord.registry.model import (
    INFO_PURPOSES,
    TOPICS,
    Agreement,
    AgreementKind,
    Consent,
    Party,
    Registry,
)

from .marking import Marking

INFO_KINDS = frozenset({AgreementKind.INFORMATION_SECURITY, AgreementKind.INFORMATION_ARRANGEMENT})

Pair = tuple[str, str]


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


def _order(ag: Agreement) -> tuple[int, str]:
    """Binding agreements before arrangements, then by id: the order candidates are tried in."""
    return (0 if ag.kind is AgreementKind.INFORMATION_SECURITY else 1, ag.id)


class World:
    """A registry indexed for decisions. Treat it as immutable: build a new one for a change."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.parties: dict[str, Party] = {p.code: p for p in registry.parties}
        self.agreements: dict[str, Agreement] = {a.id: a for a in registry.agreements}
        self.consents: dict[str, Consent] = {c.id: c for c in registry.consents}
        self._ranks: dict[str, dict[str, int]] = {
            p.code: {lv: p.rank(lv) for lv in p.level_codes()} for p in registry.parties
        }
        by_pair: dict[Pair, list[Agreement]] = defaultdict(list)
        # (agreement id, from party, from level, to party) -> to level: every equivalence row
        # read in both directions (GSOMIA Art. 4: each side's level and its equivalent).
        self.maps: dict[tuple[str, str, str, str], str] = {}
        for ag in sorted(registry.agreements, key=_order):
            if ag.kind not in INFO_KINDS:
                continue
            ps = ag.parties
            for i, a in enumerate(ps):
                for b in ps[i + 1 :]:
                    by_pair[_pair(a, b)].append(ag)
            for row in ag.equivalence:
                for fp, fl in row.items():
                    for tp, tl in row.items():
                        if fp != tp:
                            self.maps.setdefault((ag.id, fp, fl, tp), tl)
        self._info_by_pair: dict[Pair, tuple[Agreement, ...]] = {
            k: tuple(v) for k, v in by_pair.items()
        }
        cons: dict[Pair, list[Consent]] = defaultdict(list)
        for c in sorted(registry.consents, key=lambda c: c.id):
            cons[(c.originator, c.holder)].append(c)
        self._consents: dict[Pair, tuple[Consent, ...]] = {k: tuple(v) for k, v in cons.items()}
        held: dict[str, list[Consent]] = defaultdict(list)
        for c in sorted(registry.consents, key=lambda c: c.id):
            held[c.holder].append(c)
        self._held: dict[str, tuple[Consent, ...]] = {k: tuple(v) for k, v in held.items()}
        self._force: dict[tuple[str, date], bool] = {}

    # ---- what-if -----------------------------------------------------------------------------
    def with_additions(self, part: Registry, lines: files._Lines | None = None) -> World:
        """Returns the world plus hypothetical records (same id replaces); raises ImportRejected
        naming every broken reference (at its line when `lines` from `files.read_file` is given).
        The registry this world was built from is unchanged and nothing is stored."""
        files.validate_against(self.registry, part, lines)
        return World(files.merge(self.registry, part))

    # ---- parties and levels ------------------------------------------------------------------
    def party(self, code: str) -> Party:
        """Returns the party; NotFound names the unknown code."""
        try:
            return self.parties[code]
        except KeyError:
            raise NotFound(_("%(code)s is not a known party") % {"code": repr(code)}) from None

    def rank(self, party: str, level: str) -> int:
        """Returns the level's rank in the party's scheme (0 = unclassified)."""
        return self._ranks[party][level]

    def has_level(self, party: str, level: str) -> bool:
        return level in self._ranks.get(party, {})

    def check_marking(self, m: Marking) -> None:
        """Raises InputError (naming it) for an unknown originator, level, REL TO party, topic or
        purpose; returns None when the marking can be decided in this world."""
        p = self.party(m.originator)
        if m.level not in self._ranks[p.code]:
            raise NotFound(
                _("%(level)s is not a level of %(party)s (%(levels)s)")
                % {"level": repr(m.level), "party": p.code, "levels": ", ".join(p.level_codes())}
            )
        for code in sorted(m.rel_to or ()):
            self.party(code)
        for t in sorted(m.topics):
            if t not in TOPICS:
                raise InputError(
                    _("%(topic)s is not a known topic (%(topics)s)")
                    % {"topic": repr(t), "topics": ", ".join(TOPICS)}
                )
        if m.purpose not in INFO_PURPOSES:
            raise InputError(
                _("%(purpose)s is not a known purpose (%(purposes)s)")
                % {"purpose": repr(m.purpose), "purposes": ", ".join(INFO_PURPOSES)}
            )

    # ---- agreements --------------------------------------------------------------------------
    def info_agreements(self, a: str, b: str) -> tuple[Agreement, ...]:
        """Returns every information agreement or arrangement binding both parties, bilateral
        agreements first, then by id."""
        return self._info_by_pair.get(_pair(a, b), ())

    def direct_candidates(self, holder: str, recipient: str) -> tuple[Agreement, ...]:
        """Returns the agreements that can be the basis of a direct release holder → recipient:
        information agreements binding both, except an arrangement with a hub between two
        members neither of which is the hub (they exchange through the hub, R7; TISA para 4)."""
        return tuple(
            ag
            for ag in self.info_agreements(holder, recipient)
            if ag.hub is None or ag.hub in (holder, recipient)
        )

    def hub_arrangements(self, holder: str, recipient: str) -> tuple[Agreement, ...]:
        """Returns the arrangements with a hub (not holder or recipient) binding both (R7)."""
        return tuple(
            ag
            for ag in self.info_agreements(holder, recipient)
            if ag.kind is AgreementKind.INFORMATION_ARRANGEMENT
            and ag.hub is not None
            and ag.hub not in (holder, recipient)
        )

    def agreement_in_force(self, ag: Agreement, at: date) -> bool:
        """True when the agreement itself is in force on `at` (lifecycle derived from events)."""
        key = (ag.id, at)
        got = self._force.get(key)
        if got is None:
            got = lifecycle.in_force(ag, at)
            self._force[key] = got
        return got

    def basis_in_force(self, ag: Agreement, at: date) -> tuple[bool, tuple[str, ...]]:
        """Returns (in force as a basis of release, the ids not in force): the agreement and,
        for an arrangement, every underlying agreement it rests on (domain.md §2 (d))."""
        missing = [ag.id] if not self.agreement_in_force(ag, at) else []
        for uid in ag.underlying:
            u = self.agreements.get(uid)
            if u is None or not self.agreement_in_force(u, at):
                missing.append(uid)
        return (not missing, tuple(missing))

    def map_level(self, ag: Agreement, frm: str, level: str | None, to: str) -> str | None:
        """Returns the level of `to`'s scheme that the agreement's own table maps `frm`'s
        `level` to; None when there is no row (R2: no row, no release — never the nearest)."""
        if level is None:
            return None
        return self.maps.get((ag.id, frm, level, to))

    def holder_levels(self, m: Marking, holder: str) -> tuple[str, ...]:
        """Returns the item's possible levels in the holder's scheme, most protective first: the
        originator's own level when the holder is the originator; otherwise its re-marking on
        receipt (GSOMIA Art. 4) through each information agreement binding originator and
        holder, in any lifecycle state (the marking survives termination, R8). Empty when no
        agreement has a row for it. (Real tables agree, giving one level; when random or
        inconsistent tables disagree, each re-marking is tried — see docs/policy.md.)"""
        if holder == m.originator:
            return (m.level,)
        found = {
            lv
            for ag in self.info_agreements(m.originator, holder)
            if (lv := self.maps.get((ag.id, m.originator, m.level, holder))) is not None
        }
        return self.by_rank(holder, found)

    def holder_level(self, m: Marking, holder: str) -> str | None:
        """Returns the most protective of `holder_levels`, or None."""
        levels = self.holder_levels(m, holder)
        return levels[0] if levels else None

    def by_rank(self, party: str, levels: set[str] | frozenset[str]) -> tuple[str, ...]:
        """Returns the levels of `party`'s scheme ordered most protective first."""
        ranks = self._ranks[party]
        return tuple(sorted(levels, key=lambda lv: (-ranks[lv], lv)))

    # ---- consents ----------------------------------------------------------------------------
    def consents_for(self, originator: str, holder: str) -> tuple[Consent, ...]:
        """Returns the consents `originator` gave `holder`, by id."""
        return self._consents.get((originator, holder), ())

    def consents_held(self, holder: str) -> tuple[Consent, ...]:
        """Returns every consent given to `holder` (any originator), by id."""
        return self._held.get(holder, ())

    def consent_covers(self, c: Consent, m: Marking, recipient: str, at: date) -> bool:
        """True when consent `c` covers releasing `m` to `recipient` on `at` (R6): valid on the
        date; recipient named or a member of the named arrangement; the item named when the
        consent is per item (always required for ORCON); topics and max level covering it."""
        if not c.valid_on(at) or c.originator != m.originator:
            return False
        if recipient not in c.recipients:
            arr = self.agreements.get(c.arrangement) if c.arrangement else None
            if arr is None or recipient not in arr.parties:
                return False
        if c.items or m.orcon:
            if m.id is None or m.id not in c.items:
                return False
        if c.topics != "all" and not m.topics <= frozenset(c.topics):
            return False
        if c.max_level is not None:
            if not self.has_level(m.originator, c.max_level):
                return False
            if self.rank(m.originator, m.level) > self.rank(m.originator, c.max_level):
                return False
        return True

    def consent_for(self, m: Marking, holder: str, recipient: str, at: date) -> Consent | None:
        """Returns the first consent (by id) covering the release, or None."""
        for c in self.consents_for(m.originator, holder):
            if self.consent_covers(c, m, recipient, at):
                return c
        return None
