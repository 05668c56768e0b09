"""An independent oracle for the releasability rules: the same rules R1–R7 written as a Cedar
policy (evaluated by cedarpy), over entities built from the registry.

Independence: this module never calls accord's lifecycle or policy code. It derives in-force
intervals with its own tiny implementation over the event kinds the random worlds generate
(`in_force_on`), turns records into Cedar entities (parties, agreements, every equivalence row
as a `Map` entity, consents, markings), and asks Cedar. Cedar cannot say "there exists an
agreement (or a consent) such that …", so the harness asks once per agreement (per consent) of
the world — all of them, unfiltered — and ORs the answers; everything else is decided by Cedar.

Actions, one per question:
- `release`     R1–R5 for holder → principal under `context.agreement` at `context.holder_level`
- `third-party` R6 for holder → principal (originator, return to originator, a consent, or the
                 consent the originator's hub sending records — `context.route_holder`)
- `route`       R7: is `context.agreement` an arrangement whose hub can route holder → principal
- `maps`        R2 / Art. 4: does `context.map` map (from, level) to principal's `candidate`
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cedarpy

from accord.policy import Marking
from accord.registry.model import Agreement, Registry

POLICIES = r"""
// R1-R4 under one candidate agreement; R2 through that agreement's own equivalence row.
@id("R1-R4")
permit (principal is Party, action == Action::"release", resource is Marking)
when {
  context.agreement has info && context.agreement.info &&
  context.agreement.parties.contains(context.holder) &&
  context.agreement.parties.contains(principal) &&
  context.holder != principal &&
  (!context.agreement.has_hub || context.agreement.hub == context.holder ||
     context.agreement.hub == principal) &&
  context.inforce.contains(context.agreement) &&
  context.inforce.containsAll(context.agreement.underlying) &&
  context.map has to && context.map.agreement == context.agreement &&
  context.map.from == context.holder && context.map.level == context.holder_level &&
  context.map.recipient == principal &&
  (context.agreement.all_topics || context.agreement.topics.containsAll(resource.topics)) &&
  (context.agreement.all_purposes || context.agreement.purposes.contains(resource.purpose))
};

// R5: NOFORN; REL TO. The originator is never foreign to its own information.
@id("R5-noforn")
forbid (principal, action == Action::"release", resource is Marking)
when { resource.noforn && principal != resource.originator };

@id("R5-rel-to")
forbid (principal, action == Action::"release", resource is Marking)
when {
  resource.has_rel_to && !resource.rel_to.contains(principal) && principal != resource.originator
};

// R6: the third-party rule.
@id("R6-originator")
permit (principal is Party, action == Action::"third-party", resource is Marking)
when { context.holder == resource.originator || principal == resource.originator };

@id("R6-hub-sent-by-originator")
permit (principal is Party, action == Action::"third-party", resource is Marking)
when { context.route_holder == resource.originator && context.holder != context.route_holder };

@id("R6-consent")
permit (principal is Party, action == Action::"third-party", resource is Marking)
when {
  context.consent has holder &&
  context.consent.originator == resource.originator &&
  context.consent.holder == context.holder &&
  (context.consent.recipients.contains(principal) ||
    (context.consent has arrangement && context.consent.arrangement has parties &&
     context.consent.arrangement.parties.contains(principal))) &&
  context.consent.valid_from <= context.day &&
  (!context.consent.has_until || context.day <= context.consent.valid_until) &&
  (context.consent.all_topics || context.consent.topics.containsAll(resource.topics)) &&
  (!context.consent.has_max || resource.rank <= context.consent.max_rank) &&
  (if context.consent.has_items || resource.orcon
     then resource has item && context.consent.items.contains(resource.item)
     else true)
};

// R7: an arrangement with a hub that is neither holder nor recipient, binding both.
@id("R7-route")
permit (principal is Party, action == Action::"route", resource is Marking)
when {
  context.agreement has info && context.agreement.info && context.agreement.has_hub &&
  context.agreement.parties.contains(context.holder) &&
  context.agreement.parties.contains(principal) &&
  context.agreement.hub != context.holder && context.agreement.hub != principal
};

// Art. 4 re-marking: the agreement's own row maps (from, level) to principal's candidate level.
@id("R2-maps")
permit (principal is Party, action == Action::"maps", resource is Marking)
when {
  context.agreement has info && context.agreement.info &&
  context.agreement.parties.contains(context.from) &&
  context.agreement.parties.contains(principal) &&
  context.map has to && context.map.agreement == context.agreement &&
  context.map.from == context.from && context.map.level == context.level &&
  context.map.recipient == principal && context.map.to == context.candidate
};
"""

_POLICY_SET = cedarpy.PolicySet.from_str(POLICIES)


# ---- independent lifecycle -------------------------------------------------------------------
def intervals(ag: Agreement) -> list[tuple[date, date | None]]:
    """Returns the [start, end) intervals in which the agreement is in force, from its events:
    entry into force opens; suspension closes until resumption; termination ends for good; a
    live termination notice ends it on its effective date (one suspended or withdrawn does not)."""
    out: list[tuple[date, date | None]] = []
    state = "pre"  # pre | in | suspended | ended
    notice = "none"  # none | given | suspended
    effective: date | None = None
    start: date | None = None

    def close(at: date) -> None:
        nonlocal start
        if start is not None:
            out.append((start, at))
            start = None

    for ev in sorted(ag.events, key=lambda e: e.date):
        if state == "ended":
            break
        if notice == "given" and effective is not None and effective <= ev.date:
            close(effective)
            state = "ended"
            break
        k = ev.kind.value
        if k == "entered-into-force" and state == "pre":
            state, start = "in", ev.date
        elif k == "termination-notified" and state == "in":
            notice, effective = "given", ev.effective
        elif k == "notice-suspended" and state == "in" and notice == "given":
            notice, effective = "suspended", None
        elif k == "notice-withdrawn" and state == "in" and notice in ("given", "suspended"):
            notice, effective = "none", None
        elif k == "suspended" and state == "in":
            close(ev.date)
            state = "suspended"
        elif k == "resumed" and state == "suspended":
            state, start = "in", ev.date
            notice = "given" if notice == "given" else "none"
        elif k == "terminated":
            close(ev.date)
            state = "ended"
    if state != "ended" and notice == "given" and effective is not None:
        close(effective)
        state = "ended"
    if start is not None:
        out.append((start, None))
    return out


def in_force_on(ag: Agreement, at: date) -> bool:
    return any(s <= at and (e is None or at < e) for s, e in intervals(ag))


# ---- entities --------------------------------------------------------------------------------
def _ref(typ: str, key: str) -> dict[str, Any]:
    return {"__entity": {"type": typ, "id": key}}


def _map_id(aid: str, frm: str, level: str, to: str) -> str:
    return f"{aid}|{frm}|{level}|{to}"


@dataclass
class Oracle:
    """Cedar's view of one registry; `allowed(m, recipient, holder, at)` answers a decision."""

    registry: Registry
    markings: Iterable[Marking]
    calls: int = 0
    _mid: dict[Marking, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reg = self.registry
        self.levels = {p.code: p.level_codes() for p in reg.parties}
        self.rank = {p.code: {lv: p.rank(lv) for lv in p.level_codes()} for p in reg.parties}
        self.ags = list(reg.agreements)
        self.consents = list(reg.consents)
        ents: list[dict[str, Any]] = []
        for p in reg.parties:
            ents.append({"uid": {"type": "Party", "id": p.code}, "attrs": {}, "parents": []})
        for ag in reg.agreements:
            ents.append(
                {
                    "uid": {"type": "Agreement", "id": ag.id},
                    "parents": [],
                    "attrs": {
                        "info": ag.kind.value
                        in ("information-security", "information-arrangement"),
                        "parties": [_ref("Party", c) for c in ag.parties],
                        "has_hub": ag.hub is not None,
                        "hub": _ref("Party", ag.hub or "-"),
                        "underlying": [_ref("Agreement", u) for u in ag.underlying],
                        "all_topics": ag.scope.topics == "all",
                        "topics": [] if ag.scope.topics == "all" else list(ag.scope.topics),
                        "all_purposes": ag.scope.purposes == "all",
                        "purposes": [] if ag.scope.purposes == "all" else list(ag.scope.purposes),
                    },
                }
            )
            for row in ag.equivalence:
                for fp, fl in row.items():
                    for tp, tl in row.items():
                        if fp == tp:
                            continue
                        ents.append(
                            {
                                "uid": {"type": "Map", "id": _map_id(ag.id, fp, fl, tp)},
                                "parents": [],
                                "attrs": {
                                    "agreement": _ref("Agreement", ag.id),
                                    "from": _ref("Party", fp),
                                    "level": fl,
                                    "recipient": _ref("Party", tp),
                                    "to": tl,
                                },
                            }
                        )
        for c in reg.consents:
            attrs: dict[str, Any] = {
                "originator": _ref("Party", c.originator),
                "holder": _ref("Party", c.holder),
                "recipients": [_ref("Party", r) for r in c.recipients],
                "valid_from": c.valid_from.toordinal(),
                "has_until": c.valid_until is not None,
                "valid_until": c.valid_until.toordinal() if c.valid_until else 0,
                "all_topics": c.topics == "all",
                "topics": [] if c.topics == "all" else list(c.topics),
                "has_max": c.max_level is not None,
                "max_rank": self.rank[c.originator].get(c.max_level or "", -1),
                "has_items": bool(c.items),
                "items": list(c.items),
            }
            if c.arrangement is not None:
                attrs["arrangement"] = _ref("Agreement", c.arrangement)
            ents.append({"uid": {"type": "Consent", "id": c.id}, "parents": [], "attrs": attrs})
        for i, m in enumerate(dict.fromkeys(self.markings)):
            mid = f"m{i}"
            self._mid[m] = mid
            mattrs: dict[str, Any] = {
                "originator": _ref("Party", m.originator),
                "level": m.level,
                "rank": self.rank[m.originator][m.level],
                "topics": sorted(m.topics),
                "purpose": m.purpose,
                "noforn": m.noforn,
                "orcon": m.orcon,
                "has_rel_to": m.rel_to is not None,
                "rel_to": [_ref("Party", p) for p in sorted(m.rel_to or ())],
            }
            if m.id is not None:
                mattrs["item"] = m.id
            ents.append({"uid": {"type": "Marking", "id": mid}, "parents": [], "attrs": mattrs})
        self.entities = cedarpy.Entities.from_json_str(json.dumps(ents))
        self._inforce: dict[date, list[dict[str, Any]]] = {}
        self._remark: dict[tuple[Marking, str], str | None] = {}

    # ---- asking Cedar ------------------------------------------------------------------------
    def _ask(self, reqs: list[dict[str, Any]]) -> list[bool]:
        self.calls += len(reqs)
        return [r.allowed for r in cedarpy.is_authorized_batch(reqs, _POLICY_SET, self.entities)]

    def _req(self, action: str, m: Marking, principal: str, **ctx: Any) -> dict[str, Any]:
        return {
            "principal": f'Party::"{principal}"',
            "action": f'Action::"{action}"',
            "resource": f'Marking::"{self._mid[m]}"',
            "context": ctx,
        }

    def inforce(self, at: date) -> list[dict[str, Any]]:
        got = self._inforce.get(at)
        if got is None:
            got = [_ref("Agreement", a.id) for a in self.ags if in_force_on(a, at)]
            self._inforce[at] = got
        return got

    def mapped_levels(self, aids: list[str], frm: str, level: str, to: str, m: Marking) -> set[str]:
        """Asks Cedar which levels of `to`'s scheme the agreements map `frm` `level` to."""
        reqs, cands = [], []
        for aid in aids:
            for cand in self.levels[to]:
                cands.append(cand)
                reqs.append(
                    self._req(
                        "maps",
                        m,
                        to,
                        agreement=_ref("Agreement", aid),
                        map=_ref("Map", _map_id(aid, frm, level, to)),
                        **{"from": _ref("Party", frm)},
                        level=level,
                        candidate=cand,
                    )
                )
        return {c for c, ok in zip(cands, self._ask(reqs), strict=True) if ok}

    def holder_levels(self, m: Marking, holder: str) -> set[str]:
        """The item's levels in the holder's scheme: its own, or every re-marking on receipt."""
        if holder == m.originator:
            return {m.level}
        key = (m, holder)
        if key not in self._remark:
            self._remark[key] = self.mapped_levels(
                [a.id for a in self.ags], m.originator, m.level, holder, m
            )
        return self._remark[key]

    def _release(
        self, m: Marking, holder: str, levels: set[str], to: str, aid: str, at: date
    ) -> set[str]:
        """Returns the holder levels at which Cedar permits the release under `aid` (R1–R5)."""
        inf = self.inforce(at)
        order = sorted(levels)
        reqs = [
            self._req(
                "release",
                m,
                to,
                holder=_ref("Party", holder),
                agreement=_ref("Agreement", aid),
                inforce=inf,
                holder_level=hl,
                map=_ref("Map", _map_id(aid, holder, hl, to)),
            )
            for hl in order
        ]
        return {hl for hl, ok in zip(order, self._ask(reqs), strict=True) if ok}

    def _third_party(self, m: Marking, holder: str, to: str, at: date, route_holder: str) -> bool:
        reqs = [
            self._req(
                "third-party",
                m,
                to,
                holder=_ref("Party", holder),
                route_holder=_ref("Party", route_holder),
                day=at.toordinal(),
                consent=_ref("Consent", cid),
            )
            for cid in ["-", *(c.id for c in self.consents)]
        ]
        return any(self._ask(reqs))

    def _outputs(self, aid: str, frm: str, levels: set[str], to: str, m: Marking) -> set[str]:
        out: set[str] = set()
        for lv in levels:
            out |= self.mapped_levels([aid], frm, lv, to, m)
        return out

    def _top(self, party: str, levels: set[str]) -> str:
        return max(levels, key=lambda lv: self.rank[party][lv])

    def _direct_in_force(self, ag: Agreement, h: str, to: str, at: date) -> bool:
        """An information agreement binding both, usable directly between them (not an
        arrangement whose hub is a third party), in force with everything it rests on."""
        if ag.kind.value not in ("information-security", "information-arrangement"):
            return False
        if h not in ag.parties or to not in ag.parties:
            return False
        if ag.hub is not None and ag.hub not in (h, to):
            return False
        by_id = {a.id: a for a in self.ags}
        return in_force_on(ag, at) and all(
            u in by_id and in_force_on(by_id[u], at) for u in ag.underlying
        )

    def decide(
        self, m: Marking, to: str, at: date, holder: str | None = None
    ) -> tuple[bool, set[tuple[tuple[str, ...], str]]]:
        """Returns (allowed, the (route, recipient level) pairs Cedar permits): a direct route
        when one permits, else every hub route that permits, hop by hop."""
        h = m.originator if holder is None else holder
        hls = self.holder_levels(m, h)
        results: set[tuple[tuple[str, ...], str]] = set()
        if hls and self._third_party(m, h, to, at, h):
            for ag in self.ags:
                good = self._release(m, h, hls, to, ag.id, at)
                if good:
                    results.add(((h, to), self._top(to, self._outputs(ag.id, h, good, to, m))))
        if results:
            return True, results
        # R7: the hub serves only members without a direct agreement in force (PRODUCT.md §3).
        if any(self._direct_in_force(ag, h, to, at) for ag in self.ags):
            return False, results
        routes = self._ask(
            [
                self._req(
                    "route", m, to, holder=_ref("Party", h), agreement=_ref("Agreement", a.id)
                )
                for a in self.ags
            ]
        )
        for ag, eligible in zip(self.ags, routes, strict=True):
            if not eligible or not hls:
                continue
            hub = ag.hub
            assert hub is not None
            good1 = self._release(m, h, hls, hub, ag.id, at)
            if not good1 or not self._third_party(m, h, hub, at, h):
                continue
            l1 = self._outputs(ag.id, h, good1, hub, m)
            good2 = self._release(m, hub, l1, to, ag.id, at)
            if not good2 or not self._third_party(m, hub, to, at, h):
                continue
            results.add(((h, hub, to), self._top(to, self._outputs(ag.id, hub, good2, to, m))))
        return bool(results), results
