"""The registry commands, run as a user runs them, on both backends."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.cli.main import main
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

# Korea's eight mutual logistics accords as of January 2011 (domain.md §5.2, S1, S69).
KOREA_MLSA_2011 = {"USA", "THA", "NZL", "TUR", "PHL", "ISR", "AUS", "CAN"}


class Run:
    def __init__(
        self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.url, self.capsys, self.monkeypatch = url, capsys, monkeypatch

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setenv("ACCORD_DATABASE_URL", self.url)
        self.monkeypatch.delenv("ACCORD_PARTY", raising=False)
        for k, v in (env or {}).items():
            self.monkeypatch.setenv(k, v)
        code = main(list(args))
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def json(self, *args: str) -> object:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store with the demonstration scenario loaded, shared by this module's read-only tests."""
    if request.param == "sqlite":
        url = sqlite_store(tmp_path_factory.mktemp("demo") / "accord.db")
        name = None
    else:
        url, name = make_pg_database()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCORD_DATABASE_URL", url)
        assert main(["demo", "--json"]) == 0
    yield url
    if name:
        drop_pg_database(name)


@pytest.fixture
def run(demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    return Run(demo_url, capsys, monkeypatch)


def test_koreas_logistics_accords_in_january_2011_match_the_record(run: Run) -> None:
    rows = run.json(
        "agreements", "list", "--party", "KOR", "--kind", "logistics-support", "--at", "2011-01-06"
    )
    assert isinstance(rows, list)
    partners = {p for r in rows for p in r["parties"] if p != "KOR"}
    assert partners == KOREA_MLSA_2011
    assert len(rows) == 8
    for r in rows:
        assert set(r) >= {"id", "title", "kind", "legal_form", "parties", "status", "in_force"}
        assert (
            r["kind"] == "logistics-support" and r["in_force"] is True and r["status"] == "in-force"
        )
        assert r["parties"] == sorted(r["parties"])


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param("2014-12-28", set(), id="before-tisa"),
        pytest.param("2014-12-29", {"tisa-2014"}, id="tisa-only"),
        pytest.param("2016-11-23", {"tisa-2014", "kor-jpn-gsomia-2016"}, id="gsomia-day"),
        pytest.param("2019-11-23", {"tisa-2014", "kor-jpn-gsomia-2016"}, id="notice-suspended"),
    ],
)
def test_two_parties_means_agreements_binding_both(run: Run, at: str, expected: set[str]) -> None:
    rows = run.json(
        "agreements", "list", "--party", "KOR", "--party", "JPN", "--at", at, "--in-force"
    )
    assert isinstance(rows, list)
    assert {r["id"] for r in rows if r["kind"] != "logistics-support"} == expected
    assert all(set(r["parties"]) >= {"KOR", "JPN"} for r in rows)


def test_list_shows_status_of_agreements_not_in_force(run: Run) -> None:
    rows = run.json(
        "agreements", "list", "--party", "JPN", "--kind", "logistics-support", "--at", "2017-06-01"
    )
    assert isinstance(rows, list)
    by_id = {r["id"]: r for r in rows}
    assert by_id["jpn-aus-acsa-2010"]["in_force"] is True
    assert by_id["usa-jpn-acsa-1996"]["status"] == "terminated"
    assert by_id["usa-jpn-acsa-1996"]["in_force"] is False


def test_show_gives_timeline_table_and_deadline(run: Run) -> None:
    data = run.json("agreements", "show", "kor-jpn-gsomia-2016", "--at", "2019-01-01")
    assert isinstance(data, dict)
    assert data["next_renewal_deadline"] == "2019-08-24"
    assert data["in_force"] is True
    statuses = [(s["date"], s["kind"], s["status"]) for s in data["timeline"]]
    assert ("2019-08-23", "termination-notified", "notice-given") in statuses
    assert ("2019-11-22", "notice-suspended", "notice-suspended") in statuses
    assert ("2023-03-21", "notice-withdrawn", "in-force") in statuses
    assert not any(row.get("KOR") == "I" for row in data["equivalence"])  # no Level I row (S12)
    assert {"KOR": "II", "JPN": "GOKUHI"} in data["equivalence"]


def test_show_human_output_names_the_deadline(run: Run) -> None:
    code, out, _ = run("agreements", "show", "kor-jpn-gsomia-2016", "--at", "2019-01-01")
    assert code == 0
    assert "next renewal deadline: 2019-08-24" in out and "notice-suspended" in out


def test_parties_list_gives_national_schemes(run: Run) -> None:
    rows = run.json("parties", "list")
    assert isinstance(rows, list)
    by_code = {r["code"]: r for r in rows}
    assert by_code["KOR"]["levels"] == ["I", "II", "III", "U"]
    assert by_code["JPN"]["levels"] == ["KIMITSU", "GOKUHI", "HI", "U"]
    assert by_code["NATO"]["kind"] == "organisation"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["agreements", "list", "--party", "XXX"],
            "'XXX' is not a known party",
            id="unknown-party",
        ),
        pytest.param(
            ["agreements", "list", "--at", "2019-02-30"],
            "'2019-02-30' is not a date",
            id="bad-date",
        ),
        pytest.param(
            ["agreements", "list", "--kind", "treaty"],
            "'treaty' is not an agreement kind",
            id="bad-kind",
        ),
        pytest.param(
            ["agreements", "show", "nope"],
            "'nope' is not a known agreement",
            id="unknown-agreement",
        ),
        pytest.param(
            ["parties", "show", "XXX"], "'XXX' is not a known party", id="unknown-party-show"
        ),
        pytest.param(["agreements", "list", "--frobnicate"], "No such option", id="unknown-option"),
        pytest.param(["import", "/no/such/file.yaml"], "no such file", id="missing-file"),
        pytest.param(
            ["export", "--format", "xml"], "'xml' is not an export format", id="bad-format"
        ),
        pytest.param(
            ["export", "--only", "treaties"], "'treaties' is not a registry part", id="bad-part"
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(run: Run, args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_store_failure_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = Run("postgresql://nobody:secret@127.0.0.1:1/x", capsys, monkeypatch)(
        "parties", "list"
    )
    assert code == 1
    assert "unavailable" in err and "secret" not in err


def test_import_rejects_bad_file_naming_line_and_leaves_registry(run: Run, tmp_path: Path) -> None:
    before = run.json("agreements", "list")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agreements:\n  - id: x\n    title: X\n    kind: information-security\n    parties: [KOR, ZZZ]\n"
    )
    code, _, err = run("import", str(bad))
    assert code == 2
    assert "bad.yaml:5: agreements[0].parties[1]: 'ZZZ' is not a known party" in err
    assert run.json("agreements", "list") == before


def test_export_then_import_is_a_no_op(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "registry.yaml"
    code, _, err = run("export", "-o", str(out))
    assert code == 0, err
    code, text, _ = run("import", str(out))
    assert code == 0 and "no change" in text
    data = run.json("import", str(out))
    assert data == {"changed": False, "added": {}, "replaced": {}}


def test_demo_is_idempotent_and_keeps_the_nodes_party(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Run(store_url, capsys, monkeypatch)
    assert run("init", "--party", "JPN")[0] == 0
    first = run.json("demo")
    assert isinstance(first, dict) and first["loaded"]["changed"] is True
    again = run.json("demo")
    assert isinstance(again, dict) and again["loaded"]["changed"] is False
    assert again["party"] == "JPN"
    assert run.json("demo")["party"] == "JPN"  # type: ignore[index]
    code, out, _ = run("demo", "--json", env={"ACCORD_PARTY": "USA"})
    assert code == 0 and json.loads(out)["party"] == "USA"


def test_init_refuses_an_unknown_party_once_a_registry_exists(run: Run) -> None:
    code, _, err = run("init", "--party", "XYZ")
    assert code == 2 and "'XYZ' is not a known party" in err


def test_the_console_script_runs_in_a_fresh_directory(tmp_path: Path) -> None:
    """The README's first command on the default store: `accord demo` in an empty directory."""
    exe = Path(sys.executable).with_name("accord")
    proc = subprocess.run(
        [str(exe), "demo", "--at", "2011-01-06"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "120"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "accord.db").exists()
    assert "kor-usa-mlsa-1988" in proc.stdout and "kor-jpn-gsomia-2016" not in proc.stdout


def test_version_and_init_on_an_empty_store_say_what_to_do(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`accord --version` prints the version; `accord init` on an empty store says to run
    `accord demo` or `accord import`, and so does a query naming a party of the empty registry
    (before: "ready", then "'KOR' is not a known party" with no hint)."""
    run = Run(store_url, capsys, monkeypatch)
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("accord ")
    code, out, _ = run("init", "--party", "KOR")
    assert code == 0 and "accord demo" in out and "accord import" in out
    data = run.json("init", "--party", "KOR")
    assert isinstance(data, dict) and data["registry_empty"] is True
    code, _, err = run("agreements", "list", "--party", "KOR")
    assert code == 2 and "accord demo" in err and err.count("\n") == 1


def test_help_lists_commands_in_the_order_a_new_user_needs_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init` and `demo` first (they were listed after `sync`, `serve` and `publish`)."""
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = [m.group(1) for m in re.finditer(r"^│ ([a-z]+) ", out, re.M)]
    assert commands[:4] == ["init", "demo", "serve", "publish"], commands
    assert commands.index("parties") < commands.index("audit")


def test_show_at_80_columns_cuts_no_note_id(
    demo_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the timeline's notes column ended each id with "…" at 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    run = Run(demo_url, capsys, monkeypatch)
    code, out, _ = run("agreements", "show", "kor-jpn-gsomia-2016", "--at", "2019-09-01")
    assert code == 0 and "…" not in out
    for note in ("kor-jpn-note-2019-08-23", "kor-jpn-note-2019-11-22", "kor-jpn-note-2023-03-21"):
        assert note in out
    assert max(len(line) for line in out.splitlines() if line.startswith(("┃", "│"))) <= 80


def test_an_import_is_audited_under_the_operator(run: Run, tmp_path: Path) -> None:
    """`accord import` records the change under `cli:` and $ACCORD_USER, not "registry"."""
    extra = tmp_path / "note.yaml"
    extra.write_text(
        "notes:\n  - {id: cli-actor-note, date: 2030-01-02, sender: KOR, recipient: USA}\n",
        "utf-8",
    )
    code, _, err = run("import", str(extra), env={"ACCORD_USER": "lee"})
    assert code == 0, err
    code, out, err = run("audit", "export", env={"ACCORD_USER": "lee"})
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    last = [r for r in records if r["kind"] == "registry-change"][-1]
    assert last["actor"] == "cli:lee" and "cli-actor-note" in json.dumps(last["body"])
