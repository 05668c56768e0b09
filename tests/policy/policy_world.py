"""A small fixture world mirroring the demonstration scenario's facts (domain.md §1.4, §1.5, §2),
built in Python so the truth tables do not depend on the shipped YAML, plus a few illustrative
agreements and consents that exercise R4 and R6."""

from __future__ import annotations

from datetime import date

from accord.registry.model import (
    Agreement,
    Consent,
    Event,
    EventKind,
    Level,
    Party,
    Registry,
    Scope,
    Term,
)

D = date.fromisoformat


def _levels(*codes: str) -> tuple[Level, ...]:
    return tuple(Level(code=c, name=c) for c in codes)


def _events(*evs: tuple[str, str] | tuple[str, str, str]) -> tuple[Event, ...]:
    return tuple(
        Event(
            date=D(e[0]),
            kind=EventKind(e[1]),
            effective=D(e[2]) if len(e) == 3 else None,
        )
        for e in evs
    )


PARTIES = (
    Party(code="KOR", name="Korea", levels=_levels("I", "II", "III", "U")),
    Party(code="JPN", name="Japan", levels=_levels("KIMITSU", "GOKUHI", "HI", "U")),
    Party(code="USA", name="United States", levels=_levels("TS", "S", "C", "U")),
    Party(code="AUS", name="Australia", levels=_levels("TS", "S", "C", "U")),
)

KOR_USA = Agreement(
    id="kor-usa-gsomia-1987",
    title="Korea–US security agreement",
    kind="information-security",
    parties=("KOR", "USA"),
    equivalence=({"KOR": "I", "USA": "TS"}, {"KOR": "II", "USA": "S"}, {"KOR": "III", "USA": "C"}),
    events=_events(("1987-09-24", "signed"), ("1987-09-24", "entered-into-force")),
)
USA_JPN = Agreement(
    id="usa-jpn-gsomia-2007",
    title="US–Japan GSOMIA",
    kind="information-security",
    parties=("USA", "JPN"),
    equivalence=(
        {"USA": "TS", "JPN": "KIMITSU"},
        {"USA": "S", "JPN": "GOKUHI"},
        {"USA": "C", "JPN": "HI"},
    ),
    events=_events(("2007-08-10", "entered-into-force")),
)
KOR_JPN = Agreement(
    id="kor-jpn-gsomia-2016",
    title="Korea–Japan GSOMIA",
    kind="information-security",
    parties=("KOR", "JPN"),
    # No Level I / 機密 row (Art. 4; S12).
    equivalence=({"KOR": "II", "JPN": "GOKUHI"}, {"KOR": "III", "JPN": "HI"}),
    term=Term(initial="1y", renewal="1y", notice="90d", deadline="exclusive"),
    articles={"equivalence": "Art. 4", "third-party": "Art. 6"},
    events=_events(
        ("2011-01-10", "negotiating"),
        ("2016-11-23", "signed"),
        ("2016-11-23", "entered-into-force"),
        ("2019-08-23", "termination-notified", "2019-11-23"),
        ("2019-11-22", "notice-suspended"),
        ("2023-03-21", "notice-withdrawn"),
    ),
)
TISA = Agreement(
    id="tisa-2014",
    title="Trilateral Information Sharing Arrangement",
    kind="information-arrangement",
    legal_form="arrangement",
    parties=("KOR", "JPN", "USA"),
    hub="USA",
    underlying=("kor-usa-gsomia-1987", "usa-jpn-gsomia-2007"),
    scope=Scope(topics=("dprk-nuclear", "dprk-missile")),
    equivalence=(
        {"KOR": "I", "USA": "TS", "JPN": "KIMITSU"},
        {"KOR": "II", "USA": "S", "JPN": "GOKUHI"},
        {"KOR": "III", "USA": "C", "JPN": "HI"},
    ),
    articles={"scope": "para. 1", "hub": "para. 4"},
    events=_events(("2014-12-26", "signed"), ("2014-12-29", "entered-into-force")),
)
# Illustrative: an agreement covering only the purpose `defence`, suspended for 2020, terminated 2024.
KOR_AUS = Agreement(
    id="kor-aus-isa",
    title="Korea–Australia (illustrative)",
    kind="information-security",
    parties=("KOR", "AUS"),
    scope=Scope(purposes=("defence",)),
    equivalence=({"KOR": "I", "AUS": "TS"}, {"KOR": "II", "AUS": "S"}, {"KOR": "III", "AUS": "C"}),
    events=_events(
        ("2009-01-01", "entered-into-force"),
        ("2020-01-01", "suspended"),
        ("2021-01-01", "resumed"),
        ("2024-06-01", "terminated"),
    ),
)
USA_AUS = Agreement(
    id="usa-aus-isa",
    title="US–Australia (illustrative)",
    kind="information-security",
    parties=("USA", "AUS"),
    equivalence=({"USA": "TS", "AUS": "TS"}, {"USA": "S", "AUS": "S"}, {"USA": "C", "AUS": "C"}),
    events=_events(("2000-01-01", "entered-into-force")),
)

CONSENTS = (
    # KOR lets USA pass DPRK-nuclear items up to Level II to Australia, 2015–2025.
    Consent(
        id="kor-usa-to-aus",
        originator="KOR",
        holder="USA",
        recipients=("AUS",),
        topics=("dprk-nuclear",),
        max_level="II",
        valid_from=D("2015-01-01"),
        valid_until=D("2025-12-31"),
    ),
    # KOR lets USA pass its items on to the members of TISA (the hub's onward hop), from 2015.
    Consent(
        id="kor-usa-tisa",
        originator="KOR",
        holder="USA",
        arrangement="tisa-2014",
        valid_from=D("2015-01-01"),
    ),
    # A per-item consent (the only kind that covers an ORCON item): JPN may give item m-orcon-1 to USA.
    Consent(
        id="kor-jpn-item",
        originator="KOR",
        holder="JPN",
        recipients=("USA",),
        items=("m-orcon-1",),
        valid_from=D("2017-01-01"),
    ),
)


def registry(*, agreements: tuple[Agreement, ...] | None = None) -> Registry:
    """Returns the fixture registry (optionally with other agreements)."""
    ags = (
        agreements
        if agreements is not None
        else (KOR_USA, USA_JPN, KOR_JPN, TISA, KOR_AUS, USA_AUS)
    )
    return Registry(parties=PARTIES, agreements=ags, consents=CONSENTS)
