"""The demonstration scenario against the public record: dated questions with the answers the
sources give (docs/sources.md), asked as a user asks them — `accord agreements list/show` and
`GET /api/v1/agreements` — on a live node over the demonstration registry.

Each row names the source keys that settle it. An answer the record does not settle is asked too:
the scenario must not claim more than its sources (Viet Nam in January 2011, an agreement shown
in force before the month or year the record gives).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from api_live import ALL_ROLES, ApiNode, start_api_node
from cli_runner import Cli

from accord.logistics import rules
from accord.logistics import service as lservice
from accord.registry import (
    files,
    precision,
    service,
)
from backends import sqlite_store

ROOT = Path(__file__).resolve().parent.parent.parent

# (party, kind, date): the agreements in force, as the sources give them.
KOREA_2011 = {
    "kor-usa-gsomia-1987",  # S34: signed and in force 1987-09-24
    "kor-fra-gsomia",  # S136, S137: signed 2000-03-06, in force by 2002-06-03
    "kor-rus-gsomia",  # S138, S1: signed 2001-02-26, named in January 2011
    "kor-ukr-gsomia",  # S139: in force 2005-10-25
    "kor-aus-security-arrangement-2008",  # S140, S141: 2008-08-11
    "kor-nato-security-arrangement",  # S142: 2009-12-04
    "kor-are-security-arrangement",  # S134: information provided under it in 2010
}

# (agreement, date, status) — each settled by the sources named.
STATUS_ON: list[tuple[str, str, str, str]] = [
    ("kor-vnm-security-mou", "2011-01-06", "none", "S130 S131: the MOU dates from July 2014"),
    ("kor-vnm-security-mou", "2014-07-21", "in-force", "S130"),
    ("kor-esp-gsomia", "2011-01-06", "signed", "S134: signed March 2009"),
    ("kor-pol-gsomia-2009", "2011-01-06", "signed", "S133: signed September 2009"),
    ("kor-bgr-gsomia", "2011-01-06", "signed", "S143: signed 2009-10-26"),
    ("kor-tha-gsomia-2019", "2019-09-02", "in-force", "S144: signed 2019-09-02"),
    ("kor-hun-gsomia", "2015-12-03", "signed", "S145: at the summit opening 3 December"),
    ("kor-hun-gsomia", "2015-12-02", "none", "S145"),
    ("kor-phl-gsomia", "2015-09-14", "signed", "S146"),
    ("kor-jpn-gsomia-2016", "2012-04-23", "initialled", "S166"),
    ("kor-jpn-gsomia-2016", "2012-06-29", "negotiating", "S167: the signing called off"),
    ("kor-jpn-gsomia-2016", "2016-06-01", "negotiating", "S11"),
    ("jpn-fra-isa-2011", "2011-10-24", "in-force", "S157"),
    ("jpn-fra-isa-2011", "2011-10-23", "none", "S157"),
    ("jpn-ita-isa-2016", "2016-03-19", "signed", "S158"),
    ("jpn-ita-isa-2016", "2016-06-07", "in-force", "S158"),
    ("jpn-aus-isa-2012", "2013-03-22", "in-force", "S159"),
    ("jpn-aus-isa-2012", "2013-03-21", "signed", "S159"),
    ("usa-jpn-acsa-1996", "1996-10-22", "in-force", "S150"),
    ("usa-jpn-acsa-1996", "1996-10-21", "signed", "S150"),
    ("usa-jpn-acsa-1996", "1999-09-25", "terminated", "S38: the 1998 text in force"),
    ("usa-jpn-acsa-1999", "1999-09-25", "in-force", "S38, S151"),
    ("usa-jpn-acsa-2004", "2004-07-29", "in-force", "S153"),
    ("usa-jpn-acsa-2004", "2017-04-25", "terminated", "S154"),
    ("usa-jpn-acsa-2016", "2016-09-26", "signed", "S155"),
    ("usa-jpn-acsa-2016", "2017-04-25", "in-force", "S154"),
    ("jpn-aus-acsa-2017", "2017-09-06", "in-force", "S156"),
    ("jpn-aus-acsa-2017", "2017-09-05", "signed", "S156"),
    ("jpn-aus-acsa-2010", "2017-09-05", "in-force", "S66, S156"),
    ("jpn-aus-acsa-2010", "2017-09-06", "terminated", "S156"),
    ("jpn-ind-acsa-2020", "2021-07-11", "in-force", "S127"),
    ("jpn-ita-acsa-2024", "2025-09-05", "in-force", "S162"),
    ("jpn-ita-acsa-2024", "2024-11-25", "signed", "S162"),
    ("jpn-nld-acsa-2025", "2025-12-18", "signed", "S163"),
    ("jpn-nzl-acsa-2025", "2025-12-19", "signed", "S164"),
    ("jpn-nzl-isa-2025", "2025-12-19", "signed", "S164"),
    ("jpn-can-isa-2025", "2025-07-08", "signed", "S165"),
    ("usa-jpn-kor-missile-warning-2023", "2023-12-19", "in-force", "S169"),
    ("usa-jpn-kor-missile-warning-2023", "2023-12-18", "none", "S169"),
    # Known only to the month: never in force before the month's last day (precision.proven).
    ("jpn-gbr-acsa-2017", "2017-08-30", "signed", "S38: August 2017, day not public"),
    ("jpn-gbr-acsa-2017", "2017-08-31", "in-force", "S38"),
    ("jpn-can-acsa-2018", "2019-07-31", "in-force", "S38: July 2019"),
    ("jpn-can-acsa-2018", "2019-07-30", "signed", "S38"),
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiNode]:
    live = start_api_node(sqlite_store(tmp_path_factory.mktemp("record") / "accord.db"))
    try:
        yield live
    finally:
        live.live.stop()


@pytest.fixture
def cli(node: ApiNode, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(node.live.store.url, capsys, monkeypatch)


def _cli_json(cli: Cli, *args: str) -> Any:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_korea_on_the_articles_date_through_the_cli_and_the_api(cli: Cli, node: ApiNode) -> None:
    """The article's question (S1): Korea's information-security instruments in force on
    2011-01-06. The record names seven in force; the party record says how far that is from
    the article's 21 and why no other member is listed."""
    rows = _cli_json(
        cli, "agreements", "list", "--party", "KOR", "--kind", "information-security",
        "--at", "2011-01-06", "--in-force",
    )  # fmt: skip
    assert {r["id"] for r in rows} == KOREA_2011
    r = node.call(
        "GET",
        "/agreements?party=KOR&kind=information-security&at=2011-01-06&in_force=true",
        ALL_ROLES,
    )
    assert r.status_code == 200, r.text[:300]
    assert {a["id"] for a in r.json()} == KOREA_2011
    kor = _cli_json(cli, "parties", "show", "KOR")
    assert "21" in kor["note"] and "not named" in kor["note"] and "Viet Nam" in kor["note"]
    assert "ACSA talks would stop" in kor["note"]  # S168: shelved in July 2012, never concluded
    assert {"S1", "S107", "S135"} <= {s["ref"] for s in kor["sources"]}


@pytest.mark.parametrize(("agreement", "day", "expected", "source"), STATUS_ON)
def test_status_on_a_date_as_the_record_gives_it(
    cli: Cli, agreement: str, day: str, expected: str, source: str
) -> None:
    data = _cli_json(cli, "agreements", "show", agreement, "--at", day)
    assert data["status"] == expected, (agreement, day, source, data["timeline"])


def test_the_api_gives_the_same_statuses(node: ApiNode) -> None:
    for agreement, day, expected, source in STATUS_ON:
        r = node.call("GET", f"/agreements/{agreement}?at={day}", ALL_ROLES)
        assert r.status_code == 200, r.text[:300]
        assert r.json()["status"] == expected, (agreement, day, source)


def test_japan_india_acsa_carries_no_ammunition(cli: Cli) -> None:
    """S148, S149: ammunition excluded at India's request (R11 refuses such an order line)."""
    data = _cli_json(cli, "agreements", "show", "jpn-ind-acsa-2020")
    scope = data["scope"]
    assert "ammunition" not in scope["categories"]
    assert scope.get("ammunition", {"allowed": False})["allowed"] is False


def test_the_us_japan_acsa_scope_follows_each_text(cli: Cli) -> None:
    """S150, S151, S153: no ammunition under the 1996 and 1998 texts; in armed attack
    situations (`contingency`) only under the 2004 text; the 2016 agreement beyond that."""
    for ident, allowed in (
        ("usa-jpn-acsa-1996", False),
        ("usa-jpn-acsa-1999", False),
        ("usa-jpn-acsa-2004", True),
    ):
        scope = _cli_json(cli, "agreements", "show", ident)["scope"]
        assert scope.get("ammunition", {"allowed": False})["allowed"] is allowed, ident
    assert _cli_json(cli, "agreements", "show", "usa-jpn-acsa-2004")["scope"]["ammunition"][
        "purposes"
    ] == ["contingency"]


def test_every_event_gives_its_precision_and_sources(cli: Cli, node: ApiNode) -> None:
    """`agreements show --json` and the API give, for every event, `precision`, the date as a
    reader should take it (`when`), the day decisions read it on (`proven`) and `sources`; the
    human form prints "in force by 2016-12-31 (S11)"."""
    data = _cli_json(cli, "agreements", "show", "kor-esp-gsomia")
    entry = [t for t in data["timeline"] if t["kind"] == "entered-into-force"][0]
    assert entry["precision"] == "by" and entry["when"] == "by 2016-12-31"
    assert entry["sources"] == [{"ref": "S11"}] and entry["proven"] == "2016-12-31"
    signed = [t for t in data["timeline"] if t["kind"] == "signed"][0]
    assert signed["when"] == "2009-03 (day not public)" and signed["proven"] == "2009-03-31"
    code, out, _ = cli("agreements", "show", "kor-esp-gsomia")
    assert code == 0 and "in force by 2016-12-31 (S11)" in out
    r = node.call("GET", "/agreements/kor-esp-gsomia", ALL_ROLES)
    steps = r.json()["timeline"]
    assert all({"precision", "when", "proven", "sources"} <= set(s) for s in steps)
    assert [s["when"] for s in steps] == [t["when"] for t in data["timeline"]]


def test_every_cited_source_is_listed_in_docs() -> None:
    """Every key the scenario cites is in docs/sources.md (it ships with the code)."""
    listed = set(
        re.findall(r"^\| (S\d+) \|", (ROOT / "docs" / "sources.md").read_text("utf-8"), re.M)
    )
    text = (ROOT / "src" / "accord" / "registry" / "scenario" / "demo.yaml").read_text("utf-8")
    cited = set(re.findall(r"ref: (S\d+)", text))
    assert cited and not cited - listed, sorted(cited - listed)


def test_a_month_or_year_date_is_read_on_the_day_the_record_proves() -> None:
    """precision.proven: an entry into force known to the month counts from the month's last
    day, a termination known to the year from its first; `by` is its date."""
    reg, _ = files.read_file(service.scenario_path())
    for ag in reg.agreements:
        for ev in ag.events:
            first, last = precision.window(ev.date, ev.precision)
            got = precision.proven(ev)
            assert (first or got) <= got <= last, (ag.id, ev)
            if ev.kind in precision.ENDING:
                assert got == (first or ev.date)
            else:
                assert got == last


def test_docs_registry_shows_what_the_scenario_knows() -> None:
    """docs/registry.md prints the scenario's certainty table as the data give it."""
    reg, _ = files.read_file(service.scenario_path())
    table = precision.knowledge(reg)
    assert table in (ROOT / "docs" / "registry.md").read_text("utf-8"), table


def test_korea_keeps_its_eight_logistics_accords_of_january_2011(cli: Cli) -> None:
    """S1, S69: eight mutual logistics accords on 2011-01-06 (Singapore's of 2011 not yet)."""
    rows = _cli_json(
        cli, "agreements", "list", "--party", "KOR", "--kind", "logistics-support",
        "--at", "2011-01-06", "--in-force",
    )  # fmt: skip
    partners = {p for r in rows for p in r["parties"]} - {"KOR"}
    assert partners == {"USA", "THA", "NZL", "TUR", "PHL", "ISR", "AUS", "CAN"}


def test_an_ammunition_line_under_the_japan_india_acsa_is_refused() -> None:
    """R11 over the demonstration registry: ammunition is outside the Japan–India ACSA
    (S148, S149), food inside it."""
    reg, _ = files.read_file(service.scenario_path())
    on = date(2022, 6, 1)
    ammo = lservice.parse_lines(["ammunition:100:rd:1:USD"])
    food = lservice.parse_lines(["food:10:kg:1:USD"])
    ag, problems = rules.choose_agreement(reg, "JPN", "IND", on, "exercise", ammo)
    assert ag is not None and ag.id == "jpn-ind-acsa-2020"
    assert [p.rule for p in problems] == ["LOGISTICS_SCOPE"], problems
    ag, problems = rules.choose_agreement(reg, "JPN", "IND", on, "exercise", food)
    assert ag is not None and ag.id == "jpn-ind-acsa-2020" and not problems
