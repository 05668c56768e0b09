"""Truth tables for decide(): every rule code R1–R8 on a fixture world mirroring the Korea–Japan
history and TISA (domain.md §1.5, §2), then the same questions on the shipped demo scenario."""

from __future__ import annotations

from datetime import date

import pytest
from policy_world import KOR_USA, TISA, USA_JPN, registry

from accord.errors import InputError
from accord.policy import Marking, Rule, World, decide
from accord.registry import files, service
from accord.registry.model import Event, EventKind

D = date.fromisoformat
WORLD = World(registry())

ALLOW_DIRECT = (
    "IN_FORCE",
    "LEVEL_MAPPED",
    "TOPIC_SCOPE",
    "PURPOSE",
    "ORIGINATOR_RESTRICTION",
    "THIRD_PARTY",
    "NO_RECALL",
)
ALLOW_HUB = (*ALLOW_DIRECT[:6], "HUB_ROUTE", "NO_RECALL")


def m(
    originator: str = "KOR",
    level: str = "II",
    topics: tuple[str, ...] = ("dprk-nuclear",),
    purpose: str = "defence",
    rel_to: tuple[str, ...] | None = None,
    noforn: bool = False,
    orcon: bool = False,
    id: str | None = None,
) -> Marking:
    return Marking.of(originator, level, topics, purpose, rel_to, noforn, orcon, id)


# (marking, recipient, date, holder, allowed, rules, route, recipient level)
CASES = [
    # ---- R1 IN_FORCE and R7 HUB_ROUTE: Korea–Japan, 2013 → 2023 ----
    pytest.param(
        m(),
        "JPN",
        "2013-01-01",
        None,
        False,
        ("IN_FORCE", "HUB_ROUTE"),
        (),
        None,
        id="R1-kor-jpn-2013-nothing-in-force",
    ),
    pytest.param(
        m(),
        "JPN",
        "2014-12-28",
        None,
        False,
        ("IN_FORCE", "HUB_ROUTE"),
        (),
        None,
        id="R1-kor-jpn-eve-of-tisa",
    ),
    pytest.param(
        m(),
        "JPN",
        "2014-12-29",
        None,
        True,
        ALLOW_HUB,
        ("KOR", "USA", "JPN"),
        "GOKUHI",
        id="R7-kor-jpn-tisa-day-one-via-usa",
    ),
    pytest.param(
        m(topics=("dprk-missile",)),
        "JPN",
        "2016-11-22",
        None,
        True,
        ALLOW_HUB,
        ("KOR", "USA", "JPN"),
        "GOKUHI",
        id="R7-eve-of-gsomia-still-via-hub",
    ),
    pytest.param(
        m(),
        "JPN",
        "2016-11-23",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "GOKUHI",
        id="R1-gsomia-in-force-direct-preferred",
    ),
    pytest.param(
        m(),
        "JPN",
        "2019-08-23",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "GOKUHI",
        id="R1-notice-given-still-in-force",
    ),
    pytest.param(
        m(),
        "JPN",
        "2019-11-22",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "GOKUHI",
        id="R1-notice-suspended",
    ),
    pytest.param(
        m(),
        "JPN",
        "2019-11-23",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "GOKUHI",
        id="R1-would-have-ended-2019-11-23",
    ),
    pytest.param(
        m(level="III"),
        "JPN",
        "2023-03-21",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "HI",
        id="R1-notes-withdrawn-2023",
    ),
    pytest.param(
        m(originator="JPN", level="GOKUHI"),
        "KOR",
        "2015-06-01",
        None,
        True,
        ALLOW_HUB,
        ("JPN", "USA", "KOR"),
        "II",
        id="R7-jpn-to-kor-via-usa",
    ),
    pytest.param(
        m(),
        "USA",
        "1987-09-23",
        None,
        False,
        ("IN_FORCE",),
        (),
        None,
        id="R1-kor-usa-day-before-1987",
    ),
    pytest.param(
        m(),
        "USA",
        "1987-09-24",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "USA"),
        "S",
        id="R1-kor-usa-1987-in-force-on-signature",
    ),
    pytest.param(m(), "AUS", "2020-06-01", None, False, ("IN_FORCE",), (), None, id="R1-suspended"),
    pytest.param(
        m(), "AUS", "2021-01-01", None, True, ALLOW_DIRECT, ("KOR", "AUS"), "S", id="R1-resumed"
    ),
    pytest.param(
        m(), "AUS", "2024-06-01", None, False, ("IN_FORCE",), (), None, id="R1-terminated"
    ),
    # ---- R2 LEVEL_MAPPED ----
    pytest.param(
        m(level="I"),
        "JPN",
        "2017-01-01",
        None,
        False,
        ("LEVEL_MAPPED",),
        (),
        None,
        id="R2-no-level-I-row-and-the-gsomia-rules-out-the-hub",
    ),
    pytest.param(
        m(level="I"),
        "JPN",
        "2016-11-22",
        None,
        True,
        ALLOW_HUB,
        ("KOR", "USA", "JPN"),
        "KIMITSU",
        id="R7-level-I-through-tisa-the-day-before-the-gsomia",
    ),
    pytest.param(
        m(level="I", topics=("wmd",)),
        "JPN",
        "2017-01-01",
        None,
        False,
        ("LEVEL_MAPPED",),
        (),
        None,
        id="R2-level-I-wmd-no-row-the-gsomia-decides-alone",
    ),
    pytest.param(
        m(level="I"),
        "JPN",
        "2015-06-01",
        None,
        True,
        ALLOW_HUB,
        ("KOR", "USA", "JPN"),
        "KIMITSU",
        id="R2-level-I-via-tisa-row-before-gsomia",
    ),
    pytest.param(
        m(level="III"),
        "JPN",
        "2017-01-01",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "HI",
        id="R2-level-III-maps-to-hi",
    ),
    pytest.param(
        m(level="U"),
        "JPN",
        "2017-01-01",
        None,
        False,
        ("LEVEL_MAPPED",),
        (),
        None,
        id="R2-unclassified-has-no-row",
    ),
    pytest.param(
        m(level="I"),
        "USA",
        "2000-01-01",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "USA"),
        "TS",
        id="R2-level-I-to-usa-ts",
    ),
    # ---- R3 TOPIC_SCOPE ----
    pytest.param(
        m(topics=("wmd",)),
        "JPN",
        "2015-06-01",
        None,
        False,
        ("IN_FORCE", "TOPIC_SCOPE", "HUB_ROUTE"),
        (),
        None,
        id="R3-wmd-outside-tisa",
    ),
    pytest.param(
        m(topics=("dprk-nuclear", "wmd")),
        "JPN",
        "2015-06-01",
        None,
        False,
        ("IN_FORCE", "TOPIC_SCOPE", "HUB_ROUTE"),
        (),
        None,
        id="R3-one-topic-outside-tisa",
    ),
    pytest.param(
        m(topics=("wmd",)),
        "JPN",
        "2017-01-01",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "GOKUHI",
        id="R3-wmd-under-gsomia-all-topics",
    ),
    pytest.param(
        m(topics=("dprk-missile",)),
        "JPN",
        "2015-06-01",
        None,
        True,
        ALLOW_HUB,
        ("KOR", "USA", "JPN"),
        "GOKUHI",
        id="R3-dprk-missile-inside-tisa",
    ),
    # ---- R4 PURPOSE ----
    pytest.param(
        m(purpose="intelligence"),
        "AUS",
        "2010-01-01",
        None,
        False,
        ("PURPOSE",),
        (),
        None,
        id="R4-purpose-not-covered",
    ),
    pytest.param(
        m(purpose="defence"),
        "AUS",
        "2010-01-01",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "AUS"),
        "S",
        id="R4-purpose-covered",
    ),
    # ---- R5 ORIGINATOR_RESTRICTION ----
    pytest.param(
        m(noforn=True),
        "USA",
        "2017-01-01",
        None,
        False,
        ("ORIGINATOR_RESTRICTION",),
        (),
        None,
        id="R5-noforn",
    ),
    pytest.param(
        m(rel_to=("USA",)),
        "JPN",
        "2017-01-01",
        None,
        False,
        ("ORIGINATOR_RESTRICTION",),
        (),
        None,
        id="R5-rel-to-excludes-recipient",
    ),
    pytest.param(
        m(rel_to=("USA", "JPN")),
        "JPN",
        "2017-01-01",
        None,
        True,
        ALLOW_DIRECT,
        ("KOR", "JPN"),
        "GOKUHI",
        id="R5-rel-to-includes-recipient",
    ),
    pytest.param(
        m(rel_to=("JPN",)),
        "JPN",
        "2015-06-01",
        None,
        False,
        ("IN_FORCE", "ORIGINATOR_RESTRICTION", "HUB_ROUTE"),
        (),
        None,
        id="R5-rel-to-excludes-the-hub",
    ),
    pytest.param(
        m(noforn=True, purpose="intelligence"),
        "AUS",
        "2010-01-01",
        None,
        False,
        ("PURPOSE", "ORIGINATOR_RESTRICTION"),
        (),
        None,
        id="R4-R5-all-failures-listed",
    ),
    # ---- R6 THIRD_PARTY ----
    pytest.param(
        m(),
        "AUS",
        "2016-01-01",
        "USA",
        True,
        ALLOW_DIRECT,
        ("USA", "AUS"),
        "S",
        id="R6-usa-onward-with-consent",
    ),
    pytest.param(
        m(),
        "AUS",
        "2014-06-01",
        "USA",
        False,
        ("THIRD_PARTY",),
        (),
        None,
        id="R6-consent-not-yet-valid",
    ),
    pytest.param(
        m(), "AUS", "2026-01-01", "USA", False, ("THIRD_PARTY",), (), None, id="R6-consent-expired"
    ),
    pytest.param(
        m(topics=("wmd",)),
        "AUS",
        "2016-01-01",
        "USA",
        False,
        ("THIRD_PARTY",),
        (),
        None,
        id="R6-topic-outside-consent",
    ),
    pytest.param(
        m(level="I"),
        "AUS",
        "2016-01-01",
        "USA",
        False,
        ("THIRD_PARTY",),
        (),
        None,
        id="R6-level-above-consent-max",
    ),
    pytest.param(
        m(),
        "JPN",
        "2016-01-01",
        "USA",
        True,
        ALLOW_DIRECT,
        ("USA", "JPN"),
        "GOKUHI",
        id="R6-hub-holder-consent-to-arrangement-members",
    ),
    pytest.param(
        m(),
        "JPN",
        "2014-12-30",
        "USA",
        False,
        ("THIRD_PARTY",),
        (),
        None,
        id="R6-hub-holder-without-recorded-consent",
    ),
    pytest.param(
        m(level="III", orcon=True, id="m-orcon-1"),
        "USA",
        "2018-01-01",
        "JPN",
        True,
        ALLOW_DIRECT,
        ("JPN", "USA"),
        "C",
        id="R6-orcon-per-item-consent",
    ),
    pytest.param(
        m(level="III", orcon=True, id="m-orcon-2"),
        "USA",
        "2018-01-01",
        "JPN",
        False,
        ("THIRD_PARTY",),
        (),
        None,
        id="R6-orcon-other-item-no-consent",
    ),
    pytest.param(
        m(level="III"),
        "USA",
        "2018-01-01",
        "JPN",
        False,
        ("THIRD_PARTY",),
        (),
        None,
        id="R6-jpn-onward-without-consent",
    ),
    pytest.param(
        m(level="III"),
        "KOR",
        "2018-01-01",
        "JPN",
        True,
        ALLOW_DIRECT,
        ("JPN", "KOR"),
        "III",
        id="R6-return-to-originator-needs-no-consent",
    ),
]


@pytest.mark.parametrize(
    ("marking", "to", "day", "holder", "allowed", "rules", "route", "level"), CASES
)
def test_truth_table(
    marking: Marking,
    to: str,
    day: str,
    holder: str | None,
    allowed: bool,
    rules: tuple[str, ...],
    route: tuple[str, ...],
    level: str | None,
) -> None:
    d = decide(marking, to, D(day), holder, world=WORLD)
    assert d.allowed is allowed, d.explanation
    assert tuple(r.value for r in d.rules) == rules, d.explanation
    assert d.route == route
    assert d.recipient_level == level
    assert (d.failed == ()) is allowed and (d.satisfied == ()) is (not allowed)
    for r in d.failed:  # every failing rule is explained
        assert r.value in d.explanation
    assert d.explanation.startswith("ALLOWED" if allowed else "DENIED")


def test_hub_route_records_the_originators_consent_and_names_the_basis() -> None:
    d = decide(m(id="item-1"), "JPN", D("2015-06-01"), world=WORLD)
    assert d.recorded_consent is not None
    assert (d.recorded_consent.holder, d.recorded_consent.recipient) == ("USA", "JPN")
    assert d.recorded_consent.item == "item-1"
    assert d.basis == ("tisa-2014", "kor-usa-gsomia-1987", "usa-jpn-gsomia-2007")
    assert [(h.holder, h.recipient, h.level, h.recipient_level) for h in d.hops] == [
        ("KOR", "USA", "II", "S"),
        ("USA", "JPN", "S", "GOKUHI"),
    ]
    assert [h.consent_kind for h in d.hops] == ["originator", "implied"]


def test_onward_release_basis_names_the_consent_and_re_marks_at_the_holders_level() -> None:
    d = decide(m(), "AUS", D("2016-01-01"), "USA", world=WORLD)
    assert d.basis == ("usa-aus-isa", "kor-usa-to-aus")
    assert d.hops[0].level == "S"  # KOR II re-marked SECRET on receipt (Art. 4)


def test_direct_release_records_no_consent() -> None:
    assert decide(m(), "JPN", D("2017-01-01"), world=WORLD).recorded_consent is None


def test_terminated_agreement_explanation_cites_no_recall() -> None:
    d = decide(m(), "AUS", D("2024-06-01"), world=WORLD)
    assert "NO_RECALL" in d.explanation and "terminated" in d.explanation


def test_arrangement_is_no_basis_when_an_underlying_agreement_is_not_in_force() -> None:
    suspended = USA_JPN.model_copy(
        update={
            "events": (
                *USA_JPN.events,
                Event(date=D("2015-01-01"), kind=EventKind.SUSPENDED),
            )
        }
    )
    world = World(registry(agreements=(KOR_USA, suspended, TISA)))
    d = decide(m(), "JPN", D("2015-06-01"), world=world)
    assert not d.allowed
    assert [r.value for r in d.rules] == ["IN_FORCE", "HUB_ROUTE"]
    assert "tisa-2014 rests on usa-jpn-gsomia-2007" in d.explanation


def test_json_carries_the_contract_fields() -> None:
    out = decide(m(), "JPN", D("2015-06-01"), world=WORLD).to_json()
    assert out["allowed"] is True
    assert out["route"] == ["KOR", "USA", "JPN"]
    assert out["recipient_level"] == "GOKUHI"
    assert "HUB_ROUTE" in out["rules"]  # type: ignore[operator]
    assert isinstance(out["explanation"], str) and out["basis"]


@pytest.mark.parametrize(
    ("marking", "to", "holder", "message"),
    [
        pytest.param(m(originator="XXX"), "JPN", None, "'XXX' is not a known party", id="party"),
        pytest.param(m(level="TS"), "JPN", None, "'TS' is not a level of KOR", id="level"),
        pytest.param(m(topics=("weather",)), "JPN", None, "'weather'", id="topic"),
        pytest.param(m(), "ZZZ", None, "'ZZZ' is not a known party", id="recipient"),
        pytest.param(m(), "KOR", None, "holder and recipient", id="self"),
    ],
)
def test_bad_input_is_named(marking: Marking, to: str, holder: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decide(marking, to, D("2017-01-01"), holder, world=WORLD)


def test_decide_is_deterministic_and_pure() -> None:
    before = WORLD.registry
    a = decide(m(topics=("wmd",)), "JPN", D("2015-06-01"), world=WORLD)
    b = decide(m(topics=("wmd",)), "JPN", D("2015-06-01"), world=World(registry()))
    assert a == b
    assert WORLD.registry is before


def test_every_rule_code_is_spelled_as_in_the_product_spec() -> None:
    assert [r.value for r in Rule] == [
        "IN_FORCE",
        "LEVEL_MAPPED",
        "TOPIC_SCOPE",
        "PURPOSE",
        "ORIGINATOR_RESTRICTION",
        "THIRD_PARTY",
        "HUB_ROUTE",
        "NO_RECALL",
        "USER_ACCESS",
    ]


# ---- the shipped demonstration scenario ----------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> World:
    reg, _ = files.read_file(service.scenario_path())
    return World(reg)


@pytest.mark.parametrize(
    ("marking", "day", "allowed", "route", "level"),
    [
        pytest.param(m(), "2014-12-28", False, (), None, id="before-tisa"),
        pytest.param(m(), "2014-12-29", True, ("KOR", "USA", "JPN"), "GOKUHI", id="tisa"),
        pytest.param(m(topics=("wmd",)), "2015-06-01", False, (), None, id="wmd-outside-tisa"),
        pytest.param(m(), "2016-11-23", True, ("KOR", "JPN"), "GOKUHI", id="gsomia"),
        pytest.param(
            m(level="I"),
            "2016-11-22",
            True,
            ("KOR", "USA", "JPN"),
            "KIMITSU",
            id="level-I-via-tisa-the-day-before",
        ),
        pytest.param(m(level="I"), "2016-11-23", False, (), None, id="level-I-no-row-once-direct"),
        pytest.param(m(level="I"), "2019-11-23", False, (), None, id="level-I-notice-suspended"),
        pytest.param(
            m(level="I", topics=("wmd",)), "2016-11-23", False, (), None, id="level-I-wmd"
        ),
        pytest.param(m(), "2019-11-22", True, ("KOR", "JPN"), "GOKUHI", id="notice-suspended"),
        pytest.param(m(), "2019-11-23", True, ("KOR", "JPN"), "GOKUHI", id="not-ended"),
        pytest.param(m(level="III"), "2023-03-21", True, ("KOR", "JPN"), "HI", id="withdrawn"),
    ],
)
def test_demo_scenario_korea_japan(
    demo: World,
    marking: Marking,
    day: str,
    allowed: bool,
    route: tuple[str, ...],
    level: str | None,
) -> None:
    d = decide(marking, "JPN", D(day), world=demo)
    assert (d.allowed, d.route, d.recipient_level) == (allowed, route, level), d.explanation
