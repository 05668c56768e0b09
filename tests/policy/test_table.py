"""The bulk release table: exactly `decide` on random worlds, and incremental refresh after a
registry change equals a table built from scratch."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_world import registry
from random_worlds import Case, cases, day

from accord.policy import Marking, ReleaseTable, World, decide
from accord.registry import files, service
from accord.registry.model import Consent, Event, EventKind, Registry

D = date.fromisoformat


@pytest.mark.slow
@given(cases(n_markings=10, n_dates=2))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_table_agrees_with_decide_on_random_worlds(case: Case) -> None:
    world = World(case.registry)
    for at in case.dates:
        table = ReleaseTable(world, case.markings, at)
        for h, r in table.pairs():
            for m in case.markings:
                d = decide(m, r, at, h, world=world)
                assert table.allowed(m, r, h) == d.allowed, (m, h, r, at, d.explanation)
                assert table.via_hub(m, r, h) == (d.allowed and d.via_hub), (m, h, r, at)


def _change(draw: st.DrawFn, reg: Registry) -> Registry:
    """A random registry change: a new event on an agreement, or a new consent."""
    codes = [p.code for p in reg.parties]
    if reg.agreements and draw(st.booleans()):
        ag = draw(st.sampled_from(reg.agreements))
        last = max((e.date for e in ag.events), default=day(0))
        kind = draw(st.sampled_from(["entered-into-force", "suspended", "resumed", "terminated"]))
        ev = Event(date=draw(st.sampled_from([last, day(20), day(30)])), kind=EventKind(kind))
        if ev.date < last:
            ev = ev.model_copy(update={"date": last})
        new = ag.model_copy(update={"events": (*ag.events, ev)})
        return Registry(agreements=(new,))
    o, h = draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
    c = Consent(
        id="new-consent",
        originator=o,
        holder=h,
        recipients=tuple(draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))),
        valid_from=day(draw(st.integers(0, 30))),
    )
    return Registry(consents=(c,))


@pytest.mark.slow
@given(cases(n_markings=10, n_dates=1), st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_refresh_after_a_change_equals_a_fresh_table(case: Case, data: st.DataObject) -> None:
    world = World(case.registry)
    at = case.dates[0]
    table = ReleaseTable(world, case.markings, at)
    part = _change(data.draw, case.registry)
    new_world = World(files.merge(case.registry, part))
    touched = table.refresh(new_world)
    fresh = ReleaseTable(new_world, case.markings, at)
    for pair in fresh.pairs():
        assert table.pair(*pair) == fresh.pair(*pair), (pair, touched)
        assert table.hub_pair(*pair) == fresh.hub_pair(*pair), (pair, touched)


def test_refresh_recomputes_only_the_pairs_a_change_touches() -> None:
    world = World(registry())
    ms = [
        Marking.of(o, lv, [t])
        for o, lv in [("KOR", "II"), ("JPN", "HI"), ("USA", "S")]
        for t in ("dprk-nuclear", "wmd")
    ]
    table = ReleaseTable(world, ms, D("2015-06-01"))
    kr = Marking.of("KOR", "II", ["wmd"])
    assert not table.allowed(kr, "JPN")
    consent = Consent(
        id="kor-usa-wmd",
        originator="KOR",
        holder="USA",
        recipients=("AUS",),
        valid_from=D("2015-01-01"),
    )
    new = World(files.merge(world.registry, Registry(consents=(consent,))))
    touched = table.refresh(new)
    assert ("USA", "AUS") in touched and ("JPN", "AUS") in touched
    assert all("KOR" in p or "USA" in p or "AUS" in p for p in touched)
    assert table.allowed(kr, "AUS", "USA")


def test_demo_table_matches_decide_for_korea_on_key_dates() -> None:
    reg, _ = files.read_file(service.scenario_path())
    world = World(reg)
    ms = [
        Marking.of(o, lv, [t])
        for o in ("KOR", "JPN", "USA")
        for lv in world.party(o).level_codes()
        for t in ("dprk-nuclear", "wmd")
    ]
    parties = ("KOR", "JPN", "USA", "AUS", "NATO")
    for at in ("2014-12-28", "2014-12-29", "2016-11-23", "2019-11-23"):
        table = ReleaseTable(world, ms, D(at), parties)
        for h, r in table.pairs():
            for m in ms:
                assert table.allowed(m, r, h) == decide(m, r, D(at), h, world=world).allowed
        assert table.decisions() == len(ms) * (len(parties) - 1)
    kr = Marking.of("KOR", "II", ["dprk-nuclear"])
    table = ReleaseTable(world, ms, D("2015-06-01"), parties)
    assert table.via_hub(kr, "JPN") and kr in table.releasable("JPN")
