"""`accord misp import` and `accord misp feed` as an operator runs them: TLP tags kept beside
the release marking, accord tags giving the marking, errors in one line, and a feed that pymisp
loads and misp-stix converts back to the STIX objects the partner reads over TAXII."""

from __future__ import annotations

import copy
import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Cli

from accord.audit import log as audit
from accord.misp.partner import partner_sources
from accord.node import Node, NodeConfig
from accord.principals import Principal
from accord.store import open_store

DATA = Path(__file__).resolve().parent.parent / "data" / "misp"
EVENT = DATA / "event-tlp-amber.json"
EVENT_UUID = "5e5c3d9a-7b1f-4c6e-9a2d-0c8b1f4e2a10"
TLP_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
ENV = {"ACCORD_DATE": "2017-06-01", "ACCORD_USER": "operator"}


@pytest.fixture
def cli(store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    c = Cli(store_url, capsys, monkeypatch)
    assert c("demo", "--json", env=ENV)[0] == 0
    return c


def as_partner(url: str, party: str = "JPN") -> dict[str, dict[str, Any]]:
    """What `party` reads over TAXII on 2017-06-01: object bodies by id."""
    store = open_store(url)
    node = Node(store, "KOR", NodeConfig(api_root="kor", title="t", as_of=date(2017, 6, 1)))
    sources, _view = partner_sources(node, Principal("probe", "partner", party))
    return {s.body["id"]: s.body for s in sources}


def event_file(tmp_path: Path, tags: list[str], name: str = "event.json") -> Path:
    data = json.loads(EVENT.read_text())
    data["Event"]["Tag"] = [{"name": t} for t in tags]
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_import_keeps_tlp_beside_the_release_marking(cli: Cli) -> None:
    code, out, err = cli(
        "misp", "import", str(EVENT), "--level", "II", "--topic", "dprk-missile", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    [event] = result["events"]
    assert event["uuid"] == EVENT_UUID and not event["from_tags"]
    assert event["marking"]["level"] == "II" and event["marking"]["topics"] == ["dprk-missile"]
    stored = as_partner(cli.url)
    report = stored[f"report--{EVENT_UUID}"]
    release = [r for r in report["object_marking_refs"] if r != TLP_AMBER]
    assert TLP_AMBER in report["object_marking_refs"], "the event's TLP stays on the report"
    assert len(release) == 1 and stored[release[0]]["type"] == "marking-definition"
    assert stored[release[0]]["name"] == "KOR II dprk-missile (defence)"
    assert all(
        release[0] in o.get("object_marking_refs", [])
        for o in stored.values()
        if o["type"] != "marking-definition"
    )
    # The TLP definition misp-stix writes is the predefined one: known, not stored, not refused.
    assert result["published"]["failure_count"] == 0, result["published"]
    assert TLP_AMBER not in stored


def test_import_of_tlp_white_gives_tlp_clear(cli: Cli, tmp_path: Path) -> None:
    path = event_file(tmp_path, ["tlp:white"])
    code, _out, err = cli(
        "misp", "import", str(path), "--level", "II", "--topic", "dprk-missile", env=ENV
    )
    assert code == 0, err
    report = as_partner(cli.url)[f"report--{EVENT_UUID}"]
    assert TLP_CLEAR in report["object_marking_refs"]


def test_accord_tags_give_the_release_marking(cli: Cli, tmp_path: Path) -> None:
    tags = [
        "tlp:red",
        'accord:originator="KOR"',
        'accord:level="II"',
        'accord:topic="dprk-missile"',
        'accord:rel-to="JPN"',
    ]
    path = event_file(tmp_path, tags)
    code, out, err = cli("misp", "import", str(path), "--json", env=ENV)
    assert code == 0, err
    [event] = json.loads(out)["events"]
    assert event["from_tags"] and event["marking"]["rel_to"] == ["JPN"]
    report = as_partner(cli.url)[f"report--{EVENT_UUID}"]
    assert not any("accord:" in label for label in report.get("labels", [])), "tags taken off"
    assert "USA" not in json.dumps(as_partner(cli.url, "USA").get(f"report--{EVENT_UUID}", {}))
    assert f"report--{EVENT_UUID}" not in as_partner(cli.url, "USA")


def test_accord_tags_of_another_originator_are_refused(cli: Cli, tmp_path: Path) -> None:
    path = event_file(
        tmp_path, ['accord:originator="USA"', 'accord:level="S"', 'accord:topic="cyber"']
    )
    code, out, err = cli("misp", "import", str(path), env=ENV)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and "KOR items only" in err
    assert f"report--{EVENT_UUID}" not in as_partner(cli.url)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not valid JSON"),
        ('{"info": "no Event key"}', "expected MISP events"),
        ('{"Event": {"info": "no uuid"}}', "needs a uuid and an info"),
        ("[]", "no MISP event"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(
    cli: Cli, tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = cli(
        "misp", "import", str(path), "--level", "II", "--topic", "dprk-missile", env=ENV
    )
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and str(path) in err and why in err


def test_a_failed_file_stores_nothing_of_any_file(cli: Cli, tmp_path: Path) -> None:
    event_file(tmp_path, ["tlp:green"], "a.json")
    (tmp_path / "b.json").write_text("{broken")
    code, _out, err = cli(
        "misp", "import", str(tmp_path), "--level", "II", "--topic", "dprk-missile", env=ENV
    )
    assert code == 2 and "b.json" in err
    assert f"report--{EVENT_UUID}" not in as_partner(cli.url)


def test_a_directory_without_events_is_an_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    code, _out, err = cli("misp", "import", str(tmp_path), "--level", "II", env=ENV)
    assert code == 2 and "no MISP event files" in err


def test_an_event_without_tags_or_level_is_an_error(cli: Cli) -> None:
    code, _out, err = cli("misp", "import", str(EVENT), env=ENV)
    assert code == 2 and "no accord tags" in err and "--level" in err


def test_dry_run_stores_nothing(cli: Cli) -> None:
    code, out, err = cli(
        "misp",
        "import",
        str(EVENT),
        "--level",
        "II",
        "--topic",
        "dprk-missile",
        "--dry-run",
        env=ENV,
    )
    assert code == 0, err
    assert "dry run: nothing published" in out
    assert f"report--{EVENT_UUID}" not in as_partner(cli.url)


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without what the feed carries as MISP tags instead (markings, the accord
    taxonomy as labels) and what misp-stix does not carry back from a MISP attribute (an
    indicator's description: the attribute's comment)."""
    out = {k: v for k, v in obj.items() if k not in ("object_marking_refs", "labels")}
    if obj["type"] == "indicator":
        out.pop("description", None)
    return out


def test_feed_loads_with_pymisp_and_converts_back_to_the_same_stix(
    cli: Cli, tmp_path: Path
) -> None:
    from misp_stix_converter import MISPtoSTIX21Parser
    from pymisp import MISPEvent

    assert (
        cli("misp", "import", str(EVENT), "--level", "II", "--topic", "dprk-missile", env=ENV)[0]
        == 0
    )
    out = tmp_path / "feed"
    code, stdout, err = cli("misp", "feed", "--to", "JPN", "--out", str(out), "--json", env=ENV)
    assert code == 0, err
    result = json.loads(stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    assert EVENT_UUID in manifest and result["events"] == len(manifest)
    assert {p.stem for p in out.glob("*.json")} - {"manifest"} == set(manifest)
    rows = list(csv.reader((out / "hashes.csv").read_text().splitlines()))
    assert rows and all(len(r) == 2 and len(r[0]) == 32 and r[1] in manifest for r in rows)
    entry = manifest[EVENT_UUID]
    tags = [t["name"] for t in entry["Tag"]]
    assert "tlp:red" in tags and 'accord:originator="KOR"' in tags and 'accord:level="II"' in tags
    assert 'accord:topic="dprk-missile"' in tags and "tlp:amber" not in tags
    assert set(entry) >= {"info", "date", "analysis", "threat_level_id", "timestamp", "Orgc", "Tag"}

    taxii = as_partner(cli.url)
    event = MISPEvent()
    event.load_file(str(out / f"{EVENT_UUID}.json"))
    assert event.uuid == EVENT_UUID and int(event.distribution) == 0
    assert all(int(a.distribution) == 0 for a in event.attributes)
    assert all(int(a.distribution) == 0 for o in event.objects for a in o.attributes)
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(event)
    back = {o["id"]: o for o in (json.loads(x.serialize()) for x in parser.stix_objects)}
    report = taxii[f"report--{EVENT_UUID}"]
    sent = {i: taxii[i] for i in [report["id"], report["created_by_ref"], *report["object_refs"]]}
    assert {i for i in back if not i.startswith("marking-definition--")} == set(sent)
    for oid, obj in sent.items():
        assert _strip(back[oid]) == _strip(obj), oid
    labels = back[f"report--{EVENT_UUID}"]["labels"]
    assert set(taxii[f"report--{EVENT_UUID}"]["labels"]) <= set(labels)


def test_feed_is_stable_and_recorded_as_a_release(cli: Cli, tmp_path: Path) -> None:
    assert (
        cli("misp", "import", str(EVENT), "--level", "II", "--topic", "dprk-missile", env=ENV)[0]
        == 0
    )
    first, second = tmp_path / "one", tmp_path / "two"
    assert cli("misp", "feed", "--to", "JPN", "--out", str(first), env=ENV)[0] == 0
    assert cli("misp", "feed", "--to", "JPN", "--out", str(second), env=ENV)[0] == 0
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    releases = [
        r
        for r in audit.export(open_store(cli.url))
        if r["kind"] == "release" and r["body"].get("channel") == "misp-feed"
    ]
    assert releases and all(
        r["actor"] == "cli:operator" and r["subject"] == "JPN" for r in releases
    )
    released = {o[0] for r in releases for o in r["body"]["objects"]}
    assert f"report--{EVENT_UUID}" in released


def test_feed_of_a_partner_that_receives_nothing(cli: Cli, tmp_path: Path) -> None:
    assert (
        cli("misp", "import", str(EVENT), "--level", "II", "--topic", "dprk-missile", env=ENV)[0]
        == 0
    )
    out = tmp_path / "chn"
    code, stdout, err = cli("misp", "feed", "--to", "CHN", "--out", str(out), "--json", env=ENV)
    assert code == 0, err
    assert json.loads((out / "manifest.json").read_text()) == {}
    assert (out / "hashes.csv").read_text() == ""


@pytest.mark.parametrize(
    ("party", "why"), [("XXX", "not a known party"), ("KOR", "this node's party")]
)
def test_feed_to_a_party_that_is_no_partner(cli: Cli, tmp_path: Path, party: str, why: str) -> None:
    code, out, err = cli("misp", "feed", "--to", party, "--out", str(tmp_path / "f"), env=ENV)
    assert code == 2 and out == "" and why in err and err.count("\n") == 1


def test_an_event_copied_twice_in_one_file_is_stored_once(cli: Cli, tmp_path: Path) -> None:
    data = json.loads(EVENT.read_text())
    path = tmp_path / "two.json"
    path.write_text(json.dumps([data, copy.deepcopy(data)]))
    code, out, err = cli(
        "misp", "import", str(path), "--level", "II", "--topic", "dprk-missile", "--json", env=ENV
    )
    assert code == 0, err
    assert len(json.loads(out)["events"]) == 2
