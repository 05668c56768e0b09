"""Lifecycle truth tables and properties: status(agreement, date) derived from dated events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.registry import lifecycle
from accord.registry.lifecycle import (
    IN_FORCE_STATES,
    Status,
    add_duration,
    in_force,
    next_renewal_deadline,
    notice_effective,
    status,
    timeline,
)
from accord.registry.model import Agreement, Event, EventKind, Term

D = date.fromisoformat


def ag(*events: tuple[str, str] | tuple[str, str, str], term: Term | None = None) -> Agreement:
    evs = []
    for e in events:
        effective = D(e[2]) if len(e) == 3 else None
        evs.append(Event(date=D(e[0]), kind=EventKind(e[1]), effective=effective))
    return Agreement(
        id="a",
        title="a",
        kind="information-security",
        parties=("KOR", "JPN"),
        events=tuple(evs),
        term=term or Term(),
    )


# The Korea–Japan GSOMIA (domain.md §1.5): the reference history.
KR_JP = ag(
    ("2011-01-10", "negotiating"),
    ("2016-11-14", "initialled"),
    ("2016-11-23", "signed"),
    ("2016-11-23", "entered-into-force"),
    ("2019-08-23", "termination-notified", "2019-11-23"),
    ("2019-11-22", "notice-suspended"),
    ("2023-03-21", "notice-withdrawn"),
    term=Term(initial="1y", renewal="1y", notice="90d", deadline="exclusive"),
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param("2011-01-09", Status.NONE, id="before-talks"),
        pytest.param("2011-01-10", Status.NEGOTIATING, id="talks-begin-2011"),
        pytest.param("2012-06-29", Status.NEGOTIATING, id="aborted-2012-signing"),
        pytest.param("2016-11-13", Status.NEGOTIATING, id="day-before-initialling"),
        pytest.param("2016-11-14", Status.INITIALLED, id="initialled"),
        pytest.param("2016-11-22", Status.INITIALLED, id="eve-of-signature"),
        pytest.param("2016-11-23", Status.IN_FORCE, id="signed-and-in-force"),
        pytest.param("2017-11-23", Status.IN_FORCE, id="first-renewal"),
        pytest.param("2019-08-22", Status.IN_FORCE, id="day-before-notice"),
        pytest.param("2019-08-23", Status.NOTICE_GIVEN, id="notice-delivered"),
        pytest.param("2019-11-21", Status.NOTICE_GIVEN, id="two-days-before-effect"),
        pytest.param("2019-11-22", Status.NOTICE_SUSPENDED, id="notice-suspended-hours-before"),
        pytest.param("2019-11-23", Status.NOTICE_SUSPENDED, id="would-have-ended-stays-in-force"),
        pytest.param("2019-11-24", Status.NOTICE_SUSPENDED, id="day-after-would-be-end"),
        pytest.param("2020-08-24", Status.NOTICE_SUSPENDED, id="2020-disagreement"),
        pytest.param("2023-03-20", Status.NOTICE_SUSPENDED, id="eve-of-withdrawal"),
        pytest.param("2023-03-21", Status.IN_FORCE, id="both-notes-withdrawn"),
        pytest.param("2026-11-29", Status.IN_FORCE, id="today"),
    ],
)
def test_korea_japan_gsomia_day_by_day(day: str, expected: Status) -> None:
    assert status(KR_JP, D(day)) is expected


def test_korea_japan_gsomia_in_force_without_interruption() -> None:
    day = D("2016-11-23")
    while day <= D("2024-12-31"):
        assert in_force(KR_JP, day), day
        day += timedelta(days=1)
    assert not in_force(KR_JP, D("2016-11-22"))


@pytest.mark.parametrize(
    ("at", "deadline"),
    [
        pytest.param("2017-01-01", "2017-08-24", id="first-year"),
        pytest.param("2019-01-01", "2019-08-24", id="2019-press-counted-24-aug"),
        pytest.param("2019-08-24", "2019-08-24", id="on-the-deadline"),
        pytest.param("2019-08-25", "2020-08-24", id="day-after-deadline"),
        pytest.param("2023-03-21", "2023-08-24", id="after-withdrawal"),
    ],
)
def test_next_renewal_deadline_follows_the_agreements_rule(at: str, deadline: str) -> None:
    assert next_renewal_deadline(KR_JP, D(at)) == D(deadline)


def test_inclusive_convention_gives_the_day_after() -> None:
    inclusive = KR_JP.model_copy(update={"term": Term(initial="1y", renewal="1y", notice="90d")})
    assert next_renewal_deadline(inclusive, D("2019-01-01")) == D("2019-08-25")


def test_no_renewal_deadline_when_not_in_force_or_not_renewing() -> None:
    assert next_renewal_deadline(KR_JP, D("2016-01-01")) is None
    fixed = ag(("2000-01-01", "entered-into-force"), term=Term(initial="10y"))
    assert next_renewal_deadline(fixed, D("2001-01-01")) is None


E = "2010-01-01"  # entry into force in the tables below


@pytest.mark.parametrize(
    ("events", "term", "day", "expected"),
    [
        pytest.param([], None, "2010-01-01", Status.NONE, id="no-events"),
        pytest.param(
            [("2009-01-01", "negotiating")],
            None,
            "2009-06-01",
            Status.NEGOTIATING,
            id="negotiating",
        ),
        pytest.param(
            [("2009-01-01", "initialled")], None, "2009-06-01", Status.INITIALLED, id="initialled"
        ),
        pytest.param(
            [("2009-01-01", "signed")], None, "2009-06-01", Status.SIGNED, id="signed-not-in-force"
        ),
        pytest.param(
            [("2009-01-01", "signed"), (E, "entered-into-force")],
            None,
            "2009-12-31",
            Status.SIGNED,
            id="eve-of-force",
        ),
        pytest.param([(E, "entered-into-force")], None, E, Status.IN_FORCE, id="force-on-its-day"),
        pytest.param(
            [(E, "entered-into-force"), ("2011-01-01", "suspended")],
            None,
            "2011-01-01",
            Status.SUSPENDED,
            id="suspended",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-01-01", "suspended"), ("2011-06-01", "resumed")],
            None,
            "2011-06-01",
            Status.IN_FORCE,
            id="resumed",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-01-01", "terminated")],
            None,
            "2011-01-01",
            Status.TERMINATED,
            id="terminated",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-01-01", "terminated"), ("2012-01-01", "resumed")],
            None,
            "2012-06-01",
            Status.TERMINATED,
            id="termination-is-final",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-01-01", "expired")],
            None,
            "2011-01-01",
            Status.EXPIRED,
            id="expired",
        ),
        pytest.param(
            [(E, "entered-into-force")],
            Term(initial="1y"),
            "2010-12-31",
            Status.IN_FORCE,
            id="last-day-of-fixed-term",
        ),
        pytest.param(
            [(E, "entered-into-force")],
            Term(initial="1y"),
            "2011-01-01",
            Status.EXPIRED,
            id="fixed-term-runs-out",
        ),
        pytest.param(
            [(E, "entered-into-force")],
            Term(initial="1y", renewal="1y"),
            "2030-01-01",
            Status.IN_FORCE,
            id="auto-renewal",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-05-01", "termination-notified", "2012-01-01")],
            None,
            "2011-12-31",
            Status.NOTICE_GIVEN,
            id="notice-pending",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-05-01", "termination-notified", "2012-01-01")],
            None,
            "2012-01-01",
            Status.TERMINATED,
            id="notice-takes-effect",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-05-01", "termination-notified")],
            Term(initial="1y", renewal="1y", notice="90d"),
            "2012-01-01",
            Status.TERMINATED,
            id="notice-effect-derived-from-rule",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-11-01", "termination-notified")],
            Term(initial="1y", renewal="1y", notice="90d"),
            "2012-01-01",
            Status.NOTICE_GIVEN,
            id="late-notice-waits-a-period",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-11-01", "termination-notified")],
            Term(initial="1y", renewal="1y", notice="90d"),
            "2013-01-01",
            Status.TERMINATED,
            id="late-notice-ends-next-period",
        ),
        pytest.param(
            [
                (E, "entered-into-force"),
                ("2011-05-01", "termination-notified", "2012-01-01"),
                ("2011-12-31", "notice-suspended"),
            ],
            None,
            "2012-01-01",
            Status.NOTICE_SUSPENDED,
            id="suspended-notice-never-ends",
        ),
        pytest.param(
            [
                (E, "entered-into-force"),
                ("2011-05-01", "termination-notified", "2012-01-01"),
                ("2011-12-31", "notice-withdrawn"),
            ],
            None,
            "2012-06-01",
            Status.IN_FORCE,
            id="withdrawn-notice",
        ),
        pytest.param(
            [
                (E, "entered-into-force"),
                ("2011-05-01", "termination-notified", "2012-01-01"),
                ("2011-07-01", "suspended"),
            ],
            None,
            "2012-01-01",
            Status.TERMINATED,
            id="notice-ends-a-suspended-agreement",
        ),
        pytest.param(
            [
                (E, "entered-into-force"),
                ("2011-01-01", "suspended"),
                ("2011-02-01", "entered-into-force"),
            ],
            None,
            "2011-03-01",
            Status.SUSPENDED,
            id="force-event-does-not-lift-suspension",
        ),
        pytest.param(
            [(E, "entered-into-force"), ("2011-01-01", "amended")],
            None,
            "2011-01-01",
            Status.IN_FORCE,
            id="amendment-keeps-force",
        ),
        pytest.param(
            [("2009-01-01", "termination-notified", "2009-06-01"), (E, "entered-into-force")],
            None,
            "2010-06-01",
            Status.IN_FORCE,
            id="notice-before-force-ignored",
        ),
    ],
)
def test_every_event_kind(
    events: list[tuple[str, ...]], term: Term | None, day: str, expected: Status
) -> None:
    assert status(ag(*events, term=term), D(day)) is expected  # type: ignore[arg-type]


def test_timeline_reports_status_after_each_event_and_derived_endings() -> None:
    a = ag(
        (E, "entered-into-force"),
        ("2011-05-01", "termination-notified", "2012-01-01"),
        term=Term(initial="5y", renewal="5y"),
    )
    steps = [
        (s.event.date.isoformat(), s.event.kind.value, s.status.value, s.derived)
        for s in timeline(a)
    ]
    assert steps == [
        (E, "entered-into-force", "in-force", False),
        ("2011-05-01", "termination-notified", "notice-given", False),
        ("2012-01-01", "terminated", "terminated", True),
    ]
    kr = [s.status for s in timeline(KR_JP)]
    assert kr[-1] is Status.IN_FORCE and Status.TERMINATED not in kr


def test_durations_clamp_to_month_end() -> None:
    assert add_duration(D("2016-02-29"), "1y") == D("2017-02-28")
    assert add_duration(D("2020-01-31"), "1m") == D("2020-02-29")
    assert add_duration(D("2020-01-31"), "90d") == D("2020-04-30")


def test_notice_effective_uses_anniversary_and_deadline() -> None:
    start = D("2016-11-23")
    assert notice_effective(KR_JP, start, D("2019-08-24")) == D("2019-11-23")
    assert notice_effective(KR_JP, start, D("2019-08-25")) == D("2020-11-23")


# --- properties over random event histories -------------------------------------------------

KINDS = list(EventKind)
days = st.integers(min_value=0, max_value=4000)
event_lists = st.lists(
    st.tuples(days, st.sampled_from(KINDS), st.integers(min_value=0, max_value=800)),
    max_size=10,
)
terms = st.sampled_from(
    [
        Term(),
        Term(initial="1y"),
        Term(initial="1y", renewal="1y", notice="90d"),
        Term(initial="2y", renewal="1y", notice="6m", deadline="exclusive"),
    ]
)
BASE = D("2000-01-01")


def build(raw: list[tuple[int, EventKind, int]], term: Term) -> Agreement:
    evs = []
    for offset, kind, later in sorted(raw, key=lambda r: r[0]):
        day = BASE + timedelta(days=offset)
        effective = (
            day + timedelta(days=later)
            if kind is EventKind.TERMINATION_NOTIFIED and later
            else None
        )
        evs.append(Event(date=day, kind=kind, effective=effective))
    return Agreement(
        id="p",
        title="p",
        kind="information-security",
        parties=("AAA", "BBB"),
        events=tuple(evs),
        term=term,
    )


@settings(max_examples=300, deadline=None)
@given(event_lists, terms, days)
def test_status_is_a_pure_function_of_events(raw: list, term: Term, probe: int) -> None:
    a = build(raw, term)
    day = BASE + timedelta(days=probe)
    first = status(a, day)
    assert status(build(list(raw), term), day) is first
    assert status(a, day) is first
    # Events after the probed day never change the answer.
    upto = [r for r in raw if r[0] <= probe]
    assert status(build(upto, term), day) is first


@settings(max_examples=300, deadline=None)
@given(event_lists, terms, days)
def test_never_in_force_before_entry_into_force(raw: list, term: Term, probe: int) -> None:
    a = build(raw, term)
    day = BASE + timedelta(days=probe)
    forced = [BASE + timedelta(days=r[0]) for r in raw if r[1] is EventKind.ENTERED_INTO_FORCE]
    if not forced or day < min(forced):
        assert not in_force(a, day)


@settings(max_examples=300, deadline=None)
@given(event_lists, terms, days, st.integers(min_value=1, max_value=300))
def test_a_suspended_notice_never_ends_an_agreement(
    raw: list, term: Term, probe: int, gap: int
) -> None:
    """Whatever came before, an agreement in force whose notice is suspended before it takes
    effect is still in force on and after the day it would have ended (absent later events)."""
    a = build(raw, term)
    last = max((r[0] for r in raw), default=0)
    before = BASE + timedelta(days=last + 1)
    if not in_force(a, before):
        return
    notice_day = before + timedelta(days=1)
    effective = notice_day + timedelta(days=gap)
    extra = (
        Event(date=notice_day, kind=EventKind.TERMINATION_NOTIFIED, effective=effective),
        Event(date=effective - timedelta(days=1), kind=EventKind.NOTICE_SUSPENDED)
        if gap > 1
        else Event(date=notice_day, kind=EventKind.NOTICE_SUSPENDED),
    )
    b = a.model_copy(update={"events": a.events + extra, "term": Term()})
    for probe_day in (effective, effective + timedelta(days=probe)):
        assert status(b, probe_day) in IN_FORCE_STATES, probe_day


def _dated(kind: str, day: str, precision: str) -> Event:
    return Event(date=D(day), kind=EventKind(kind), precision=precision)  # type: ignore[arg-type]


def test_an_entry_into_force_known_to_the_month_counts_from_its_last_day() -> None:
    """accord.registry.precision.proven: the record proves "in force in August 2017" only from
    31 August (before the fix the agreement was in force from the 1st, stored date)."""
    a = Agreement(
        id="a", title="a", kind="logistics-support", parties=("JPN", "GBR"),
        events=(_dated("signed", "2017-01-26", "day"), _dated("entered-into-force", "2017-08-01", "month")),
    )  # fmt: skip
    assert status(a, D("2017-08-01")) is Status.SIGNED
    assert status(a, D("2017-08-30")) is Status.SIGNED
    assert status(a, D("2017-08-31")) is Status.IN_FORCE


def test_a_termination_known_to_the_year_counts_from_its_first_day() -> None:
    a = Agreement(
        id="a", title="a", kind="logistics-support", parties=("JPN", "AUS"),
        events=(_dated("entered-into-force", "2013-01-31", "day"), _dated("terminated", "2017-12-31", "year")),
    )  # fmt: skip
    assert status(a, D("2016-12-31")) is Status.IN_FORCE
    assert status(a, D("2017-01-01")) is Status.TERMINATED


def test_talks_after_initialling_set_the_initialled_text_aside() -> None:
    """The Korea–Japan text initialled in April 2012 and not signed; talks resumed in 2016."""
    a = ag(
        ("2011-01-10", "negotiating"),
        ("2012-04-23", "initialled"),
        ("2012-06-29", "negotiating"),
        ("2016-11-14", "initialled"),
        ("2016-11-23", "entered-into-force"),
    )
    assert status(a, D("2012-05-01")) is Status.INITIALLED
    assert status(a, D("2013-01-01")) is Status.NEGOTIATING
    assert status(a, D("2016-11-14")) is Status.INITIALLED
    assert status(a, D("2016-11-23")) is Status.IN_FORCE


def test_agreements_on_a_date_is_the_one_query_every_surface_uses() -> None:
    """`on_date` keeps the agreements with an event by the date, binding every named party, of
    the kind asked, in force when asked — the list `accord agreements list`, the API and the
    network page give."""
    from accord.registry.files import read_file
    from accord.registry.service import scenario_path

    registry, _lines = read_file(scenario_path())
    at = date(2019, 11, 23)
    everything = lifecycle.on_date(registry.agreements, at)
    assert everything == [
        (ag, lifecycle.status(ag, at))
        for ag in registry.agreements
        if lifecycle.status(ag, at) is not lifecycle.Status.NONE
    ]
    both = lifecycle.on_date(registry.agreements, at, parties=["KOR", "JPN"], in_force_only=True)
    ids = {ag.id for ag, _st in both}
    assert "kor-jpn-gsomia-2016" in ids
    assert all(st in lifecycle.IN_FORCE_STATES for _ag, st in both)
    assert all(ag.binds("KOR") and ag.binds("JPN") for ag, _st in both)
    acsa = lifecycle.on_date(registry.agreements, at, kind="logistics-support")
    assert acsa and all(ag.kind == "logistics-support" for ag, _st in acsa)
    assert lifecycle.on_date(registry.agreements, date(1900, 1, 1)) == []
