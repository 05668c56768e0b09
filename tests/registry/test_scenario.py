"""The demonstration scenario (PRODUCT.md §6) loads, validates and tells the public record.

Each date check below is a fact from docs/reference/domain.md, cited by its source key.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from accord.registry import files
from accord.registry.files import read_file, validate_against
from accord.registry.lifecycle import Status, in_force, next_renewal_deadline, status
from accord.registry.model import Agreement, AgreementKind, Registry

SCENARIO = Path(files.__file__).parent / "scenario" / "demo.yaml"


@pytest.fixture(scope="module")
def loaded() -> tuple[Registry, files._Lines]:
    return read_file(SCENARIO)


@pytest.fixture(scope="module")
def reg(loaded: tuple[Registry, files._Lines]) -> Registry:
    return loaded[0]


def agreement(reg: Registry, agreement_id: str) -> Agreement:
    found = [a for a in reg.agreements if a.id == agreement_id]
    assert found, f"{agreement_id} is missing from the scenario"
    return found[0]


def partners(reg: Registry, party: str, kind: AgreementKind, at: date) -> set[str]:
    """The other parties of `party`'s agreements of `kind` in force on `at`."""
    out: set[str] = set()
    for ag in reg.agreements:
        if ag.kind is kind and ag.binds(party) and in_force(ag, at):
            out.update(p for p in ag.parties if p != party)
    return out


def test_scenario_validates_against_an_empty_world(
    loaded: tuple[Registry, files._Lines],
) -> None:
    registry, lines = loaded
    validate_against(Registry(), registry, lines)


def test_core_parties_and_schemes(reg: Registry) -> None:
    parties = {p.code: p for p in reg.parties}
    assert parties["KOR"].level_codes() == ("I", "II", "III", "U")
    assert parties["JPN"].level_codes() == ("KIMITSU", "GOKUHI", "HI", "U")
    assert parties["USA"].level_codes() == ("TS", "S", "C", "U")
    assert parties["NATO"].level_codes() == ("CTS", "NS", "NC", "NR", "U")
    assert parties["NATO"].kind == "organisation"
    assert parties["UNC"].level_codes() == ("U",)
    assert parties["UNC"].kind == "organisation"
    for code in ("KOR", "JPN", "USA", "NATO", "UNC"):
        assert not parties[code].illustrative, code


def test_generic_schemes_are_marked_illustrative(reg: Registry) -> None:
    for p in reg.parties:
        if p.code != "USA" and p.level_codes() == ("TS", "S", "C", "U"):
            assert p.illustrative, f"{p.code} has a generic scheme but is not illustrative"


# -- Korea's logistics accords: eight in January 2011 (S1, S69), seventeen by 2020 (S70, S116) --


def test_korea_has_eight_logistics_accords_in_force_in_january_2011(reg: Registry) -> None:
    got = partners(reg, "KOR", AgreementKind.LOGISTICS_SUPPORT, date(2011, 1, 6))
    assert got == {"USA", "THA", "NZL", "TUR", "PHL", "ISR", "AUS", "CAN"}


def test_korea_has_seventeen_logistics_partners_by_2020(reg: Registry) -> None:
    got = partners(reg, "KOR", AgreementKind.LOGISTICS_SUPPORT, date(2020, 12, 31))
    assert len(got) == 17


def test_korea_has_33_states_and_nato_as_security_partners_end_2016(reg: Registry) -> None:
    got = partners(reg, "KOR", AgreementKind.INFORMATION_SECURITY, date(2016, 12, 31))
    assert "NATO" in got
    assert len(got - {"NATO"}) == 33  # 2016 Defense White Paper (S11)


# -- Korea–Japan GSOMIA: the reference lifecycle (domain.md §1.5) --

GSOMIA_DAYS = [
    (date(2016, 11, 22), Status.INITIALLED),
    (date(2016, 11, 23), Status.IN_FORCE),
    (date(2019, 8, 22), Status.IN_FORCE),
    (date(2019, 8, 23), Status.NOTICE_GIVEN),
    (date(2019, 11, 22), Status.NOTICE_SUSPENDED),
    (date(2019, 11, 23), Status.NOTICE_SUSPENDED),
    (date(2019, 11, 24), Status.NOTICE_SUSPENDED),
    (date(2023, 3, 20), Status.NOTICE_SUSPENDED),
    (date(2023, 3, 21), Status.IN_FORCE),
    (date(2023, 12, 31), Status.IN_FORCE),
]


@pytest.mark.parametrize(
    ("day", "expected"), GSOMIA_DAYS, ids=[d.isoformat() for d, _ in GSOMIA_DAYS]
)
def test_kor_jpn_gsomia_status(reg: Registry, day: date, expected: Status) -> None:
    assert status(agreement(reg, "kor-jpn-gsomia-2016"), day) is expected


def test_kor_jpn_gsomia_in_force_without_interruption(reg: Registry) -> None:
    ag = agreement(reg, "kor-jpn-gsomia-2016")
    assert not in_force(ag, date(2016, 11, 22))
    day = date(2016, 11, 23)
    while day <= date(2023, 12, 31):
        assert in_force(ag, day), day
        day += timedelta(days=1)


def test_kor_jpn_gsomia_was_never_signed_in_2012(reg: Registry) -> None:
    ag = agreement(reg, "kor-jpn-gsomia-2016")
    assert status(ag, date(2012, 6, 29)) is Status.NEGOTIATING
    assert [e.date.year for e in ag.events if e.kind == "signed"] == [2016]


def test_kor_jpn_gsomia_renewal_deadline_is_24_august(reg: Registry) -> None:
    ag = agreement(reg, "kor-jpn-gsomia-2016")
    assert next_renewal_deadline(ag, date(2019, 1, 1)) == date(2019, 8, 24)  # S5, S6


def test_kor_jpn_gsomia_has_no_level_one_row(reg: Registry) -> None:
    ag = agreement(reg, "kor-jpn-gsomia-2016")
    assert list(ag.equivalence) == [
        {"KOR": "II", "JPN": "GOKUHI"},
        {"KOR": "III", "JPN": "HI"},
        {"KOR": "U", "JPN": "U"},
    ]
    assert not any(row.get("KOR") == "I" or row.get("JPN") == "KIMITSU" for row in ag.equivalence)


def test_kor_jpn_gsomia_events_rest_on_the_notes(reg: Registry) -> None:
    ag = agreement(reg, "kor-jpn-gsomia-2016")
    by_kind = {e.kind.value: e for e in ag.events}
    notes = {n.id: n for n in reg.notes}
    assert by_kind["termination-notified"].effective == date(2019, 11, 23)
    for kind in ("termination-notified", "notice-suspended", "notice-withdrawn"):
        assert by_kind[kind].notes, kind
        for note_id in by_kind[kind].notes:
            assert notes[note_id].agreement == ag.id
    withdrawn = set(by_kind["notice-withdrawn"].notes)
    assert set(by_kind["termination-notified"].notes) <= withdrawn
    assert set(by_kind["notice-suspended"].notes) <= withdrawn


# -- the other headline agreements --

FORCE_DATES = [
    ("kor-usa-gsomia-1987", date(1987, 9, 24)),  # S34
    ("usa-jpn-gsomia-2007", date(2007, 8, 10)),  # S32
    ("tisa-2014", date(2014, 12, 29)),  # S41, S43
    ("kor-usa-mlsa-1988", date(1988, 6, 8)),  # S69
    ("jpn-aus-acsa-2010", date(2013, 1, 31)),  # S66
    ("jpn-fra-acsa-2018", date(2019, 6, 26)),  # S74
    ("jpn-ind-acsa-2020", date(2021, 7, 11)),  # S127
    ("jpn-deu-acsa-2024", date(2024, 7, 12)),  # S128
]


@pytest.mark.parametrize(("agreement_id", "day"), FORCE_DATES, ids=[a for a, _ in FORCE_DATES])
def test_enters_into_force_on_the_public_date(reg: Registry, agreement_id: str, day: date) -> None:
    ag = agreement(reg, agreement_id)
    assert not in_force(ag, day - timedelta(days=1))
    assert in_force(ag, day)


def test_tisa_rests_on_the_bilaterals_through_the_us_hub(reg: Registry) -> None:
    tisa = agreement(reg, "tisa-2014")
    assert tisa.kind is AgreementKind.INFORMATION_ARRANGEMENT
    assert tisa.legal_form == "arrangement"
    assert tisa.hub == "USA"
    assert set(tisa.parties) == {"KOR", "JPN", "USA"}
    assert tisa.scope.topics == ("dprk-nuclear", "dprk-missile")
    assert set(tisa.underlying) == {"kor-usa-gsomia-1987", "usa-jpn-gsomia-2007"}
    for underlying in tisa.underlying:
        assert in_force(agreement(reg, underlying), date(2014, 12, 29))


def test_japan_australia_acsas_do_not_overlap(reg: Registry) -> None:
    old, new = agreement(reg, "jpn-aus-acsa-2010"), agreement(reg, "jpn-aus-acsa-2017")
    assert not old.scope.ammunition.allowed and "ammunition" not in old.scope.categories
    assert new.scope.ammunition.allowed
    day = date(2010, 1, 1)
    while day <= date(2019, 1, 1):
        assert not (in_force(old, day) and in_force(new, day)), day
        day += timedelta(days=1)
    assert in_force(new, date(2018, 1, 1))


def test_japan_acsa_partners_in_april_2024(reg: Registry) -> None:
    # "As of April 2024: concluded with US, AU, UK, CA, FR, IN, and signed with DE" (S67).
    got = partners(reg, "JPN", AgreementKind.LOGISTICS_SUPPORT, date(2024, 4, 1))
    assert got == {"USA", "AUS", "GBR", "CAN", "FRA", "IND"}
    assert status(agreement(reg, "jpn-deu-acsa-2024"), date(2024, 4, 1)) is Status.SIGNED


def test_no_korea_japan_logistics_agreement(reg: Registry) -> None:
    # No ROK–Japan ACSA has been concluded (S67); the talks stopped in 2012 (S168, Korea's note).
    assert not [
        a
        for a in reg.agreements
        if a.kind is AgreementKind.LOGISTICS_SUPPORT and {"KOR", "JPN"} <= set(a.parties)
    ]


# -- sourcing and references --


def test_every_record_cites_a_source(reg: Registry) -> None:
    for p in reg.parties:
        assert p.sources, p.code
    for a in reg.agreements:
        assert a.sources, a.id
        assert a.events, a.id
        for e in a.events:
            assert e.sources, f"{a.id} {e.date} {e.kind}"
    for n in reg.notes:
        assert n.sources, n.id
    for c in reg.consents:
        assert c.sources, c.id
        assert c.illustrative, c.id


def test_every_referenced_party_exists(reg: Registry) -> None:
    codes = {p.code for p in reg.parties}
    for a in reg.agreements:
        assert set(a.parties) <= codes, a.id
        assert a.hub is None or a.hub in codes, a.id
        for row in a.equivalence:
            assert set(row) <= set(a.parties), a.id
    for n in reg.notes:
        assert {n.sender, n.recipient} <= codes, n.id
    for c in reg.consents:
        assert {c.originator, c.holder, *c.recipients} <= codes, c.id


def test_partial_dates_follow_the_convention(reg: Registry) -> None:
    for a in reg.agreements:
        for e in a.events:
            if e.precision == "month":
                assert e.date.day == 1 or e.illustrative, f"{a.id} {e.date}"
            elif e.precision == "year":
                assert (e.date.month, e.date.day) == (12, 31), f"{a.id} {e.date}"
