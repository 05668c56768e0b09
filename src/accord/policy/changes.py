"""Alerts when an agreement moves: notices, suspensions, terminations and the routes they change.

A release rests on an agreement (PRODUCT.md §3, R1); when that agreement is given notice,
suspended, terminated or expires, what flows changes — sometimes silently, when a hub route takes
over (R7: Korea → Japan through the United States once the Korea–Japan GSOMIA stops). Two answers,
both computed from the registry alone (nothing is stored):

- `changes(world, since)`: every move of an agreement dated on or after `since` (and every notice
  given earlier that takes effect on or after it), each with what it did to releases — the what-if
  diff (`accord.policy.whatif.diff`) between the registry without that event and the registry as
  it stands, on the day the move takes effect. The changes page, `GET /api/v1/changes` and tools
  that notify read this list.
- `alerts(world, marking, holder, at)`: for one item, the moves that concern its releases on `at`:
  a notice running against the agreement a release rests on (still allowed, but ending), and a
  direct agreement stopped within `WINDOW` days whose stop re-routed a release through a hub or
  stopped it. The banner of an item's page reads this.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from datetime import date, timedelta

from accord.registry import lifecycle
from accord.registry.model import Agreement, Event, EventKind
from accord.registry.precision import proven

from .decide import decide
from .marking import DEFAULT_PURPOSE, Marking
from .whatif import PairDiff, diff, marking_universe
from .world import INFO_KINDS, World

#: The events that move an agreement a release may rest on.
MOVES = (
    EventKind.TERMINATION_NOTIFIED,
    EventKind.SUSPENDED,
    EventKind.TERMINATED,
    EventKind.EXPIRED,
)

#: How long (days) an item's page keeps reporting that a direct agreement stopped.
WINDOW = 90


@dataclass(frozen=True)
class Change:
    """One move of an agreement and what it did to releases.

    `event` is the event kind; `date` the day it is read on (the day the notice was given, the
    suspension began…); `effective` the day releases change (a notice's effective date, else
    `date`); `status` the agreement's status on `effective` as the registry stands (a notice
    suspended before it took effect leaves it `notice-suspended`, and `pairs` empty); `pairs`
    the what-if diff of that day, one entry per (originator, recipient) that changed."""

    agreement: str
    title: str
    event: str
    date: dt.date
    effective: dt.date
    status: str
    markings: int
    pairs: tuple[PairDiff, ...]

    @property
    def stopped(self) -> int:
        """How many (originator, recipient, marking) releases stop."""
        return sum(len(p.lost) for p in self.pairs)

    @property
    def rerouted(self) -> int:
        """How many releases stay allowed but now need a hub (direct → hub)."""
        return sum(len(p.hubbed) for p in self.pairs)

    @property
    def route_change(self) -> bool:
        return self.rerouted > 0

    def to_json(self) -> dict[str, object]:
        return {
            "agreement": self.agreement,
            "title": self.title,
            "event": self.event,
            "date": self.date.isoformat(),
            "effective": self.effective.isoformat(),
            "status": self.status,
            "route_change": self.route_change,
            "stopped": self.stopped,
            "rerouted": self.rerouted,
            "markings": self.markings,
            "pairs": [p.to_json() for p in self.pairs],
        }


def _without(world: World, ag: Agreement, index: int) -> World:
    """Returns the world in which `ag` never recorded its event number `index`."""
    events = tuple(e for i, e in enumerate(ag.events) if i != index)
    other = ag.model_copy(update={"events": events})
    agreements = tuple(other if a.id == ag.id else a for a in world.registry.agreements)
    return World(world.registry.model_copy(update={"agreements": agreements}))


def _effective(ag: Agreement, ev: Event) -> date:
    """Returns the day a move changes releases: a notice's effective date, else its own day."""
    if ev.kind is EventKind.TERMINATION_NOTIFIED:
        if ev.effective is not None:
            return ev.effective
        start = lifecycle.force_date(ag)
        if start is not None:
            eff = lifecycle.notice_effective(ag, start, proven(ev))
            if eff is not None:
                return eff
    return proven(ev)


def _concerned(world: World, ag: Agreement) -> list[str]:
    """Returns the originators whose releases `ag` may carry: its parties, and those of the
    arrangements that rest on it."""
    codes = set(ag.parties) | ({ag.hub} if ag.hub else set())
    for other in world.registry.agreements:
        if ag.id in other.underlying:
            codes |= set(other.parties)
    return sorted(c for c in codes if c in world.parties)


_cache: weakref.WeakKeyDictionary[World, dict[tuple[str, int, str], Change]] = (
    weakref.WeakKeyDictionary()
)


def _change(world: World, ag: Agreement, index: int, purpose: str) -> Change:
    known = _cache.setdefault(world, {})
    key = (ag.id, index, purpose)
    found = known.get(key)
    if found is not None:
        return found
    ev = ag.events[index]
    eff = _effective(ag, ev)
    before = _without(world, ag, index)
    markings = marking_universe(world, purpose, parties=_concerned(world, ag))
    result = diff(before, world, markings, eff)
    made = Change(
        agreement=ag.id,
        title=ag.title,
        event=ev.kind.value,
        date=proven(ev),
        effective=eff,
        status=lifecycle.status(ag, eff).value,
        markings=result.markings,
        pairs=result.pairs,
    )
    known[key] = made
    return made


def changes(
    world: World, since: date, until: date | None = None, purpose: str = DEFAULT_PURPOSE
) -> list[Change]:
    """Returns every move of an information agreement (`MOVES`) read on or after `since` — or
    given earlier and taking effect on or after it — and, with `until`, read on or before it;
    newest first. Each carries the what-if diff of releases for `purpose` on the day it takes
    effect (PRODUCT.md §3, What-if), over one marking per level × topic of the parties concerned."""
    out: list[Change] = []
    for ag in world.registry.agreements:
        if ag.id not in world.agreements or ag.kind not in INFO_KINDS:
            continue
        for index, ev in enumerate(ag.events):
            if ev.kind not in MOVES:
                continue
            read = proven(ev)
            if until is not None and read > until:
                continue
            if read < since and _effective(ag, ev) < since:
                continue
            out.append(_change(world, ag, index, purpose))
    out.sort(key=lambda c: (c.date, c.agreement), reverse=True)
    return out


@dataclass(frozen=True)
class Alert:
    """A move that concerns an item's release to `recipient` on the date asked about.

    `outcome`: `ending` (still allowed, but the agreement it rests on is under notice until
    `effective`), `rerouted` (allowed before the move, now through a hub: `route`), or
    `stopped` (allowed before the move, no longer)."""

    agreement: str
    event: str
    date: dt.date
    effective: dt.date
    recipient: str
    outcome: str
    route: tuple[str, ...]


def alerts(
    world: World, marking: Marking, holder: str, at: date, window: int = WINDOW
) -> list[Alert]:
    """Returns the moves that concern releasing `marking` from `holder` on `at`: notices running
    against the agreement a release rests on, and direct agreements stopped in the `window` days
    up to `at` that re-routed or stopped a release allowed the day before they stopped."""
    out: list[Alert] = []
    for ag in world.registry.agreements:
        if ag.kind not in INFO_KINDS or not (ag.binds(holder) or _rests_under(world, ag, holder)):
            continue
        recipients = [p for p in _recipients(world, ag) if p != holder]
        notice = lifecycle.pending_notice(ag, at)
        if notice is not None:
            for r in recipients:
                d = decide(marking, r, at, holder, world=world)
                if d.allowed and ag.id in d.basis:
                    ev, eff = notice
                    out.append(Alert(ag.id, ev.kind.value, ev.date, eff, r, "ending", d.route))
            continue
        step = lifecycle.stopped(ag, at)
        if step is None or step.event.date < at - timedelta(days=window):
            continue
        day_before = proven(step.event) - timedelta(days=1)
        for r in recipients:
            then = decide(marking, r, day_before, holder, world=world)
            if not then.allowed or ag.id not in then.basis:
                continue
            now = decide(marking, r, at, holder, world=world)
            if now.allowed and now.route == then.route:
                continue
            outcome = "rerouted" if now.allowed else "stopped"
            kind = step.event.kind.value
            out.append(Alert(ag.id, kind, step.event.date, step.event.date, r, outcome, now.route))
    return out


def _rests_under(world: World, ag: Agreement, holder: str) -> bool:
    """True when an arrangement binding `holder` rests on `ag`."""
    return any(ag.id in o.underlying and o.binds(holder) for o in world.registry.agreements)


def _recipients(world: World, ag: Agreement) -> list[str]:
    """Returns the parties a release resting on `ag` may go to: its own, and those of the
    arrangements resting on it."""
    codes = set(ag.parties)
    for other in world.registry.agreements:
        if ag.id in other.underlying:
            codes |= set(other.parties)
    return sorted(c for c in codes if c in world.parties)
