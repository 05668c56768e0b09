"""R9 USER_ACCESS truth table: clearance ≥ the item's level in the node's scheme, and a
need-to-know group the item names; clearance alone never grants access (GSOMIA Art. 7)."""

from __future__ import annotations

from datetime import date

import pytest
from policy_world import registry

from accord.errors import NotFound
from accord.policy import Marking, User, World, may_access

WORLD = World(registry())
AT = date(2018, 1, 1)


@pytest.mark.parametrize(
    ("user", "marking", "allowed", "level"),
    [
        pytest.param(
            User("kim", "KOR", "II", frozenset({"nk"})),
            Marking.of("KOR", "II", ["dprk-nuclear"], groups=["nk"]),
            True,
            "II",
            id="cleared-and-need-to-know",
        ),
        pytest.param(
            User("kim", "KOR", "I", frozenset()),
            Marking.of("KOR", "II", ["dprk-nuclear"], groups=["nk"]),
            False,
            "II",
            id="rank-alone-never-grants-access",
        ),
        pytest.param(
            User("lee", "KOR", "III", frozenset({"nk"})),
            Marking.of("KOR", "II", ["dprk-nuclear"], groups=["nk"]),
            False,
            "II",
            id="clearance-below-level",
        ),
        pytest.param(
            User("sato", "JPN", "GOKUHI", frozenset({"nk"})),
            Marking.of("KOR", "II", ["dprk-nuclear"], groups=["nk"]),
            True,
            "GOKUHI",
            id="partner-node-level-mapped-into-own-scheme",
        ),
        pytest.param(
            User("sato", "JPN", "HI", frozenset({"nk"})),
            Marking.of("KOR", "II", ["dprk-nuclear"], groups=["nk"]),
            False,
            "GOKUHI",
            id="partner-clearance-below-mapped-level",
        ),
        pytest.param(
            User("sato", "JPN", "KIMITSU", frozenset({"nk"})),
            Marking.of("KOR", "U", ["dprk-nuclear"]),
            False,
            None,
            id="no-row-no-level-at-the-node",
        ),
        pytest.param(
            User("park", "KOR", "U", frozenset()),
            Marking.of("KOR", "U", ["general-military"]),
            True,
            "U",
            id="unclassified-needs-no-group",
        ),
    ],
)
def test_user_access(user: User, marking: Marking, allowed: bool, level: str | None) -> None:
    d = may_access(user, marking, AT, world=WORLD)
    assert d.allowed is allowed, d.explanation
    assert d.level == level
    assert [r.value for r in d.rules] == ["USER_ACCESS"]
    assert d.explanation.startswith("ALLOWED" if allowed else "DENIED")


def test_unknown_clearance_is_named() -> None:
    with pytest.raises(NotFound, match="'TS' is not a level of KOR"):
        may_access(User("x", "KOR", "TS"), Marking.of("KOR", "II"), AT, world=WORLD)
