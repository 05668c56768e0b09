"""What-if worlds and diffs: the Korea–Japan GSOMIA concluded in 2011 instead of 2016."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from policy_world import KOR_JPN, registry

from accord.errors import ImportRejected
from accord.policy import Marking, World, decide, diff, marking_universe
from accord.registry import files, service
from accord.registry.model import Agreement, Event, EventKind, Registry

D = date.fromisoformat
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "whatif-kor-jpn-2011.yaml"

GSOMIA_2011 = KOR_JPN.model_copy(
    update={
        "id": "kor-jpn-2011",
        "events": (Event(date=D("2011-01-06"), kind=EventKind.ENTERED_INTO_FORCE),),
    }
)


@pytest.fixture(scope="module")
def real() -> World:
    return World(registry())


def test_hypothetical_world_decides_differently_and_stores_nothing(real: World) -> None:
    hypo = real.with_additions(Registry(agreements=(GSOMIA_2011,)))
    m = Marking.of("KOR", "II", ["wmd"])
    assert not decide(m, "JPN", D("2012-06-29"), world=real).allowed
    d = decide(m, "JPN", D("2012-06-29"), world=hypo)
    assert d.allowed and d.basis == ("kor-jpn-2011",)
    assert "kor-jpn-2011" not in real.agreements


def test_diff_reports_gains_and_routes_that_stop_needing_the_hub(real: World) -> None:
    hypo = real.with_additions(Registry(agreements=(GSOMIA_2011,)))
    ms = marking_universe(real, parties=["KOR", "JPN", "USA"])
    result = diff(real, hypo, ms, D("2015-06-01"), parties=["KOR", "JPN", "USA"])
    pairs = {(p.holder, p.recipient): p for p in result.pairs}
    assert set(pairs) == {("KOR", "JPN"), ("JPN", "KOR")}
    kj = pairs[("KOR", "JPN")]
    assert {(m.level, *m.topics) for m in kj.unhubbed} == {
        ("II", "dprk-nuclear"),
        ("II", "dprk-missile"),
        ("III", "dprk-nuclear"),
        ("III", "dprk-missile"),
    }
    assert all(m.level in ("II", "III") for m in kj.gained)
    assert {t for m in kj.gained for t in m.topics} >= {"wmd", "general-military"}
    # R7: once Korea and Japan have their own agreement the hub no longer serves them, so the
    # Level I DPRK releases TISA carried are lost (the bilateral table has no Level I row).
    assert {(m.level, *m.topics) for m in kj.lost} == {("I", "dprk-nuclear"), ("I", "dprk-missile")}
    assert kj.hubbed == ()
    assert result.to_json()["markings"] == len(ms)


def test_diff_of_a_world_with_itself_is_empty(real: World) -> None:
    ms = marking_universe(real)
    assert diff(real, real, ms, D("2015-06-01")).pairs == ()


def test_removing_the_arrangement_loses_the_hub_releases() -> None:
    without_tisa = World(
        registry(agreements=tuple(a for a in registry().agreements if a.id != "tisa-2014"))
    )
    result = diff(World(registry()), without_tisa, marking_universe(without_tisa), D("2015-06-01"))
    kj = {(p.holder, p.recipient): p for p in result.pairs}[("KOR", "JPN")]
    assert {m.level for m in kj.lost} == {"I", "II", "III"}


def test_bad_hypothesis_is_rejected_naming_the_problem(real: World) -> None:
    bad = Agreement(id="x", title="x", kind="information-security", parties=("KOR", "ATL"))
    with pytest.raises(ImportRejected, match="ATL"):
        real.with_additions(Registry(agreements=(bad,)))


def test_shipped_example_on_the_demo_scenario() -> None:
    reg, _ = files.read_file(service.scenario_path())
    real = World(reg)
    part, lines = files.read_file(EXAMPLE)
    hypo = real.with_additions(part, lines)
    ms = marking_universe(real, parties=["KOR", "JPN", "USA"])
    before = diff(real, hypo, ms, D("2012-06-29"), parties=["KOR", "JPN", "USA"])
    kj = {(p.holder, p.recipient): p for p in before.pairs}[("KOR", "JPN")]
    assert len(kj.gained) == 3 * 7 and kj.unhubbed == ()  # II, III and U × 7 topics, no TISA yet
    after_real = diff(real, hypo, ms, D("2017-01-01"), parties=["KOR", "JPN", "USA"])
    assert after_real.pairs == ()  # once the real GSOMIA is in force the hypothesis adds nothing
