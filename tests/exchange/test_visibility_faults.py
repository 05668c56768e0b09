"""A principal's view leaves out only what the registry does not know; a defect anywhere in the
decision is an error, never a silently hidden item (accord.exchange.visibility)."""

from __future__ import annotations

from datetime import date

import pytest

from accord.exchange import visibility
from accord.exchange.marking_rows import MarkingIndex
from accord.policy.marking import Marking
from accord.policy.world import World
from accord.principals import Principal
from accord.registry.files import read_file
from accord.registry.service import scenario_path

AT = date(2024, 6, 3)
PARTNER = Principal("jpn-node", "partner", "JPN")
ANALYST = Principal("analyst", "user", "KOR", "II", frozenset({"military"}))


@pytest.fixture(scope="module")
def world() -> World:
    registry, _lines = read_file(scenario_path())
    return World(registry)


def _index(*markings: Marking) -> MarkingIndex:
    rows = dict(enumerate(markings, start=1))
    ids = {r: f"marking-definition--{r:08d}-0000-4000-8000-000000000000" for r in rows}
    return MarkingIndex(rows, ids, {v: k for k, v in ids.items()}, len(rows))


@pytest.mark.parametrize("who", [PARTNER, ANALYST], ids=["partner", "user"])
def test_a_marking_the_registry_does_not_know_is_left_out(world: World, who: Principal) -> None:
    known = Marking.of("KOR", "III", ["general-military"], groups=["military"])
    unknown = Marking.of("KOR", "IV", ["general-military"], groups=["military"])  # no level IV
    view = visibility.compute_view(world, "KOR", who, _index(known, unknown), AT)
    assert view.rows == {1}


@pytest.mark.parametrize("who", [PARTNER, ANALYST], ids=["partner", "user"])
def test_a_defect_in_the_decision_is_raised_not_hidden(
    world: World, who: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise TypeError("a defect")

    monkeypatch.setattr(visibility, "decide", broken)
    monkeypatch.setattr(visibility, "may_access", broken)
    with pytest.raises(TypeError):
        visibility.compute_view(
            world, "KOR", who, _index(Marking.of("KOR", "III", ["general-military"])), AT
        )
