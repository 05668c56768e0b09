"""Differential test: the engine against an independent Cedar oracle (tests/policy/cedar_oracle.py)
on random worlds. Every direct and onward decision must agree — allowed or not, and for an allow
the route and the recipient's level must be among those Cedar permits (hub routes hop by hop)."""

from __future__ import annotations

from datetime import date

import pytest
from cedar_oracle import Oracle, in_force_on, intervals
from hypothesis import HealthCheck, given, note, settings
from policy_world import KOR_JPN, TISA
from random_worlds import Case, cases, describe

from accord.policy import World, decide
from accord.registry import lifecycle

# a differential test against the Cedar oracle: the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow

EXAMPLES = 60
N_MARKINGS = 8
MIN_DECISIONS = 10_000


def _check(case: Case, counter: list[int]) -> None:
    world = World(case.registry)
    oracle = Oracle(case.registry, case.markings)
    note(describe(case))
    parties = sorted(world.parties)
    for at in case.dates:
        for holder in parties:
            for to in parties:
                if to == holder:
                    continue
                for m in case.markings:
                    d = decide(m, to, at, holder, world=world)
                    ok, permitted = oracle.decide(m, to, at, holder)
                    counter[0] += 1
                    where = f"{m!r} {holder}→{to} on {at}: engine {d.allowed}, Cedar {ok}"
                    assert d.allowed == ok, where + "\n" + d.explanation + "\n" + describe(case)
                    if d.allowed:
                        got = (d.route, d.recipient_level)
                        assert got in permitted, f"{where}: {got} not in {permitted}"


def test_engine_agrees_with_cedar_on_random_worlds() -> None:
    counter = [0]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=True,
    )
    @given(cases(n_markings=N_MARKINGS))
    def run(case: Case) -> None:
        _check(case, counter)

    run()
    assert counter[0] >= MIN_DECISIONS, f"only {counter[0]} decisions compared"


@given(cases(n_markings=1, n_dates=6))
@settings(max_examples=150, deadline=None)
def test_oracle_lifecycle_agrees_with_accord_lifecycle(case: Case) -> None:
    # The oracle's own interval derivation and accord's lifecycle agree on every random history
    # (a cross-check of the harness itself, so a disagreement above is the engine's, not this).
    for ag in case.registry.agreements:
        for at in case.dates:
            assert in_force_on(ag, at) == lifecycle.in_force(ag, at), (ag.events, at)


def test_oracle_lifecycle_on_the_korea_japan_history() -> None:
    assert intervals(KOR_JPN) == [(date(2016, 11, 23), None)]
    assert intervals(TISA) == [(date(2014, 12, 29), None)]
