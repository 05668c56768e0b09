"""The bulk release table: every marking × every (holder, recipient) pair on one date at once.

Each set of markings is a Python int used as a bitset over marking indices (bit i = markings[i]).
Markings are grouped by what the rules read — (originator, level), each topic, each purpose, REL TO,
NOFORN, ORCON, item id — and a pair's allowed set is a handful of AND/OR operations over the
in-force agreements' precomputed sets, mirroring `decide` rule by rule:

    direct(H, R) = OR over in-force candidates A of
                     LEVEL_A(H→R) & TOPICS_A & PURPOSE_A           (R2, R3, R4; R1 picks the A)
                   & RESTRICT(R) & THIRD_PARTY(H, R)               (R5, R6)
    hub(H, R)    = ~direct(H, R) & OR over hub arrangements X of    (R7: direct preferred)
                     hop 1 H → hub and hop 2 hub → R, each as above under X

A table of 5,000 markings × 30 parties costs a few thousand big-int operations, not 150,000
decisions. `refresh(new_world)` finds what changed in the registry (agreements, consents) and
recomputes only the pairs that change can touch, without visiting the markings one by one.
The table agrees exactly with `decide` (tests/policy/test_table.py checks it on random worlds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date

from accord.registry.model import Agreement, Consent

from .marking import Marking
from .world import World

Pair = tuple[str, str]
Group = tuple[str, str]  # (originator, level)


class _MarkingBits:
    """The marking-only bitsets: who originated, at which level, which topics, restrictions."""

    def __init__(self, markings: tuple[Marking, ...]) -> None:
        self.all = (1 << len(markings)) - 1
        self.group: dict[Group, int] = defaultdict(int)
        self.orig: dict[str, int] = defaultdict(int)
        self.topic: dict[str, int] = defaultdict(int)
        self.purpose: dict[str, int] = defaultdict(int)
        self.relto: dict[str, int] = defaultdict(int)
        self.by_id: dict[str, int] = defaultdict(int)
        self.noforn = self.no_relto = self.orcon = 0
        for i, m in enumerate(markings):
            b = 1 << i
            self.group[(m.originator, m.level)] |= b
            self.orig[m.originator] |= b
            self.purpose[m.purpose] |= b
            for t in m.topics:
                self.topic[t] |= b
            if m.rel_to is None:
                self.no_relto |= b
            else:
                for p in m.rel_to:
                    self.relto[p] |= b
            if m.noforn:
                self.noforn |= b
            if m.orcon:
                self.orcon |= b
            if m.id is not None:
                self.by_id[m.id] |= b

    def topics_within(self, topics: Iterable[str] | str) -> int:
        """Markings whose every topic is in `topics` ('all' = every marking)."""
        if topics == "all":
            return self.all
        inside = set(topics)
        outside = 0
        for t, b in self.topic.items():
            if t not in inside:
                outside |= b
        return self.all & ~outside

    def restrict_ok(self, recipient: str) -> int:
        """R5: markings whose REL TO / NOFORN allow `recipient` (always its own)."""
        foreign_ok = (self.no_relto | self.relto.get(recipient, 0)) & ~self.noforn
        return (self.orig.get(recipient, 0) | foreign_ok) & self.all


class ReleaseTable:
    """The release table of `markings` for every ordered pair of `parties` on `at`.

    `allowed(m, recipient, holder=None)` answers like `decide(...).allowed` (holder defaults to
    the originator); `via_hub` tells whether that release needs the hub; `pair(h, r)` returns
    the bitset; `releasable(recipient, holder)` lists the markings."""

    def __init__(
        self,
        world: World,
        markings: Iterable[Marking],
        at: date,
        parties: Iterable[str] | None = None,
    ) -> None:
        self.world = world
        self.markings: tuple[Marking, ...] = tuple(dict.fromkeys(markings))
        self.index: dict[Marking, int] = {m: i for i, m in enumerate(self.markings)}
        self.at = at
        self.parties: tuple[str, ...] = tuple(
            sorted(parties if parties is not None else world.parties)
        )
        for m in self.markings:
            world.check_marking(m)
        self.bits = _MarkingBits(self.markings)
        self.groups: tuple[Group, ...] = tuple(self.bits.group)
        self._allowed: dict[Pair, int] = {}
        self._hub: dict[Pair, int] = {}
        self._reset_caches()
        for pair in self.pairs():
            self._compute(pair)

    # ---- queries -----------------------------------------------------------------------------
    def pairs(self) -> Iterator[Pair]:
        """Yields every ordered (holder, recipient) pair of distinct parties."""
        for h in self.parties:
            for r in self.parties:
                if h != r:
                    yield (h, r)

    def pair(self, holder: str, recipient: str) -> int:
        """Returns the bitset of markings `holder` may release to `recipient`."""
        return self._allowed[(holder, recipient)]

    def hub_pair(self, holder: str, recipient: str) -> int:
        """Returns the bitset of markings released holder → recipient only through a hub."""
        return self._hub[(holder, recipient)]

    def allowed(self, m: Marking, recipient: str, holder: str | None = None) -> bool:
        """True when `holder` (default the originator) may release `m` to `recipient`."""
        h = m.originator if holder is None else holder
        return bool(self._allowed[(h, recipient)] >> self.index[m] & 1)

    def via_hub(self, m: Marking, recipient: str, holder: str | None = None) -> bool:
        h = m.originator if holder is None else holder
        return bool(self._hub[(h, recipient)] >> self.index[m] & 1)

    def releasable(self, recipient: str, holder: str | None = None) -> list[Marking]:
        """Returns the markings released to `recipient`: by `holder`, or each by its originator."""
        if holder is not None:
            return self.members(self._allowed[(holder, recipient)])
        out = 0
        for h in self.parties:
            if h != recipient:
                out |= self._allowed[(h, recipient)] & self.bits.orig.get(h, 0)
        return self.members(out)

    def members(self, bits: int) -> list[Marking]:
        """Returns the markings whose bits are set."""
        out = []
        while bits:
            low = bits & -bits
            out.append(self.markings[low.bit_length() - 1])
            bits ^= low
        return out

    def decisions(self) -> int:
        """Returns how many (marking, recipient) decisions the table holds with holder =
        originator: markings × (parties − 1) over originators in the table."""
        return sum(len(self.parties) - 1 for m in self.markings if m.originator in self.parties)

    # ---- change ------------------------------------------------------------------------------
    def refresh(self, new_world: World) -> set[Pair]:
        """Moves the table to `new_world`, recomputing only the pairs a changed agreement or
        consent can affect; returns those pairs. A changed party scheme recomputes everything."""
        old = self.world
        if old.parties != new_world.parties:
            self.world = new_world
            self._reset_caches()
            every = set(self.pairs())
            for p in every:
                self._compute(p)
            return every
        touched: set[str] = set()
        changed_ids: set[str] = set()
        for aid in old.agreements.keys() | new_world.agreements.keys():
            a, b = old.agreements.get(aid), new_world.agreements.get(aid)
            if a is b or a == b:
                continue
            changed_ids.add(aid)
            for ag in (a, b):
                if ag is not None:
                    touched.update(ag.parties)
        for w in (old, new_world):  # arrangements resting on a changed agreement
            for ag in w.agreements.values():
                if changed_ids.intersection(ag.underlying):
                    touched.update(ag.parties)
                    changed_ids.add(ag.id)
        changed_consents: set[str] = set()
        for cid in old.consents.keys() | new_world.consents.keys():
            a_c, b_c = old.consents.get(cid), new_world.consents.get(cid)
            if a_c is b_c or a_c == b_c:
                continue
            changed_consents.add(cid)
            for c in (a_c, b_c):
                if c is not None:
                    touched.update((c.originator, c.holder, *c.recipients))
                    for w in (old, new_world):
                        arr = w.agreements.get(c.arrangement) if c.arrangement else None
                        if arr is not None:
                            touched.update(arr.parties)
        self.world = new_world
        self._forget(touched, changed_ids, changed_consents)
        affected = {p for p in self.pairs() if p[0] in touched or p[1] in touched}
        for p in affected:
            self._compute(p)
        return affected

    # ---- computation -------------------------------------------------------------------------
    def _reset_caches(self) -> None:
        self._hl: dict[str, dict[Group, tuple[str, ...]]] = {}
        self._lvl: dict[tuple[str, str, str], int] = {}
        self._lvl2: dict[tuple[str, str, str, str], int] = {}
        self._scope: dict[str, int] = {}
        self._consent: dict[str, int] = {}
        self._restrict: dict[str, int] = {}

    def _forget(self, parties: set[str], agreements: set[str], consents: set[str]) -> None:
        for h in parties:
            self._hl.pop(h, None)
        self._lvl = {
            k: v
            for k, v in self._lvl.items()
            if k[0] not in agreements and k[1] not in parties and k[2] not in parties
        }
        self._lvl2 = {
            k: v
            for k, v in self._lvl2.items()
            if k[0] not in agreements and not parties.intersection(k[1:])
        }
        for aid in agreements:
            self._scope.pop(aid, None)
        for cid in consents:
            self._consent.pop(cid, None)

    def _holder_levels(self, holder: str) -> dict[Group, tuple[str, ...]]:
        got = self._hl.get(holder)
        if got is None:
            w = self.world
            got = {g: w.holder_levels(Marking(g[0], g[1]), holder) for g in self.groups}
            self._hl[holder] = got
        return got

    def _level(self, ag: Agreement, h: str, r: str) -> int:
        """R2: markings whose level in h's scheme has a row of `ag` towards r."""
        key = (ag.id, h, r)
        got = self._lvl.get(key)
        if got is None:
            maps = self.world.maps
            got = 0
            for g, levels in self._holder_levels(h).items():
                if any((ag.id, h, hl, r) in maps for hl in levels):
                    got |= self.bits.group[g]
            self._lvl[key] = got
        return got

    def _level2(self, arr: Agreement, h: str, hub: str, r: str) -> int:
        """R2 for hop 2 of a hub route: the hub's level (hop 1's mapping) has a row towards r."""
        key = (arr.id, h, hub, r)
        got = self._lvl2.get(key)
        if got is None:
            maps = self.world.maps
            got = 0
            for g, levels in self._holder_levels(h).items():
                for hl in levels:
                    l1 = maps.get((arr.id, h, hl, hub))
                    if l1 is not None and (arr.id, hub, l1, r) in maps:
                        got |= self.bits.group[g]
                        break
            self._lvl2[key] = got
        return got

    def _in_scope(self, ag: Agreement) -> int:
        """R3 and R4: markings whose topics and purpose `ag` covers."""
        got = self._scope.get(ag.id)
        if got is None:
            b = self.bits
            got = b.topics_within(ag.scope.topics)
            if ag.scope.purposes != "all":
                purposes = 0
                for p in ag.scope.purposes:
                    purposes |= b.purpose.get(p, 0)
                got &= purposes
            self._scope[ag.id] = got
        return got

    def _restrict_ok(self, r: str) -> int:
        got = self._restrict.get(r)
        if got is None:
            got = self._restrict[r] = self.bits.restrict_ok(r)
        return got

    def _consent_bits(self, c: Consent) -> int:
        """The markings consent `c` covers whatever the recipient and date (R6)."""
        got = self._consent.get(c.id)
        if got is None:
            b, w = self.bits, self.world
            got = b.orig.get(c.originator, 0) & b.topics_within(c.topics)
            if c.max_level is not None:
                if w.has_level(c.originator, c.max_level):
                    cap = w.rank(c.originator, c.max_level)
                    levels = 0
                    for (o, lv), bits in b.group.items():
                        if o == c.originator and w.rank(o, lv) <= cap:
                            levels |= bits
                    got &= levels
                else:
                    got = 0
            if c.items:
                named = 0
                for i in c.items:
                    named |= b.by_id.get(i, 0)
                got &= named
            else:
                got &= ~b.orcon
            self._consent[c.id] = got
        return got

    def _third_party(self, h: str, r: str, implied: int = 0) -> int:
        """R6: markings h may pass to r — its own, returns to the originator, `implied` (the
        originator's hub sending), or covered by a consent valid on the date."""
        b, w = self.bits, self.world
        out = b.orig.get(h, 0) | b.orig.get(r, 0) | implied
        for c in w.consents_held(h):
            if not c.valid_on(self.at):
                continue
            if r not in c.recipients:
                arr = w.agreements.get(c.arrangement) if c.arrangement else None
                if arr is None or r not in arr.parties:
                    continue
            out |= self._consent_bits(c)
        return out

    def _compute(self, pair: Pair) -> None:
        h, r = pair
        w, at = self.world, self.at
        direct = 0
        direct_in_force = False
        for a in w.direct_candidates(h, r):
            if w.basis_in_force(a, at)[0]:
                direct_in_force = True
                direct |= self._level(a, h, r) & self._in_scope(a)
        if direct:
            direct &= self._restrict_ok(r) & self._third_party(h, r)
        routed = 0
        # R7: the hub serves only members without a direct agreement in force (as `decide`).
        for x in () if direct_in_force else w.hub_arrangements(h, r):
            hub = x.hub
            assert hub is not None
            if not w.basis_in_force(x, at)[0]:
                continue
            b = self._level(x, h, hub) & self._in_scope(x) & self._level2(x, h, hub, r) & ~direct
            if b:
                b &= self._restrict_ok(hub) & self._restrict_ok(r)
                b &= self._third_party(h, hub)
                b &= self._third_party(hub, r, implied=self.bits.orig.get(h, 0))
            routed |= b
        self._allowed[pair] = direct | routed
        self._hub[pair] = routed
