"""R10 `LOGISTICS_AGREEMENT` and R11 `LOGISTICS_SCOPE` at order creation, as a truth table with
readable ids: Japan–Australia before (2010, no ammunition) and after (2017, ammunition for
exercises and PKO) ammunition became allowed, a humanitarian order under an exercises-only
agreement, a party with no agreement in force. A refused order is not stored."""

from __future__ import annotations

from datetime import date

import pytest

from accord.errors import InputError
from accord.logistics import rules
from accord.logistics import service as S
from accord.logistics.model import OrderState
from accord.registry.model import Registry
from accord.store import Store

FOOD = "food:10:box:100:AUD"
AMMO = "ammunition:500:rd:2.00:AUD:5.56mm"

# id: (requester, supplier, date, purpose, lines, --agreement, expected agreement or rule codes,
#      text the refusal must contain)
TABLE = {
    "kor-usa-food-exercise-ok": (
        "KOR",
        "USA",
        "2024-03-01",
        "exercise",
        ["food:1:t:1:USD"],
        None,
        "kor-usa-mlsa-1988",
        None,
    ),
    "usa-supplies-kor-reverse-direction-ok": (
        "USA",
        "KOR",
        "2024-03-01",
        "disaster-relief",
        ["water:1:t:1000:KRW"],
        None,
        "kor-usa-mlsa-1988",
        None,
    ),
    "kor-gbr-no-agreement-R10": (
        "KOR",
        "GBR",
        "2024-03-01",
        "exercise",
        ["food:1:t:1:GBP"],
        None,
        ["LOGISTICS_AGREEMENT"],
        "no logistics-support agreement is in force between KOR and GBR",
    ),
    "kor-usa-before-1988-R10": (
        "KOR",
        "USA",
        "1987-01-01",
        "exercise",
        ["food:1:t:1:USD"],
        None,
        ["LOGISTICS_AGREEMENT"],
        "1987-01-01",
    ),
    "jpn-aus-2012-before-2010-acsa-in-force-R10": (
        "JPN",
        "AUS",
        "2012-06-01",
        "exercise",
        [FOOD],
        None,
        ["LOGISTICS_AGREEMENT"],
        "between JPN and AUS on 2012-06-01",
    ),
    "jpn-aus-2015-food-under-2010-ok": (
        "JPN",
        "AUS",
        "2015-06-01",
        "exercise",
        [FOOD],
        None,
        "jpn-aus-acsa-2010",
        None,
    ),
    "jpn-aus-2015-ammunition-under-2010-R11": (
        "JPN",
        "AUS",
        "2015-06-01",
        "exercise",
        [FOOD, AMMO],
        None,
        ["LOGISTICS_SCOPE"],
        "line 2 (ammunition): ammunition is not allowed under jpn-aus-acsa-2010 [jpn-aus-acsa-2010 Article 2(2)]",
    ),
    "jpn-aus-2018-ammunition-exercise-under-2017-ok": (
        "JPN",
        "AUS",
        "2018-06-01",
        "exercise",
        [FOOD, AMMO],
        None,
        "jpn-aus-acsa-2017",
        None,
    ),
    "aus-jpn-2018-ammunition-peacekeeping-ok": (
        "AUS",
        "JPN",
        "2018-06-01",
        "peacekeeping",
        [AMMO],
        None,
        "jpn-aus-acsa-2017",
        None,
    ),
    "jpn-aus-2018-ammunition-disaster-relief-R11": (
        "JPN",
        "AUS",
        "2018-06-01",
        "disaster-relief",
        [FOOD, AMMO],
        None,
        ["LOGISTICS_SCOPE"],
        "only for exercise, peacekeeping, not for disaster-relief",
    ),
    "jpn-aus-2018-named-2010-terminated-R10": (
        "JPN",
        "AUS",
        "2018-06-01",
        "exercise",
        [FOOD],
        "jpn-aus-acsa-2010",
        ["LOGISTICS_AGREEMENT"],
        "not in force on 2018-06-01 (status: terminated)",
    ),
    "jpn-aus-2018-weapons-never-R11": (
        "JPN",
        "AUS",
        "2018-06-01",
        "exercise",
        [FOOD, "weapons:1:ea:1000:AUD"],
        None,
        ["LOGISTICS_SCOPE"],
        "line 2 (weapons): weapons are never provided",
    ),
    "kor-can-humanitarian-under-exercises-only-R11": (
        "KOR",
        "CAN",
        "2024-03-01",
        "humanitarian-relief",
        ["food:1:t:1:CAD"],
        None,
        ["LOGISTICS_SCOPE"],
        "'humanitarian-relief' is not covered by kor-can-mlsa (purposes: exercise) [kor-can-mlsa: the agreement's scope]",
    ),
    "kor-can-training-not-in-categories-R11": (
        "KOR",
        "CAN",
        "2024-03-01",
        "exercise",
        ["food:1:t:1:CAD", "training:3:day:10:CAD"],
        None,
        ["LOGISTICS_SCOPE"],
        "line 2 (training)",
    ),
    "kor-can-purpose-and-line-both-R11": (
        "KOR",
        "CAN",
        "2024-03-01",
        "evacuation",
        ["weapons:1:ea:1:CAD"],
        None,
        ["LOGISTICS_SCOPE"],
        "line 1 (weapons)",
    ),
    "kor-jpn-named-information-agreement-R10": (
        "KOR",
        "JPN",
        "2024-03-01",
        "exercise",
        ["food:1:t:1:JPY"],
        "kor-jpn-gsomia",
        ["LOGISTICS_AGREEMENT"],
        "not a logistics-support agreement",
    ),
    "kor-usa-named-agreement-of-others-R10": (
        "KOR",
        "USA",
        "2024-03-01",
        "exercise",
        ["food:1:t:1:USD"],
        "jpn-aus-acsa-2017",
        ["LOGISTICS_AGREEMENT"],
        "does not bind KOR and USA",
    ),
    "kor-usa-named-unknown-agreement-R10": (
        "KOR",
        "USA",
        "2024-03-01",
        "exercise",
        ["food:1:t:1:USD"],
        "nope",
        ["LOGISTICS_AGREEMENT"],
        "'nope' is not a known agreement",
    ),
}


@pytest.mark.parametrize(
    ("requester", "supplier", "on", "purpose", "lines", "agreement", "expected", "text"),
    [pytest.param(*v, id=k) for k, v in TABLE.items()],
)
def test_order_creation_truth_table(
    loaded: Store,
    world: Registry,
    requester: str,
    supplier: str,
    on: str,
    purpose: str,
    lines: list[str],
    agreement: str | None,
    expected: str | list[str],
    text: str | None,
) -> None:
    def create() -> OrderState:
        return S.create(
            loaded,
            world,
            requester=requester,
            supplier=supplier,
            purpose=purpose,
            order_date=date.fromisoformat(on),
            settlement="cash",
            lines=S.parse_lines(lines),
            by="officer",
            agreement=agreement,
        )

    if isinstance(expected, str):
        state = create()
        assert state.order.agreement == expected
        assert state.status == "requested"
        assert len(S.list_orders(loaded)) == 1
    else:
        with pytest.raises(rules.OrderRefused) as err:
            create()
        assert err.value.rules == expected
        assert text is not None and text in str(err.value)
        assert S.list_orders(loaded) == []  # nothing stored


def test_refusal_problems_carry_rule_line_and_article(world: Registry) -> None:
    lines = S.parse_lines([FOOD, AMMO, "weapons:1:ea:1:AUD"])
    ag, problems = rules.choose_agreement(world, "JPN", "AUS", date(2015, 6, 1), "exercise", lines)
    assert ag is not None and ag.id == "jpn-aus-acsa-2010"
    assert [(p.rule, p.line, p.article) for p in problems] == [
        ("LOGISTICS_SCOPE", 2, "jpn-aus-acsa-2010 Article 2(2)"),
        ("LOGISTICS_SCOPE", 3, "jpn-aus-acsa-2010 Article 2"),
    ]


def test_choice_among_agreements_in_force_is_deterministic(world: Registry) -> None:
    # Add an older agreement that is still in force alongside the 2017 one: the most recent
    # entry into force is preferred, unless only the older one covers the order.
    overlap = world.agreements[1].model_copy(
        update={"id": "jpn-aus-old", "events": world.agreements[1].events[:1]}
    )
    reg = world.model_copy(update={"agreements": (*world.agreements, overlap)})
    on = date(2018, 6, 1)
    food = S.parse_lines([FOOD])
    ammo = S.parse_lines([AMMO])
    assert [a.id for a in rules.candidates(reg, "JPN", "AUS", on)] == [
        "jpn-aus-acsa-2017",
        "jpn-aus-old",
    ]
    assert (
        rules.choose_agreement(reg, "JPN", "AUS", on, "exercise", food)[0].id == "jpn-aus-acsa-2017"
    )  # type: ignore[union-attr]
    assert (
        rules.choose_agreement(reg, "JPN", "AUS", on, "exercise", ammo)[0].id == "jpn-aus-acsa-2017"
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"purpose": "sightseeing"}, id="unknown-purpose"),
        pytest.param({"settlement": "barter"}, id="unknown-settlement-method"),
        pytest.param({"supplier": "KOR"}, id="same-party-both-sides"),
        pytest.param({"facility": "atlantis"}, id="unknown-facility"),
        pytest.param({"supplier": "XXX"}, id="unknown-party"),
    ],
)
def test_malformed_orders_are_input_errors(
    loaded: Store, world: Registry, kw: dict[str, str]
) -> None:
    args: dict[str, object] = dict(
        requester="KOR",
        supplier="USA",
        purpose="exercise",
        order_date=date(2024, 3, 1),
        settlement="cash",
        lines=S.parse_lines(["food:1:t:1:USD"]),
        by="officer",
    )
    args.update(kw)
    with pytest.raises(InputError):
        S.create(loaded, world, **args)  # type: ignore[arg-type]
    assert S.list_orders(loaded) == []


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("food:1:t:1", id="too-few-fields"),
        pytest.param("food:x:t:1:USD", id="quantity-not-a-number"),
        pytest.param("food:1:t:1.005:USD", id="price-finer-than-cents"),
        pytest.param("food:1:t:1.5:KRW", id="price-fraction-of-a-won"),
        pytest.param("food:1:t:1:XYZ", id="unknown-currency"),
        pytest.param("rockets:1:t:1:USD", id="unknown-category"),
        pytest.param("food:-1:t:1:USD", id="negative-quantity"),
    ],
)
def test_malformed_lines_are_input_errors(spec: str) -> None:
    with pytest.raises(InputError):
        S.parse_lines([spec])


def test_facility_and_exercise_are_recorded(loaded: Store, world: Registry) -> None:
    s = S.create(
        loaded,
        world,
        requester="USA",
        supplier="KOR",
        purpose="exercise",
        order_date=date(2024, 3, 1),
        settlement="cash",
        lines=S.parse_lines(["billeting:30:night:85000:KRW:barracks"]),
        by="officer",
        facility="camp-humphreys",
        exercise="Freedom Shield 24",
        fund="O&M-2024",
        arrangement="kor-usa-ia-2012",
    )
    got, _ = S.get(loaded, s.id)
    assert (got.order.facility, got.order.exercise, got.order.fund, got.order.arrangement) == (
        "camp-humphreys",
        "Freedom Shield 24",
        "O&M-2024",
        "kor-usa-ia-2012",
    )
    assert got.ordered == {"KRW": 2550000}
