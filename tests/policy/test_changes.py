"""`accord.policy.changes` on the demonstration registry: the 2019 notice as an alert while it
runs, a suspension that re-routes Korea → Japan through the United States reported as a route
change, a termination that stops what TISA does not carry, and nothing reported where nothing
moved."""

from __future__ import annotations

from datetime import date

import pytest

from accord.policy import Marking, World, decide
from accord.policy.changes import alerts, changes
from accord.registry import lifecycle, service
from accord.registry.model import Event, EventKind

GSOMIA = "kor-jpn-gsomia-2016"
NUCLEAR = Marking.of("KOR", "II", ["dprk-nuclear"])
CYBER = Marking.of("KOR", "II", ["cyber"])


@pytest.fixture(scope="module")
def demo() -> World:
    return World(service._demo()[0])


def with_gsomia_events(world: World, *extra: Event) -> World:
    """The demonstration world with the GSOMIA's events up to its entry into force, plus `extra`."""
    reg = world.registry
    ag = world.agreements[GSOMIA]
    kept = tuple(e for e in ag.events if e.date <= date(2016, 11, 23)) + extra
    changed = ag.model_copy(update={"events": kept})
    return World(
        reg.model_copy(
            update={"agreements": tuple(changed if a.id == GSOMIA else a for a in reg.agreements)}
        )
    )


def test_the_2019_notice_is_an_alert_while_it_runs(demo: World) -> None:
    got = alerts(demo, NUCLEAR, "KOR", date(2019, 9, 1))
    assert [(a.agreement, a.event, a.date, a.effective, a.recipient, a.outcome) for a in got] == [
        (GSOMIA, "termination-notified", date(2019, 8, 23), date(2019, 11, 23), "JPN", "ending")
    ]
    # Before it was given, and once it was suspended, nothing is ending.
    assert alerts(demo, NUCLEAR, "KOR", date(2019, 8, 22)) == []
    assert alerts(demo, NUCLEAR, "KOR", date(2019, 11, 22)) == []
    assert lifecycle.pending_notice(demo.agreements[GSOMIA], date(2019, 11, 22)) is None


def test_the_notice_is_listed_with_its_dates_and_no_effect_once_suspended(demo: World) -> None:
    listed = [c for c in changes(demo, date(2019, 1, 1)) if c.agreement == GSOMIA]
    assert [(c.event, c.date, c.effective, c.status) for c in listed] == [
        ("termination-notified", date(2019, 8, 23), date(2019, 11, 23), "notice-suspended")
    ]
    assert listed[0].pairs == () and not listed[0].route_change
    # A notice given before `since` that takes effect after it is still news; one done is not.
    assert [c.agreement for c in changes(demo, date(2019, 10, 1))] == [GSOMIA]
    assert changes(demo, date(2019, 12, 1)) == []


def test_a_notice_that_takes_effect_is_a_route_change_and_a_stop() -> None:
    demo = World(service._demo()[0])
    notice = Event(date=date(2019, 8, 23), kind=EventKind.TERMINATION_NOTIFIED,
                   effective=date(2019, 11, 23))  # fmt: skip
    world = with_gsomia_events(demo, notice)
    (c,) = [c for c in changes(world, date(2019, 8, 1)) if c.agreement == GSOMIA]
    assert (c.status, c.route_change) == ("terminated", True)
    pair = next(p for p in c.pairs if (p.holder, p.recipient) == ("KOR", "JPN"))
    assert NUCLEAR in pair.hubbed and CYBER in pair.lost


def test_a_suspension_that_reroutes_through_the_us_is_a_route_change(demo: World) -> None:
    world = with_gsomia_events(demo, Event(date=date(2020, 3, 2), kind=EventKind.SUSPENDED))
    (c,) = changes(world, date(2020, 1, 1))
    assert (c.agreement, c.event, c.date, c.effective) == (
        GSOMIA, "suspended", date(2020, 3, 2), date(2020, 3, 2)
    )  # fmt: skip
    assert c.route_change and c.rerouted > 0 and c.stopped > 0
    pair = next(p for p in c.pairs if (p.holder, p.recipient) == ("KOR", "JPN"))
    assert NUCLEAR in pair.hubbed and NUCLEAR not in pair.lost
    # The item's page: re-routed through the US, the release itself still allowed.
    (a,) = alerts(world, NUCLEAR, "KOR", date(2020, 3, 10))
    assert (a.outcome, a.recipient, a.route) == ("rerouted", "JPN", ("KOR", "USA", "JPN"))
    # What TISA does not carry stops.
    (s,) = alerts(world, CYBER, "KOR", date(2020, 3, 10))
    assert (s.outcome, s.recipient) == ("stopped", "JPN")
    d = decide(NUCLEAR, "JPN", date(2020, 3, 10), world=world)
    assert f"{GSOMIA}, which bound them directly, is suspended since 2020-03-02" in d.explanation
    # The alert lasts 90 days after the stop.
    assert alerts(world, NUCLEAR, "KOR", date(2020, 5, 31))
    assert alerts(world, NUCLEAR, "KOR", date(2020, 6, 1)) == []


def test_a_release_not_resting_on_the_agreement_raises_nothing(demo: World) -> None:
    world = with_gsomia_events(demo, Event(date=date(2020, 3, 2), kind=EventKind.SUSPENDED))
    # Level I was never released to Japan under the GSOMIA (no row): its suspension changes nothing.
    assert alerts(world, Marking.of("KOR", "I", ["cyber"]), "KOR", date(2020, 3, 10)) == []
    # A notice on the GSOMIA does not concern releases to the United States.
    assert [a.recipient for a in alerts(demo, NUCLEAR, "KOR", date(2019, 9, 1))] == ["JPN"]
