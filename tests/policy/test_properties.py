"""Properties of the rules (hypothesis, random worlds): monotonicity under new agreements and
consents, no release outside every agreement's force, NOFORN never leaves the originator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_worlds import Case, cases, day

from accord.policy import World, decide
from accord.registry import files, lifecycle
from accord.registry.model import Agreement, Consent, Event, EventKind, Registry

# property-based (hypothesis): the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decisions(world: World, case: Case) -> dict[tuple[object, ...], bool]:
    out = {}
    parties = sorted(world.parties)
    for at in case.dates:
        for h in parties:
            for r in parties:
                if h != r:
                    for m in case.markings:
                        out[(m, h, r, at)] = decide(m, r, at, h, world=world).allowed
    return out


@st.composite
def additions(draw: st.DrawFn, case: Case) -> Registry:
    """A new in-force information agreement (random parties, rows, scope) or a new consent."""
    ps = case.registry.parties
    codes = [p.code for p in ps]
    if draw(st.booleans()):
        a, b = draw(st.lists(st.sampled_from(ps), min_size=2, max_size=2, unique=True))
        rows = []
        for la, lb in zip(a.level_codes(), b.level_codes(), strict=False):
            if draw(st.integers(0, 3)):
                rows.append({a.code: la, b.code: lb})
        ag = Agreement(
            id="new-agreement",
            title="new",
            kind=draw(st.sampled_from(["information-security", "information-arrangement"])),
            parties=(a.code, b.code),
            equivalence=tuple(rows),
            events=(Event(date=day(draw(st.integers(-5, 36))), kind=EventKind.ENTERED_INTO_FORCE),),
        )
        return Registry(agreements=(ag,))
    o, h = draw(st.lists(st.sampled_from(codes), min_size=2, max_size=2, unique=True))
    c = Consent(
        id="new-consent",
        originator=o,
        holder=h,
        recipients=tuple(draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))),
        items=tuple(draw(st.lists(st.sampled_from(["m1", "m2"]), unique=True))),
        valid_from=day(draw(st.integers(0, 36))),
    )
    return Registry(consents=(c,))


@given(cases(), st.data())
@SETTINGS
def test_a_new_agreement_or_consent_never_turns_an_allow_into_a_deny(
    case: Case, data: st.DataObject
) -> None:
    """Monotonicity, with the one exception R7 itself makes: a new agreement in force between two
    members of a hub arrangement displaces their hub route ("two members without a direct
    agreement in force exchange through the hub"), and the direct agreement alone then decides."""
    before = World(case.registry)
    part = data.draw(additions(case))
    after = before.with_additions(part)
    old, new = _decisions(before, case), _decisions(after, case)
    for key, allowed in old.items():
        if not allowed or new[key]:
            continue
        m, h, r, at = key
        was = decide(m, r, at, h, world=before)  # type: ignore[arg-type]
        new_ag = part.agreements[0] if part.agreements else None
        assert was.via_hub and new_ag is not None, key
        assert {h, r} <= set(new_ag.parties) and after.agreement_in_force(new_ag, at), key  # type: ignore[arg-type]


@given(cases(n_dates=6))
@SETTINGS
def test_outside_every_agreements_force_nothing_is_released(case: Case) -> None:
    world = World(case.registry)
    starts = [e.date for a in case.registry.agreements for e in a.events]
    before_all = (min(starts) if starts else day(0)) - timedelta(days=1)
    idle = [
        at
        for at in (*case.dates, before_all)
        if not any(lifecycle.in_force(a, at) for a in case.registry.agreements)
    ]
    parties = sorted(world.parties)
    for at in idle:
        for m in case.markings:
            for h in parties:
                for r in parties:
                    if h != r:
                        d = decide(m, r, at, h, world=world)
                        assert not d.allowed, d.explanation
                        assert "IN_FORCE" in [x.value for x in d.rules]


@given(cases(), st.sampled_from([date(2009, 1, 1), date(2011, 6, 1), date(2013, 1, 1)]))
@SETTINGS
def test_noforn_never_leaves_the_originator(case: Case, at: date) -> None:
    world = World(case.registry)
    for m in case.markings:
        nf = type(m)(**{**{f: getattr(m, f) for f in m.__slots__}, "noforn": True})
        for r in sorted(world.parties):
            if r != m.originator:
                d = decide(nf, r, at, world=world)
                assert not d.allowed and "ORIGINATOR_RESTRICTION" in [x.value for x in d.rules]


def test_additions_never_change_the_real_registry() -> None:
    reg = Registry()
    world = World(reg)
    hyp = world.with_additions(Registry())
    assert world.registry is reg and hyp is not world
    assert files.merge(reg, Registry()) == reg
