"""Fixtures for the logistics tests: a small registry built in Python, and a second store.

The `store` fixture (an open, migrated, EMPTY store on SQLite, and on PostgreSQL from
ACCORD_TEST_PG_URL — failing, not skipping, without it unless ACCORD_TEST_BACKENDS=sqlite) is
the suite-wide one in tests/conftest.py, which does exactly what issue 6 asks of it; `peer_store`
below opens a second empty store on the same backend for two-node tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from accord.registry.model import (
    Agreement,
    Ammunition,
    Event,
    Facility,
    Party,
    Registry,
    Scope,
)
from accord.registry.service import import_registry
from accord.store import Store, open_store
from backends import drop_pg_database, make_pg_database, sqlite_store

ALL_BUT_ARMS = (
    "food",
    "water",
    "billeting",
    "transportation",
    "petroleum",
    "clothing",
    "communications",
    "medical",
    "base-support",
    "storage",
    "facilities",
    "training",
    "spare-parts",
    "repair",
    "port-services",
)
HADR = ("peacekeeping", "humanitarian-relief", "disaster-relief")


def _eif(day: date) -> Event:
    return Event(date=day, kind="entered-into-force")


def registry() -> Registry:
    """Returns a small logistics world (dates illustrative, shaped on domain.md §3):

    - kor-usa-mlsa-1988: KOR–USA, PKO/HA/DR/exercise/contingency, no ammunition;
    - jpn-aus-acsa-2010: JPN–AUS, in force 2013-01-31 until 2017-09-21, no ammunition;
    - jpn-aus-acsa-2017: JPN–AUS, in force from 2017-09-22, ammunition for exercise and PKO;
    - kor-can-mlsa: KOR–CAN, exercises only, no training services, cash within 45 days, RIK
      within 180 days;
    - kor-jpn-gsomia: an information agreement (not logistics);
    - GBR: a party with no logistics agreement with anyone.
    """
    return Registry(
        parties=tuple(Party(code=c, name=c) for c in ("KOR", "USA", "JPN", "AUS", "CAN", "GBR")),
        agreements=(
            Agreement(
                id="kor-usa-mlsa-1988",
                title="Korea–US MLSA",
                kind="logistics-support",
                parties=("KOR", "USA"),
                scope=Scope(
                    purposes=(*HADR, "exercise", "contingency"),
                    categories=ALL_BUT_ARMS,
                ),
                articles={"scope": "Article II", "settlement": "Article V"},
                events=(_eif(date(1988, 6, 8)),),
            ),
            Agreement(
                id="jpn-aus-acsa-2010",
                title="Japan–Australia ACSA (2010)",
                kind="logistics-support",
                parties=("JPN", "AUS"),
                scope=Scope(
                    purposes=("exercise", *HADR, "evacuation"),
                    categories=ALL_BUT_ARMS,
                    ammunition=Ammunition(allowed=False),
                ),
                articles={"scope": "Article 2", "ammunition": "Article 2(2)"},
                events=(
                    _eif(date(2013, 1, 31)),
                    Event(date=date(2017, 9, 22), kind="terminated"),
                ),
            ),
            Agreement(
                id="jpn-aus-acsa-2017",
                title="Japan–Australia ACSA (2017)",
                kind="logistics-support",
                parties=("JPN", "AUS"),
                scope=Scope(
                    purposes=("exercise", *HADR, "evacuation", "contingency"),
                    categories=(*ALL_BUT_ARMS, "ammunition"),
                    ammunition=Ammunition(allowed=True, purposes=("exercise", "peacekeeping")),
                ),
                articles={"scope": "Article 2", "ammunition": "Article 2(3)"},
                events=(_eif(date(2017, 9, 22)),),
            ),
            Agreement(
                id="kor-can-mlsa",
                title="Korea–Canada MLSA (illustrative)",
                kind="logistics-support",
                parties=("KOR", "CAN"),
                scope=Scope(
                    purposes=("exercise",),
                    categories=tuple(c for c in ALL_BUT_ARMS if c != "training"),
                ),
                settlement_days={"cash": 45, "replacement-in-kind": 180},
                events=(_eif(date(2010, 1, 1)),),
            ),
            Agreement(
                id="kor-jpn-gsomia",
                title="Korea–Japan GSOMIA",
                kind="information-security",
                parties=("KOR", "JPN"),
                events=(_eif(date(2016, 11, 23)),),
            ),
        ),
        facilities=(
            Facility(id="yokota", name="Yokota Air Base", host="JPN"),
            Facility(id="camp-humphreys", name="Camp Humphreys", host="KOR"),
        ),
    )


@pytest.fixture
def world() -> Registry:
    """The test registry (see `registry`)."""
    return registry()


@pytest.fixture
def loaded(store: Store, world: Registry) -> Store:
    """The store with the test registry imported."""
    import_registry(store, world, actor="test")
    return store


@pytest.fixture
def peer_store(store: Store, tmp_path: Path) -> Iterator[Store]:
    """Yields a second open, migrated, empty store on the same backend as `store`."""
    if store.dialect == "sqlite":
        s = open_store(sqlite_store(tmp_path / "peer.db"))
        try:
            yield s
        finally:
            s.close()
        return
    url, name = make_pg_database()
    s = open_store(url)
    try:
        yield s
    finally:
        s.close()
        drop_pg_database(name)
