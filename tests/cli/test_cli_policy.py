"""`accord check` and `accord whatif`, run in-process as a user runs them (SQLite store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.cli.app import console
from accord.cli.main import main
from backends import sqlite_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "whatif-kor-jpn-2011.yaml"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = sqlite_store(tmp_path_factory.mktemp("policy-demo") / "accord.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCORD_DATABASE_URL", url)
        mp.delenv("ACCORD_PARTY", raising=False)
        assert main(["demo", "--json"]) == 0
    yield url


@pytest.fixture
def run(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> object:
    def _run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setenv("ACCORD_DATABASE_URL", demo_url)
        monkeypatch.delenv("ACCORD_PARTY", raising=False)
        monkeypatch.setenv("COLUMNS", "200")
        # The console is made once per process, maybe before COLUMNS was set: its width, too.
        monkeypatch.setattr(console, "_width", 200)
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


CHECK = ["check", "--originator", "KOR", "--level", "II", "--topic", "dprk-nuclear", "--to", "JPN"]


@pytest.mark.parametrize(
    ("extra", "allowed", "rules", "route", "level"),
    [
        pytest.param(
            ["--at", "2013-01-01"], False, ["IN_FORCE", "HUB_ROUTE"], [], None, id="2013-denied"
        ),
        pytest.param(
            ["--at", "2015-06-01"], True, None, ["KOR", "USA", "JPN"], "GOKUHI", id="2015-via-hub"
        ),
        pytest.param(
            ["--at", "2017-01-01"], True, None, ["KOR", "JPN"], "GOKUHI", id="2017-direct"
        ),
        pytest.param(
            ["--at", "2017-01-01", "--noforn"],
            False,
            ["ORIGINATOR_RESTRICTION"],
            [],
            None,
            id="noforn",
        ),
        pytest.param(
            ["--at", "2017-01-01", "--rel-to", "usa"],
            False,
            ["ORIGINATOR_RESTRICTION"],
            [],
            None,
            id="rel-to-usa-only",
        ),
        pytest.param(
            ["--at", "2015-06-01", "--topic", "wmd"],
            False,
            ["IN_FORCE", "TOPIC_SCOPE", "HUB_ROUTE"],
            [],
            None,
            id="wmd-outside-tisa",
        ),
        pytest.param(
            ["--at", "2018-01-01", "--holder", "USA", "--topic", "wmd"],
            False,
            ["THIRD_PARTY"],
            [],
            None,
            id="usa-onward-wmd-no-consent",
        ),
        pytest.param(
            ["--at", "2018-01-01", "--holder", "usa"],
            True,
            None,
            ["USA", "JPN"],
            "GOKUHI",
            id="usa-onward-with-demo-consent",
        ),
    ],
)
def test_check_json(
    run: object,
    extra: list[str],
    allowed: bool,
    rules: list[str] | None,
    route: list[str],
    level: str | None,
) -> None:
    code, out, err = run(*CHECK, *extra, "--json")  # type: ignore[operator]
    assert code == 0, err
    got = json.loads(out)
    assert got["allowed"] is allowed
    if rules is not None:
        assert got["rules"] == rules
    else:
        assert "NO_RECALL" in got["rules"]
    assert got["route"] == route
    assert got["recipient_level"] == level
    assert got["explanation"] and isinstance(got["basis"], list)


def test_check_is_case_insensitive_and_prints_a_panel(run: object) -> None:
    code, out, _ = run(  # type: ignore[operator]
        "check",
        "--originator",
        "kor",
        "--level",
        "ii",
        "--topic",
        "DPRK-Nuclear",
        "--to",
        "jpn",
        "--at",
        "2015-06-01",
    )
    assert code == 0
    assert "ALLOWED" in out and "KOR → USA → JPN" in out and "GOKUHI" in out


def test_check_denied_still_exits_zero(run: object) -> None:
    code, out, _ = run(*CHECK, "--level", "I", "--topic", "wmd", "--at", "2017-01-01")  # type: ignore[operator]
    assert code == 0
    assert "DENIED" in out and "LEVEL_MAPPED" in out and "no row, no release" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(["--originator", "XYZ"], "'XYZ' is not a known party", id="party"),
        pytest.param(["--level", "TS"], "'TS' is not a level of KOR", id="level"),
        pytest.param(["--topic", "weather"], "'weather' is not a known topic", id="topic"),
        pytest.param(["--to", "QQQ"], "'QQQ' is not a known party", id="recipient"),
        pytest.param(["--at", "2019-02-30"], "is not a date", id="date"),
        pytest.param(["--purpose", "fun"], "'fun' is not a known purpose", id="purpose"),
    ],
)
def test_check_bad_input_exits_2(run: object, args: list[str], named: str) -> None:
    code, _, err = run(*CHECK, *args)  # type: ignore[operator]
    assert code == 2
    assert named in err


def test_whatif_example_gains_and_unhubs(run: object) -> None:
    code, out, err = run(  # type: ignore[operator]
        "whatif", str(EXAMPLE), "--at", "2015-06-01", "--party", "KOR", "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["hypothetical"]["agreements"] == ["kor-jpn-gsomia-2011-hypothetical"]
    pairs = {(p["holder"], p["recipient"]): p for p in got["pairs"]}
    kj = pairs[("KOR", "JPN")]
    gained = {(m["level"], m["topics"][0]) for m in kj["gained"]}
    assert ("II", "wmd") in gained and ("III", "general-military") in gained
    assert not any(lv == "I" for lv, _ in gained)  # no Level I row, as in 2016
    unhubbed = {(m["level"], m["topics"][0]) for m in kj["no_longer_via_hub"]}
    assert unhubbed == {
        (lv, t) for lv in ("II", "III", "U") for t in ("dprk-nuclear", "dprk-missile")
    }
    assert set(pairs) == {("KOR", "JPN"), ("JPN", "KOR")}
    # R7: with their own agreement Korea and Japan no longer go through the hub, so the Level I
    # DPRK releases TISA carried (its table has a Level I row; the bilateral one has none) stop.
    assert {(m["level"], m["topics"][0]) for m in kj["lost"]} == {
        ("I", "dprk-nuclear"),
        ("I", "dprk-missile"),
    }


def test_whatif_2012_everything_is_new_and_nothing_was_via_hub(run: object) -> None:
    code, out, _ = run(  # type: ignore[operator]
        "whatif", str(EXAMPLE), "--at", "2012-06-29", "--party", "KOR", "--json"
    )
    assert code == 0
    kj = {(p["holder"], p["recipient"]): p for p in json.loads(out)["pairs"]}[("KOR", "JPN")]
    assert (
        len(kj["gained"]) == 21 and kj["no_longer_via_hub"] == [] and kj["lost"] == []
    )  # II, III, U


def test_whatif_human_output(run: object) -> None:
    code, out, _ = run("whatif", str(EXAMPLE), "--at", "2015-06-01", "--party", "KOR")  # type: ignore[operator]
    assert code == 0
    assert "KOR → JPN" in out and "kor-jpn-gsomia-2011-hypothetical" in out


def test_whatif_rejects_a_broken_file(run: object, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agreements:\n  - id: x\n    title: x\n    kind: information-security\n"
        "    parties: [KOR, ATLANTIS]\n"
    )
    code, _, err = run("whatif", str(bad))  # type: ignore[operator]
    assert code == 2
    assert "ATLANTIS" in err


def test_whatif_stores_nothing(run: object) -> None:
    run("whatif", str(EXAMPLE), "--at", "2015-06-01")  # type: ignore[operator]
    code, out, _ = run("agreements", "list", "--json")  # type: ignore[operator]
    assert code == 0
    assert "kor-jpn-gsomia-2011-hypothetical" not in out


def test_check_honours_accord_date(run: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ACCORD_DATE` fixes the day every command decides on, `accord check` included (before,
    only `accord serve` and `publish` honoured it, and `check` decided on the machine's date)."""
    monkeypatch.setenv("ACCORD_DATE", "2013-01-01")
    code, out, _ = run(*CHECK, "--json")  # type: ignore[operator]
    data = json.loads(out)
    assert data["allowed"] is False and data["at"] == "2013-01-01"
    monkeypatch.setenv("ACCORD_DATE", "2017-01-01")
    code, out, _ = run(*CHECK, "--json")  # type: ignore[operator]
    assert json.loads(out)["allowed"] is True


def test_ledger_and_registry_commands_honour_accord_date(
    run: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_DATE", "2016-06-01")
    code, out, _ = run(
        "agreements", "list", "--party", "KOR", "--party", "JPN", "--in-force", "--json"
    )  # type: ignore[operator]
    assert code == 0 and {r["id"] for r in json.loads(out)} == {"tisa-2014"}
    code, out, _ = run("ledger", "ageing", "--json")  # type: ignore[operator]
    assert code == 0, out
    monkeypatch.delenv("ACCORD_DATE")
    code, out, _ = run(
        "agreements", "list", "--party", "KOR", "--party", "JPN", "--in-force", "--json"
    )  # type: ignore[operator]
    assert "kor-jpn-gsomia-2016" in {r["id"] for r in json.loads(out)}


def test_today_is_the_utc_date_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """One calendar for the node: at 16:00 UTC on 2026-12-07 it is already the 8th in Seoul and
    still the 7th in UTC; the node decides on the 7th (accord.clock)."""
    import datetime as dt
    import time

    from accord import clock

    instant = dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.UTC)

    class Fixed(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return instant.astimezone(tz) if tz else instant.astimezone().replace(tzinfo=None)

    for zone in ("Asia/Seoul", "Etc/GMT+12", "UTC"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        monkeypatch.setattr(clock, "datetime", Fixed)
        assert clock.utc_today() == dt.date(2026, 12, 7), zone
        assert clock.today("2011-01-06") == dt.date(2011, 1, 6)
    monkeypatch.delenv("TZ")
    time.tzset()


ACSA_YAML = """\
agreements:
  - id: kor-jpn-acsa-hypothetical
    title: A Korea-Japan ACSA
    kind: logistics-support
    parties: [KOR, JPN]
    events:
      - {date: 2020-01-02, kind: entered-into-force}
"""


def test_whatif_about_an_acsa_names_the_orders_it_makes_possible(
    run: object, tmp_path: Path
) -> None:
    acsa = tmp_path / "acsa.yaml"
    acsa.write_text(ACSA_YAML, "utf-8")
    code, out, err = run("whatif", str(acsa), "--at", "2024-06-03", "--json")  # type: ignore[operator]
    assert code == 0, err
    data = json.loads(out)
    assert data["pairs"] == []
    assert [(d["parties"], d["change"]) for d in data["logistics"]] == [
        (["JPN", "KOR"], "possible")
    ]
    code, out, _ = run("whatif", str(acsa), "--at", "2024-06-03")  # type: ignore[operator]
    assert code == 0
    assert "JPN – KOR" in out and "become possible" in out
