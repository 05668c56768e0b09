"""What-if for logistics support (accord.logistics.whatif): a hypothetical ACSA makes orders
possible, a termination makes them impossible, a narrower scope loses categories."""

from __future__ import annotations

from datetime import date

from accord.logistics.whatif import categories, support_diff
from accord.registry import files, service
from accord.registry.model import Agreement, Event, EventKind, Registry, Scope

REGISTRY = files.read_file(service.scenario_path())[0]
ON = date(2024, 6, 3)


def with_agreements(*extra: Agreement) -> Registry:
    return files.merge(REGISTRY, Registry(agreements=extra))


def acsa(parties: tuple[str, ...], **kw: object) -> Agreement:
    return Agreement(
        id=kw.pop("id", "kor-jpn-acsa-hypothetical"),  # type: ignore[arg-type]
        title="Hypothetical ACSA",
        kind="logistics-support",
        parties=parties,
        events=(Event(date=date(2020, 1, 1), kind=EventKind.ENTERED_INTO_FORCE),),
        **kw,  # type: ignore[arg-type]
    )


def test_a_korea_japan_acsa_makes_orders_possible() -> None:
    found = support_diff(REGISTRY, with_agreements(acsa(("KOR", "JPN"))), ON)
    assert [(d.parties, d.change) for d in found] == [(("JPN", "KOR"), "possible")]
    only = found[0]
    assert only.before == () and only.after == ("kor-jpn-acsa-hypothetical",)
    assert "food" in only.gained and "weapons" not in only.gained
    assert "ammunition" not in only.gained  # not listed: not covered (R11)


def test_nothing_changes_without_a_logistics_change() -> None:
    assert support_diff(REGISTRY, REGISTRY, ON) == ()


def test_a_terminated_acsa_makes_orders_impossible() -> None:
    base = with_agreements(acsa(("KOR", "JPN")))
    ended = acsa(("KOR", "JPN")).model_copy(
        update={
            "events": (
                Event(date=date(2020, 1, 1), kind=EventKind.ENTERED_INTO_FORCE),
                Event(date=date(2023, 1, 1), kind=EventKind.TERMINATED),
            )
        }
    )
    found = support_diff(base, with_agreements(ended), ON)
    assert [(d.parties, d.change) for d in found] == [(("JPN", "KOR"), "impossible")]
    assert found[0].to_json()["categories_lost"]


def test_categories_of_a_scoped_agreement() -> None:
    ag = acsa(("KOR", "JPN"), scope=Scope(categories=("food", "water")))
    assert categories(ag) == ("food", "water")
    wide = support_diff(with_agreements(acsa(("KOR", "JPN"))), with_agreements(ag), ON)
    assert wide[0].change == "scope" and "petroleum" in wide[0].lost
