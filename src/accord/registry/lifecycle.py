"""An agreement's status on a date, derived from its dated events and its renewal rule.

Nothing here is stored: `status(agreement, at)` is a pure function (PRODUCT.md §2, "Lifecycle is
derived from dated events, never stored as a bare status"). The Korea–Japan GSOMIA is the reference
(domain.md §1.5): in force 2016-11-23; termination notice 2019-08-23 to take effect 2019-11-23;
notice suspended 2019-11-22; both notes withdrawn 2023-03-21 — in force without interruption.

Rules, in the order events are read (same-day events in their listed order):
- before entry into force the status is the last pre-force step (negotiating, initialled, signed),
  or `none` with no event at all; talks after initialling set the initialled text aside; an
  agreement is never in force before `entered-into-force`;
- a termination notice leaves the agreement in force (`notice-given`) until its effective date; it
  ends the agreement on that date unless it was suspended or withdrawn before then — a suspended
  notice never ends an agreement;
- `suspended` stops the agreement until `resumed`; `terminated` and `expired` end it for good;
- without notice, an agreement whose term does not renew expires at the end of its initial term.

An event known only to the month, the year or as "no later than" is read on the day the record
proves (`accord.registry.precision.proven`): an agreement is never in force on a day the public
record does not prove it was.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from accord.registry.model import Agreement, Event, EventKind, Term, parse_duration
from accord.registry.precision import proven


class Status(StrEnum):
    NONE = "none"
    NEGOTIATING = "negotiating"
    INITIALLED = "initialled"
    SIGNED = "signed"
    IN_FORCE = "in-force"
    NOTICE_GIVEN = "notice-given"
    NOTICE_SUSPENDED = "notice-suspended"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    EXPIRED = "expired"


IN_FORCE_STATES = frozenset({Status.IN_FORCE, Status.NOTICE_GIVEN, Status.NOTICE_SUSPENDED})
_FINAL = frozenset({Status.TERMINATED, Status.EXPIRED})


def add_duration(start: date, duration: str, times: int = 1) -> date:
    """Returns `start` moved forward by `times` × `duration` (`90d`, `6m`, `1y`), clamping the day
    to the month's end (29 Feb + 1y = 28 Feb)."""
    count, unit = parse_duration(duration)
    count *= times
    if unit == "d":
        return start + timedelta(days=count)
    months = count * 12 if unit == "y" else count
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def sub_duration(end: date, duration: str) -> date:
    """Returns `end` moved back by `duration`."""
    count, unit = parse_duration(duration)
    if unit == "d":
        return end - timedelta(days=count)
    months = count * 12 if unit == "y" else count
    y, m = divmod(end.month - 1 - months, 12)
    year, month = end.year + y, m + 1
    day = min(end.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def ordered_events(agreement: Agreement) -> list[Event]:
    """Returns the events by the day each is read on (`precision.proven`); same-day events keep
    the order they were recorded in."""
    return sorted(agreement.events, key=proven)


def force_date(agreement: Agreement) -> date | None:
    """Returns the date the agreement first entered into force, or None."""
    for ev in ordered_events(agreement):
        if ev.kind is EventKind.ENTERED_INTO_FORCE:
            return proven(ev)
    return None


def anniversaries(term: Term, start: date, after: date) -> date | None:
    """Returns the first end of a term period strictly after `after` (the initial term, then each
    renewal period), or None when the term has no fixed length."""
    if term.initial is None:
        return None
    end = add_duration(start, term.initial)
    if end > after:
        return end
    if term.renewal is None:
        return None
    # Jump close to the answer, then step: keeps this O(1) for centuries-long queries.
    n = 0
    count, unit = parse_duration(term.renewal)
    per_days = {"d": 1, "m": 28, "y": 365}[unit] * count
    n = max(0, (after - end).days // per_days - 1)
    cand = add_duration(end, term.renewal, n)
    while cand <= after:
        n += 1
        cand = add_duration(end, term.renewal, n)
    return cand


def notice_deadline(term: Term, anniversary: date) -> date | None:
    """Returns the last day on which notice can still stop the renewal at `anniversary`."""
    if term.notice is None:
        return None
    last = sub_duration(anniversary, term.notice)
    return last - timedelta(days=1) if term.deadline == "exclusive" else last


def notice_effective(agreement: Agreement, start: date, given: date) -> date | None:
    """Returns when a termination notice given on `given` takes effect, from the renewal rule: the
    first anniversary whose notice deadline is on or after `given`."""
    term = agreement.term
    ann = anniversaries(term, start, given)
    guard = 0
    while ann is not None and guard < 1000:
        deadline = notice_deadline(term, ann)
        if deadline is None or given <= deadline:
            return ann
        ann = anniversaries(term, start, ann)
        guard += 1
    if term.notice is not None and term.initial is None:
        return add_duration(given, term.notice)
    return None


@dataclass(frozen=True)
class Step:
    """One event and the status it leaves the agreement in."""

    event: Event
    status: Status
    derived: bool = False


@dataclass
class _State:
    status: Status = Status.NONE
    started: date | None = None
    notice_effective: date | None = None
    notice_live: bool = False


def _apply(agreement: Agreement, st: _State, ev: Event) -> None:
    k = ev.kind
    if st.status in _FINAL:
        return
    in_force = st.status in IN_FORCE_STATES
    if k is EventKind.NEGOTIATING and st.status in (Status.NONE, Status.INITIALLED):
        # After initialling, talks again mean the initialled text was set aside (the Korea–Japan
        # text initialled in April 2012 and not signed).
        st.status = Status.NEGOTIATING
    elif k is EventKind.INITIALLED and st.status in (Status.NONE, Status.NEGOTIATING):
        st.status = Status.INITIALLED
    elif k is EventKind.SIGNED and st.status in (
        Status.NONE,
        Status.NEGOTIATING,
        Status.INITIALLED,
    ):
        st.status = Status.SIGNED
    elif k is EventKind.ENTERED_INTO_FORCE and not in_force and st.status is not Status.SUSPENDED:
        st.status = Status.IN_FORCE
        st.started = proven(ev)
    elif k is EventKind.TERMINATION_NOTIFIED and in_force and st.started is not None:
        eff = ev.effective or notice_effective(agreement, st.started, proven(ev))
        st.notice_effective = eff
        st.notice_live = eff is not None
        st.status = Status.NOTICE_GIVEN if eff is not None else st.status
    elif k is EventKind.NOTICE_SUSPENDED and st.status is Status.NOTICE_GIVEN:
        st.notice_live = False
        st.status = Status.NOTICE_SUSPENDED
    elif k is EventKind.NOTICE_WITHDRAWN and st.status in (
        Status.NOTICE_GIVEN,
        Status.NOTICE_SUSPENDED,
    ):
        st.notice_live = False
        st.notice_effective = None
        st.status = Status.IN_FORCE
    elif k is EventKind.SUSPENDED and in_force:
        st.status = Status.SUSPENDED
    elif k is EventKind.RESUMED and st.status is Status.SUSPENDED:
        st.status = Status.NOTICE_GIVEN if st.notice_live else Status.IN_FORCE
    elif k is EventKind.TERMINATED and st.status is not Status.NONE:
        st.status = Status.TERMINATED
    elif k is EventKind.EXPIRED and st.status is not Status.NONE:
        st.status = Status.EXPIRED


def _lapse(agreement: Agreement, st: _State, upto: date) -> Event | None:
    """Ends the agreement if a live notice or the end of a non-renewing term falls on or before
    `upto` (the date being asked about, or the next event's date); returns the derived event."""
    if st.status in _FINAL or st.status in (Status.NONE, Status.NEGOTIATING):
        return None
    if st.notice_live and st.notice_effective is not None and st.notice_effective <= upto:
        st.status = Status.TERMINATED
        return Event(
            date=st.notice_effective,
            kind=EventKind.TERMINATED,
            summary="the termination notice took effect",
        )
    term = agreement.term
    if (
        st.started is not None
        and term.initial is not None
        and term.renewal is None
        and st.status in IN_FORCE_STATES | {Status.SUSPENDED}
        and add_duration(st.started, term.initial) <= upto
    ):
        st.status = Status.EXPIRED
        return Event(
            date=add_duration(st.started, term.initial),
            kind=EventKind.EXPIRED,
            summary="the term ended without renewal",
        )
    return None


def timeline(agreement: Agreement) -> list[Step]:
    """Returns every event with the status the agreement is in right after it (same day), plus
    the derived steps no event records: a notice taking effect, a term running out."""
    st = _State()
    steps: list[Step] = []
    for ev in ordered_events(agreement):
        lapsed = _lapse(agreement, st, proven(ev))
        if lapsed is not None:
            steps.append(Step(lapsed, st.status, derived=True))
        _apply(agreement, st, ev)
        steps.append(Step(ev, st.status))
    lapsed = _lapse(agreement, st, date.max)
    if lapsed is not None:
        steps.append(Step(lapsed, st.status, derived=True))
    return steps


def status(agreement: Agreement, at: date) -> Status:
    """Returns the agreement's status at the start of business on `at`, after every event dated
    on or before `at`. A notice whose effective date is `at` has ended the agreement on `at`."""
    return _replay(agreement, at)[0].status


def _replay(agreement: Agreement, at: date) -> tuple[_State, Event | None]:
    """Returns the agreement's state at the start of business on `at` (every event dated on or
    before it applied, lapses included) and the termination notice that last put it under
    notice, if any."""
    st = _State()
    notice: Event | None = None
    for ev in ordered_events(agreement):
        day = proven(ev)
        if day > at:
            break
        _lapse(agreement, st, day)
        _apply(agreement, st, ev)
        if ev.kind is EventKind.TERMINATION_NOTIFIED and st.status is Status.NOTICE_GIVEN:
            notice = ev
    _lapse(agreement, st, at)
    return st, notice


def in_force(agreement: Agreement, at: date) -> bool:
    """True exactly when the agreement binds its parties on `at`."""
    return status(agreement, at) in IN_FORCE_STATES


def next_renewal_deadline(agreement: Agreement, at: date) -> date | None:
    """Returns the last day, on or after `at`, on which a party can still give notice to stop the
    next automatic renewal; None when the agreement does not renew or is not in force."""
    if not in_force(agreement, at):
        return None
    start = None
    st = _State()
    for ev in ordered_events(agreement):
        if proven(ev) > at:
            break
        _apply(agreement, st, ev)
    start = st.started
    if start is None or agreement.term.notice is None or agreement.term.renewal is None:
        return None
    ann = anniversaries(agreement.term, start, at)
    while ann is not None:
        deadline = notice_deadline(agreement.term, ann)
        if deadline is not None and deadline >= at:
            return deadline
        ann = anniversaries(agreement.term, start, ann)
    return None


def on_date(
    agreements: Iterable[Agreement],
    at: date,
    *,
    parties: Iterable[str] = (),
    kind: str | None = None,
    in_force_only: bool = False,
) -> list[tuple[Agreement, Status]]:
    """Returns the agreements that existed on `at` — those with an event on or before it — with
    their status then, in registry order: only those binding every one of `parties`, of `kind`,
    and, with `in_force_only`, in force. The one answer to "which agreements on this date" that
    the CLI, the API and the network page all give."""
    wanted = tuple(parties)
    out: list[tuple[Agreement, Status]] = []
    for ag in agreements:
        if kind is not None and ag.kind != kind:
            continue
        if not all(ag.binds(p) for p in wanted):
            continue
        st = status(ag, at)
        if st is Status.NONE or (in_force_only and st not in IN_FORCE_STATES):
            continue
        out.append((ag, st))
    return out


def pending_notice(agreement: Agreement, at: date) -> tuple[Event, date] | None:
    """Returns the termination notice running on `at` — (the notice event, the day it takes
    effect) — while the agreement is in force under notice (`notice-given`); None otherwise, a
    suspended or withdrawn notice included. What an explanation names when a release rests on an
    agreement that is ending (PRODUCT.md §2, the 2019 Korea–Japan notice)."""
    st, notice = _replay(agreement, at)
    if st.status is not Status.NOTICE_GIVEN or notice is None or st.notice_effective is None:
        return None
    return notice, st.notice_effective


def stopped(agreement: Agreement, at: date) -> Step | None:
    """Returns the step that stopped the agreement, when it is suspended, terminated or expired on
    `at` after having been in force: the suspension, the termination (recorded, or a notice
    taking effect) or the expiry; None while it is in force or before it ever was."""
    last: Step | None = None
    was_in_force = False
    for step in timeline(agreement):
        if proven(step.event) > at:
            break
        if step.status in IN_FORCE_STATES:
            was_in_force, last = True, None
        elif was_in_force and last is None and step.status in _STOPPED:
            last = step
    return last


_STOPPED = frozenset({Status.SUSPENDED, Status.TERMINATED, Status.EXPIRED})
