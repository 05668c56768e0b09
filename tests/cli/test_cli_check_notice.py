"""`accord check` names a termination notice running against the basis of a release: the
Korea–Japan GSOMIA between the 2019 notice (given 2019-08-23) and the day it would have taken
effect (2019-11-23), in the explanation and in `notices` of `--json` — as the API does; `accord
changes` lists the notice with its dates, as `GET /api/v1/changes` does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from accord.cli.app import console
from accord.cli.main import main
from backends import sqlite_store

CHECK = ["check", "--originator", "KOR", "--level", "II", "--topic", "dprk-nuclear", "--to", "JPN"]
NOTICE = "in force until 2019-11-23: notice given 2019-08-23"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = sqlite_store(tmp_path_factory.mktemp("notice-demo") / "accord.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCORD_DATABASE_URL", url)
        mp.delenv("ACCORD_PARTY", raising=False)
        assert main(["demo", "--json"]) == 0
    yield url


def _run(
    url: str, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    mp.setenv("ACCORD_DATABASE_URL", url)
    mp.setenv("COLUMNS", "200")
    # The console is made once per process, maybe before COLUMNS was set: its width, too.
    mp.setattr(console, "_width", 200)
    mp.delenv("ACCORD_PARTY", raising=False)
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _check(
    url: str, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch, *args: str
) -> tuple[int, str]:
    code, out, _err = _run(url, capsys, mp, *CHECK, *args)
    return code, out


def test_check_json_carries_the_notice(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = _check(demo_url, capsys, monkeypatch, "--at", "2019-09-01", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["allowed"] is True and d["route"] == ["KOR", "JPN"]
    assert NOTICE in d["explanation"]
    assert d["notices"] == [
        {
            "agreement": "kor-jpn-gsomia-2016",
            "event": "termination-notified",
            "given": "2019-08-23",
            "effective": "2019-11-23",
        }
    ]


def test_no_notice_before_it_was_given_or_once_suspended(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for at in ("2019-08-22", "2019-11-22", "2024-06-03"):
        code, out = _check(demo_url, capsys, monkeypatch, "--at", at, "--json")
        d = json.loads(out)
        assert code == 0 and d["allowed"] is True, at
        assert d["notices"] == [] and "notice given" not in d["explanation"], at
        assert "in force on that date" in d["explanation"], at


def test_the_table_names_it_too(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = _check(demo_url, capsys, monkeypatch, "--at", "2019-09-01")
    assert code == 0
    assert NOTICE in " ".join(out.split()).replace("│ ", "").replace(" │", "")


def test_changes_lists_the_notice_with_its_dates(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _err = _run(
        demo_url, capsys, monkeypatch, "changes", "--since", "2019-01-01", "--json"
    )
    assert code == 0
    (entry,) = json.loads(out)
    assert (entry["agreement"], entry["event"], entry["date"], entry["effective"]) == (
        "kor-jpn-gsomia-2016", "termination-notified", "2019-08-23", "2019-11-23"
    )  # fmt: skip
    assert entry["status"] == "notice-suspended" and entry["pairs"] == []
    code, out, _err = _run(demo_url, capsys, monkeypatch, "changes", "--since", "2019-01-01")
    assert code == 0 and "kor-jpn-gsomia-2016" in out and "2019-11-23" in out
    code, out, _err = _run(demo_url, capsys, monkeypatch, "changes", "--since", "2024-01-01")
    assert code == 0 and "No agreement moved since 2024-01-01." in out
    code, _out, err = _run(demo_url, capsys, monkeypatch, "changes", "--since", "23-08-2019")
    assert code == 2 and "--since" in err
