"""`accord peer add|list|show|remove` and `accord sync`, as an operator runs them (issue #5):
the forms the issue names, against a real Japanese node on loopback, and every bad input refused
with one line and exit 2 before anything changes."""

from __future__ import annotations

import gc
import json
import os
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from cli_runner import Cli
from medallion_peer import (
    BOTH,
    DROP,
    FEED,
    FEED_INDICATORS,
    TAXII,
    TLP_GREEN,
    Medallion,
    start_medallion,
)
from taxii_live import LiveNode, free_port, start_node

from accord.audit import log as audit
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.exchange.marking_rows import marking_index
from accord.exchange.queries import Query, page
from accord.exchange.stix import format_us
from accord.federation.discovery import resolve
from accord.federation.peers import add_peer, get_cursor, syncing
from accord.federation.sync import sync_peer
from accord.policy.marking import Marking
from accord.principals import add_principal, revoke_principal
from accord.principals.authority import host_actor
from accord.server import prepare
from accord.settings import load_settings
from accord.store import open_store
from backends import sqlite_store

# In the full suite, not the fast loop (-m "not slow"): live nodes syncing over HTTP.
pytestmark = pytest.mark.slow

AFTER = date(2017, 6, 1)  # the Korea–Japan GSOMIA in force
OK = Marking.of("KOR", "II", ["general-military"], groups=["military"])  # releasable to JPN
SECRET = "kor-node-secret-7c1f"
IDS = [f"indicator--00000000-0000-4000-a000-{i:012d}" for i in range(30)]


@pytest.fixture
def jpn(tmp_path: Path) -> Iterator[LiveNode]:
    node = start_node(sqlite_store(tmp_path / "jpn.db"), party="JPN", as_of=AFTER)
    add_principal(node.store, "kor-cli-peer", "partner", "KOR", SECRET)
    yield node
    node.stop()


@pytest.fixture
def cli(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    """Korea's store, set up as `accord serve` would, with 30 indicators releasable to Japan.
    `accord sync` settles the collector of its process (`accord.server.settle_collector`):
    run in this one, its settings are put back afterwards."""
    monkeypatch.delenv("ACCORD_PEER_PASSWORD", raising=False)
    store = open_store(store_url)
    try:
        prepare(store, load_settings(environ={"ACCORD_PARTY": "KOR"}), extras=False)
        items = next(c for c in list_collections(store, "kor") if c.kind == "items")
        objs: list[dict[str, object]] = [mk.marking_definition(OK)]
        objs += [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": oid,
                "created": "2017-01-01T00:00:00.000Z",
                "modified": "2017-01-01T00:00:00.000Z",
                "pattern": f"[ipv4-addr:value = '198.51.100.{i}']",
                "pattern_type": "stix",
                "valid_from": "2017-01-01T00:00:00Z",
                "object_marking_refs": [mk.marking_id(OK)],
            }
            for i, oid in enumerate(IDS)
        ]
        assert all(
            o.ok
            for o in add_objects(store, items, objs, Writer.host("analyst", "KOR"), lambda m: None)
        )
    finally:
        store.close()
    monkeypatch.setenv("ACCORD_PARTY", "KOR")
    monkeypatch.setenv("ACCORD_DATE", AFTER.isoformat())
    threshold = gc.get_threshold()
    yield Cli(store_url, capsys, monkeypatch)
    gc.unfreeze()
    gc.set_threshold(*threshold)


def held_by(node: LiveNode) -> dict[str, int]:
    """stix_id → stored versions in the node's inbox (this suite's indicators only)."""
    inbox = next(c for c in list_collections(node.store, "jpn") if c.kind == "inbox")
    rows, _ = page(node.store, inbox.key, None, Query(versions=("all",)), None, 10_000)
    counts: dict[str, int] = {}
    for r in rows:
        if r.stix_id in IDS:
            counts[r.stix_id] = counts.get(r.stix_id, 0) + 1
    return counts


def records(url: str, kind: str) -> list[dict[str, object]]:
    store = open_store(url)
    try:
        return [r for r in audit.export(store) if r["kind"] == kind]
    finally:
        store.close()


def test_peer_add_list_remove(cli: Cli, jpn: LiveNode) -> None:
    code, out, err = cli(
        "peer", "add", "jpn", "--party", "jpn", "--url", jpn.url + "/", "--user", "kor-cli-peer",
        "--no-pull", "--json", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert added == {
        "name": "jpn", "party": "JPN", "url": jpn.url, "api_root": "jpn", "user": "kor-cli-peer",
        "push": True, "pull": False, "kind": "accord", "pull_from": ["items", "inbox"],
        "push_to": "inbox", "markings": {}, "stix20": False, "client_cert": None,
        "client_key": None, "ca": None,
    }  # fmt: skip
    code, out, _ = cli("peer", "list", "--json")
    assert code == 0 and json.loads(out) == [added]
    code, out, _ = cli("peer", "list")
    assert code == 0 and "jpn" in out and "kor-cli-peer" in out and SECRET not in out
    code, out, _ = cli("peer", "remove", "jpn", "--json")
    assert code == 0 and json.loads(out) == {"name": "jpn", "removed": True}
    assert json.loads(cli("peer", "list", "--json")[1]) == []
    # Both changes are in the audit trail; the secret is nowhere in it.
    changes = records(cli.url, "credential")
    assert [r["body"]["action"] for r in changes] == ["peer-add", "peer-remove"]
    # Trust in a foreign node is set up on the host: the records name the host account.
    assert {r["actor"] for r in changes} == {host_actor()}
    assert SECRET not in json.dumps(changes)


def test_peer_secret_from_the_environment(cli: Cli, jpn: LiveNode) -> None:
    cli.monkeypatch.setenv("ACCORD_PEER_PASSWORD", SECRET)
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer"
    )
    assert code == 0, err
    code, out, err = cli("sync", "jpn", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["ok"] is True  # the secret taken from the environment works


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--party", "XXX", "--url", "http://127.0.0.1:9", "--user", "u"], "s\n",
         "--party: 'XXX' is not a known party"),
        (["--party", "JPN", "--url", "ftp://127.0.0.1:9", "--user", "u"], "s\n",
         "--url: 'ftp://127.0.0.1:9' is not an http(s) URL"),
        (["--party", "JPN", "--url", "http://127.0.0.1:9", "--user", "u"], "\n",
         "the peer's secret is empty"),
    ],
    ids=["unknown-party", "not-http", "empty-secret"],
)  # fmt: skip
def test_peer_add_bad_input_exits_2(cli: Cli, args: list[str], stdin: str, message: str) -> None:
    code, out, err = cli("peer", "add", "jpn", *args, stdin=stdin)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert json.loads(cli("peer", "list", "--json")[1]) == []


def test_peer_add_twice_and_remove_unknown_exit_2(cli: Cli, jpn: LiveNode) -> None:
    add = ("peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer")
    assert cli(*add, stdin=SECRET + "\n")[0] == 0
    code, _, err = cli(*add, stdin="other\n")
    assert code == 2 and "a peer named 'jpn' exists" in err
    code, _, err = cli("peer", "remove", "nope")
    assert code == 2 and "no peer named 'nope'" in err
    assert [p["name"] for p in json.loads(cli("peer", "list", "--json")[1])] == ["jpn"]


def _add(cli: Cli, jpn: LiveNode) -> None:
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer",
        "--no-pull", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err


def test_sync_sends_once_and_again_only_when_asked(cli: Cli, jpn: LiveNode) -> None:
    _add(cli, jpn)
    code, out, err = cli("sync", "jpn", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first[0]["ok"] and first[0]["pushed"] >= len(IDS) and "again" not in first[0]
    assert held_by(jpn) == dict.fromkeys(IDS, 1)
    code, out, _ = cli("sync", "jpn", "--json")
    assert code == 0 and json.loads(out)[0]["pushed"] == 0  # sent once
    # Asked again from a moment after everything was added: nothing to send.
    code, out, _ = cli("sync", "jpn", "--again", "--since", "2999-01-01T00:00:00Z", "--json")
    assert code == 0
    late = json.loads(out)[0]
    assert late["pushed"] == 0
    assert late["again"] == {"since": "2999-01-01T00:00:00.000000Z", "cursors": []}
    # Asked again from the start: everything goes again; Japan keeps one copy of each version.
    code, out, err = cli("sync", "jpn", "--again", "--json")
    assert code == 0, err
    again = json.loads(out)[0]
    assert again["pushed"] == first[0]["pushed"]
    assert again["again"]["since"] == "1970-01-01T00:00:00.000000Z"
    [moved] = again["again"]["cursors"]
    assert moved["direction"] == "push" and moved["to"] == "1970-01-01T00:00:00.000000Z"
    assert held_by(jpn) == dict.fromkeys(IDS, 1)
    assert [r["body"]["action"] for r in records(cli.url, "sync")] == ["again", "again"]
    # The human form says what was asked.
    code, out, _ = cli("sync", "jpn", "--again", "--since", "2017-01-01")
    assert code == 0
    assert "jpn: sent and read again what was added after 2017-01-01T00:00:00.000000Z" in out
    assert "push " in out and "pushed " in out


def test_sync_again_is_kept_when_the_peer_is_down(cli: Cli, jpn: LiveNode) -> None:
    """The request to send again is durable: with the peer down, the sync fails (exit 1) and
    the cursor stays where it was asked to be, so the next sync sends it all."""
    _add(cli, jpn)
    assert cli("sync", "jpn", "--json")[0] == 0
    jpn.stop()
    code, out, _ = cli("sync", "jpn", "--again", "--json")
    assert code == 1
    report = json.loads(out)[0]
    assert report["ok"] is False and "did not answer" in report["errors"][0]
    assert len(report["again"]["cursors"]) == 1
    store = open_store(cli.url)
    try:
        items = next(c for c in list_collections(store, "kor") if c.kind == "items")
        assert get_cursor(store, "jpn", "push", items.id) == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--again"], "--again needs a PEER"),
        (["sync", "jpn", "--since", "2017-01-01"], "--since goes with --again"),
        (["sync", "jpn", "--again", "--since", "yesterday"],
         "--since: 'yesterday' is not a date (YYYY-MM-DD) or a UTC timestamp"),
        (["sync", "jpn", "--again", "--since", "2017-02-30"],
         "--since: '2017-02-30' is not a date"),
        (["sync", "jpn", "--again", "--since", "1969-12-31"],
         "--since: '1969-12-31' is before 1970"),
        (["sync", "nope", "--again"], "no peer named 'nope'"),
        (["sync", "nope"], "no peer named 'nope'"),
    ],
    ids=["again-without-peer", "since-without-again", "since-not-a-date", "since-no-such-day",
         "since-before-1970",
         "again-unknown-peer", "unknown-peer"],
)  # fmt: skip
def test_sync_bad_input_exits_2_and_changes_nothing(
    cli: Cli, args: list[str], message: str
) -> None:
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", f"http://127.0.0.1:{free_port()}",
        "--user", "kor-cli-peer", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    before = records(cli.url, "sync")
    code, out, err = cli(*args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert records(cli.url, "sync") == before == []


def test_sync_again_while_another_sync_holds_the_peer_changes_nothing(
    cli: Cli, jpn: LiveNode
) -> None:
    """A sync already running for the peer (here: held by the test) refuses this one (exit 1,
    the holder named) before its cursors move back: nothing is asked again, nothing recorded."""
    _add(cli, jpn)
    assert cli("sync", "jpn", "--json")[0] == 0
    store = open_store(cli.url)
    try:
        items = next(c for c in list_collections(store, "kor") if c.kind == "items")
        before = get_cursor(store, "jpn", "push", items.id)
        with syncing(store, "jpn"):
            code, out, _ = cli("sync", "jpn", "--again", "--json")
        assert code == 1
        [report] = json.loads(out)
        assert report["errors"][0].startswith("peer jpn is being synchronised by process")
        assert "again" not in report and report["pushed"] == 0
        assert get_cursor(store, "jpn", "push", items.id) == before > 0
    finally:
        store.close()
    assert records(cli.url, "sync") == []
    code, out, _ = cli("sync", "jpn", "--again", "--json")  # free again
    assert code == 0 and json.loads(out)[0]["pushed"] > 0


def test_peer_show_says_where_sync_stands_and_who_holds_it(cli: Cli, jpn: LiveNode) -> None:
    _add(cli, jpn)
    code, out, _ = cli("peer", "show", "jpn", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["name"] == "jpn" and shown["cursors"] == [] and shown["syncing"] is None
    assert "secret" not in out and SECRET not in out
    assert "never synchronised" in cli("peer", "show", "jpn")[1]
    assert cli("sync", "jpn", "--json")[0] == 0
    store = open_store(cli.url)
    try:
        items = next(c for c in list_collections(store, "kor") if c.kind == "items")
        rows, _ = page(store, items.key, None, Query(versions=("all",)), None, 10_000)
        [cursor] = json.loads(cli("peer", "show", "jpn", "--json")[1])["cursors"]
        # Up to the newest version sent: every object of the collection was releasable to JPN.
        assert cursor["direction"] == "push" and cursor["collection"] == items.id
        assert cursor["position"] == format_us(max(r.date_added for r in rows))
        with syncing(store, "jpn"):
            code, out, _ = cli("peer", "show", "jpn", "--json")
            held = json.loads(out)["syncing"]
            assert held["by"] == f"{os.getpid()}@{socket.gethostname()}"
            assert "a sync holds it now" in cli("peer", "show", "jpn")[1]
    finally:
        store.close()
    assert json.loads(cli("peer", "show", "jpn", "--json")[1])["syncing"] is None
    code, _, err = cli("peer", "show", "nope")
    assert code == 2 and "no peer named 'nope'" in err


def test_the_discovery_url_is_resolved_and_shown(cli: Cli, jpn: LiveNode) -> None:
    """`--url` takes the discovery URL any TAXII user would paste (before, the node appended the
    API root to it, read 404 everywhere and reported `"ok": true`): discovery finds the API root
    and Japan's collections, `peer show` says what it resolved, and the sync moves items."""
    code, out, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url + "/taxii2/",
        "--user", "kor-cli-peer", "--json", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    added = json.loads(out)
    assert added["url"] == jpn.url and added["api_root"] == "jpn"
    assert added["kind"] == "accord"
    assert added["pull_from"] == ["items", "inbox"] and added["push_to"] == "inbox"
    code, out, _ = cli("peer", "show", "jpn")
    assert code == 0 and "an accord node; reads items, inbox; writes to inbox" in out
    code, out, err = cli("sync", "jpn", "--json")
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["ok"] and report["pushed"] >= len(IDS)
    assert held_by(jpn) == dict.fromkeys(IDS, 1)


@pytest.mark.parametrize(
    ("where", "secret", "message"),
    [
        ("", "not-the-secret", "answered HTTP 401: the peer refuses these credentials"),
        ("/nothing/here/", SECRET, "no TAXII 2.1 discovery resource at"),
    ],
)
def test_a_peer_that_cannot_be_resolved_is_not_added(
    cli: Cli, jpn: LiveNode, where: str, secret: str, message: str
) -> None:
    code, out, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url + where,
        "--user", "kor-cli-peer", stdin=secret + "\n",
    )  # fmt: skip
    assert code == 2 and message in err, err
    assert len([x for x in err.splitlines() if x.startswith("accord: error:")]) == 1, err
    code, out, _ = cli("peer", "list", "--json")
    assert json.loads(out) == []


def test_a_pull_that_cannot_read_is_an_error_and_exit_1(cli: Cli, jpn: LiveNode) -> None:
    """Any answer other than a page is an error in the report, with the URL and the status, and
    `accord sync` exits 1; nothing is stored. (Before, a 403 or 404 read as "the peer does not
    let us read that collection": `"pulled": 0, "errors": [], "ok": true`.)"""
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer",
        "--no-push", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    revoke_principal(jpn.store, "kor-cli-peer")  # Japan withdraws the credential
    code, out, _ = cli("sync", "jpn", "--json")
    assert code == 1
    (report,) = json.loads(out)
    assert report["ok"] is False and report["pulled"] == 0
    (error,) = report["errors"]
    assert "answered HTTP 401" in error and f"GET {jpn.url}/jpn/collections/items/objects/" in error
    assert records(cli.url, "receipt") == []


# ---- a peer that is not an accord node: the OASIS reference server, medallion 3.0.0 ----------


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[Medallion]:
    server = start_medallion(tmp_path / "medallion")
    yield server
    server.stop()


def _add_medallion(cli: Cli, server: Medallion, *extra: str) -> tuple[int, str, str]:
    return cli(
        "peer", "add", "med", "--party", "JPN", "--url", server.discovery, "--user", server.user,
        *extra, "--json", stdin=server.secret + "\n",
    )  # fmt: skip


def test_a_foreign_taxii_server_is_resolved_by_discovery(cli: Cli, medallion: Medallion) -> None:
    """Any TAXII 2.1 server: the discovery's default API root, the one collection the credential
    may read and the one it may write; `peer show` says so."""
    code, out, err = _add_medallion(cli, medallion)
    assert code == 0, err
    added = json.loads(out)
    assert added["kind"] == "taxii" and added["api_root"] == "api1"
    assert added["url"] == medallion.base
    assert added["pull_from"] == [FEED] and added["push_to"] == DROP
    code, out, _ = cli("peer", "show", "med")
    assert f"a TAXII 2.1 server; reads {FEED}; writes to {DROP}" in out


def test_a_foreign_servers_unmarked_content_is_refused_and_reported(
    cli: Cli, medallion: Medallion
) -> None:
    """medallion's feed carries TLP:GREEN only, no release marking: every indicator is refused
    and counted in the report, none stored; the sync itself worked (exit 0)."""
    assert _add_medallion(cli, medallion, "--no-push")[0] == 0
    code, out, err = cli("sync", "med", "--json")
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["ok"] and report["errors"] == []
    assert report["pulled"] == 0 and report["pull_refused"] >= len(FEED_INDICATORS)
    refused = records(cli.url, "refusal")
    assert refused and all("no release marking" in json.dumps(r["body"]) for r in refused)


def test_items_pushed_to_a_foreign_server_read_back_with_taxii2_client(
    cli: Cli, medallion: Medallion
) -> None:
    """--api-root api2 names the other root; its one collection is both read and written. What
    Korea may release to Japan arrives there, and the reference client reads it back as sent."""
    code, out, err = _add_medallion(cli, medallion, "--api-root", "api2", "--no-pull")
    assert code == 0, err
    assert json.loads(out)["push_to"] == BOTH
    code, out, err = cli("sync", "med", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["pushed"] >= len(IDS)
    held = {o["id"] for o in medallion.objects(BOTH, "api2")}
    assert set(IDS) <= held


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--pull-from", "nope"), "--pull-from: the peer has no collection 'nope'"),
        (("--push-to", FEED), "--push-to: the peer does not let this credential write"),
        (("--api-root", "api9"), "--api-root: 'api9' is not one of the peer's"),
    ],
    ids=["unknown-collection", "read-only-collection", "unknown-root"],
)
def test_a_wrong_collection_or_root_is_named(
    cli: Cli, medallion: Medallion, extra: tuple[str, str], message: str
) -> None:
    code, _, err = _add_medallion(cli, medallion, *extra)
    assert code == 2 and message in err, err
    assert json.loads(cli("peer", "list", "--json")[1]) == []


def test_a_stopped_foreign_server_is_an_error_and_exit_1(cli: Cli, medallion: Medallion) -> None:
    assert _add_medallion(cli, medallion)[0] == 0
    medallion.stop()
    code, out, _ = cli("sync", "med", "--json")
    assert code == 1
    (report,) = json.loads(out)
    assert not report["ok"] and "did not answer" in report["errors"][0]
    assert records(cli.url, "receipt") == []


def test_each_version_goes_once_in_both_directions_over_several_rounds(
    cli: Cli, jpn: LiveNode
) -> None:
    """Korea pushes and pulls with Japan, Japan pushes and pulls with Korea, three rounds. Korea's
    items reach Japan once; pulling Japan's view does not bring them back into Korea's inbox as
    new items; no round after the first sends anything again; "who has my item?" lists one
    release per version."""
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer",
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    # Japan syncs with Korea too: Korea's node served live, Japan's peer record pointing at it.
    kor = start_node(cli.url, party="KOR", as_of=AFTER)
    add_principal(kor.store, "jpn-cli-peer", "partner", "JPN", SECRET)
    back = add_peer(
        jpn.store, "kor", "KOR", kor.url, "jpn-cli-peer", SECRET,
        resolved=resolve(kor.url, "jpn-cli-peer", SECRET),
    )  # fmt: skip
    reports, answers = [], []
    try:
        for _ in range(3):
            code, out, err = cli("sync", "jpn", "--json")
            assert code == 0, err
            reports.append(json.loads(out)[0])
            answers.append(sync_peer(jpn.node, back).to_json())
    finally:
        kor.stop()
    assert all(a["ok"] for a in answers), answers
    assert [a["pushed"] for a in answers[1:]] == [0, 0], answers
    assert reports[0]["pushed"] >= len(IDS)
    assert [r["pushed"] for r in reports[1:]] == [0, 0], reports
    assert [r["pulled"] for r in reports[1:]] == [0, 0], reports
    assert held_by(jpn) == dict.fromkeys(IDS, 1)
    store = open_store(cli.url)
    try:
        inbox = next(c for c in list_collections(store, "kor") if c.kind == "inbox")
        rows, _ = page(store, inbox.key, None, Query(versions=("all",)), None, 10_000)
        assert not [r.stix_id for r in rows if r.stix_id in IDS]  # its own items, not again
    finally:
        store.close()
    for oid in IDS[:3]:
        code, out, _ = cli("audit", "disclosures", oid, "--json")
        (release,) = json.loads(out)  # one release, though the version reached Japan twice:
        assert release["party"] == "JPN" and release["transmissions"] == 2  # pushed, then read
        assert len(release["records"]) == 2


# ---- foreign markings, the record of versions read, ACS 3.0 out -----------------------------

JPN_U = "JPN U general-military"


def _inbox_bodies(url: str) -> dict[str, dict[str, object]]:
    store = open_store(url)
    try:
        inbox = next(c for c in list_collections(store, "kor") if c.kind == "inbox")
        rows, _ = page(store, inbox.key, None, Query(versions=("all",)), None, 10_000)
        return {r.stix_id: json.loads(r.body) for r in rows}
    finally:
        store.close()


def test_a_foreign_servers_tlp_content_is_mapped_by_the_peers_table(
    cli: Cli, medallion: Medallion
) -> None:
    """`--map TLP:GREEN=…`: medallion's TLP:GREEN indicators are stored with the mapped release
    marking beside TLP:GREEN, which stays on them; the predefined TLP definition is known, not
    stored; `peer show` prints the table; a second sync reads nothing new."""
    code, out, err = _add_medallion(cli, medallion, "--no-push", "--map", f"TLP:GREEN={JPN_U}")
    assert code == 0, err
    assert json.loads(out)["markings"] == {"TLP:GREEN": "JPN U general-military"}
    assert "marking TLP:GREEN → JPN U general-military" in cli("peer", "show", "med")[1]
    code, out, err = cli("sync", "med", "--json")
    assert code == 0, err
    (report,) = json.loads(out)
    assert report["ok"] and report["pull_refused"] == 0, report
    stored = _inbox_bodies(cli.url)
    release = mk.marking_id(Marking.of("JPN", "U", ["general-military"]))
    for oid in FEED_INDICATORS:
        assert stored[oid]["object_marking_refs"] == [TLP_GREEN, release]
    assert TLP_GREEN not in stored and release in stored
    code, out, _ = cli("sync", "med", "--json")
    assert code == 0 and json.loads(out)[0]["pulled"] == 0  # every version read is recorded


def test_the_settings_table_maps_when_the_peer_names_nothing(
    cli: Cli, medallion: Medallion, tmp_path: Path
) -> None:
    config = tmp_path / "accord.toml"
    config.write_text(f'[foreign_markings]\n"tlp:green" = "{JPN_U}"\n')
    assert _add_medallion(cli, medallion, "--no-push")[0] == 0
    code, out, err = cli("sync", "med", "--json", env={"ACCORD_CONFIG": str(config)})
    assert code == 0, err
    assert json.loads(out)[0]["pull_refused"] == 0
    assert set(FEED_INDICATORS) <= set(_inbox_bodies(cli.url))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("TLP:GREEN", "expected FOREIGN=ORIGINATOR LEVEL TOPIC"),
        ("TLP:GREEN=JPN SECRET general-military", "'SECRET' is not a level of JPN"),
        ("TLP:GREEN=XXX U general-military", "'XXX' is not a known party"),
        ("TLP:GREEN=JPN U", "needs an originator, a level and at least one topic"),
    ],
    ids=["no-target", "unknown-level", "unknown-party", "no-topic"],
)
def test_a_bad_map_entry_is_named_and_nothing_is_added(
    cli: Cli, medallion: Medallion, entry: str, message: str
) -> None:
    code, _, err = _add_medallion(cli, medallion, "--map", entry)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert json.loads(cli("peer", "list", "--json")[1]) == []


def test_a_map_for_an_accord_node_is_refused(cli: Cli, jpn: LiveNode) -> None:
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer",
        "--map", f"TLP:GREEN={JPN_U}", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 2 and "is an accord node" in err


def _indicator(n: int) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--9c1a2b3c-0000-4000-8000-{n:012d}",
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '192.0.2.{n}']",
        "pattern_type": "stix",
        "valid_from": "2024-03-01T00:00:00Z",
        "object_marking_refs": [TLP_GREEN],
    }


def test_a_peer_whose_date_added_is_not_monotonic_misses_nothing(cli: Cli, tmp_path: Path) -> None:
    """An object already in medallion's shared collection was added "in 2030" (an import
    keeping its source's dates); one posted afterwards is added now, before it. Read with
    added_after from the last date seen, the later object would never be read; read whole with
    the record of versions, it is read once, and nothing is stored twice."""
    server = start_medallion(
        tmp_path / "med2", shared=[(_indicator(1), "2030-01-01T00:00:00.000000Z")]
    )
    try:
        code, _, err = _add_medallion(
            cli, server, "--api-root", "api2", "--no-push", "--map", f"TLP:GREEN={JPN_U}"
        )
        assert code == 0, err
        code, out, err = cli("sync", "med", "--json")
        assert code == 0, err
        assert json.loads(out)[0]["pulled"] == 2  # the indicator and its release marking
        posted = httpx.post(
            server.collection_url(BOTH, "api2") + "objects/",
            auth=(server.user, server.secret),
            headers={"Accept": TAXII, "Content-Type": TAXII},
            json={"objects": [_indicator(2)]},
        )
        assert posted.status_code == 202, posted.text
        code, out, err = cli("sync", "med", "--json")
        assert code == 0, err
        assert json.loads(out)[0]["pulled"] == 1
        stored = _inbox_bodies(cli.url)
        assert {_indicator(1)["id"], _indicator(2)["id"]} <= set(stored)
        code, out, _ = cli("sync", "med", "--json")
        assert json.loads(out)[0]["pulled"] == 0
    finally:
        server.stop()


def test_a_foreign_server_gets_acs_beside_accords_marking(cli: Cli, medallion: Medallion) -> None:
    """Each item pushed to a TAXII server that is not an accord node also names an ACS 3.0
    marking: classification on the US scale through the agreement's equivalence table, Korea
    and Japan as the permitted nationalities, further sharing denied; accord's own marking stays."""
    assert _add_medallion(cli, medallion, "--api-root", "api2", "--no-pull")[0] == 0
    code, out, err = cli("sync", "med", "--json")
    assert code == 0, err
    held = {o["id"]: o for o in medallion.objects(BOTH, "api2")}
    acs_ids = {
        oid
        for oid, o in held.items()
        if oid.startswith("marking-definition--") and mk.ACS_EXTENSION in o.get("extensions", {})
    }
    assert len(acs_ids) == 1
    (acs_id,) = acs_ids
    ext = held[acs_id]["extensions"][mk.ACS_EXTENSION]
    assert ext["control_set"]["permitted_nationalities"] == ["JPN", "KOR"]
    assert ext["control_set"]["classification"] in ("C", "S", "TS")
    assert ext["responsible_entity_originator"] == "KOR.ACCORD"
    assert ext["further_sharing"] == [{"sharing_scope": ["FOREIGNGOV"], "rule_effect": "deny"}]
    partner_form = mk.marking_id(OK.without_groups())
    for oid in IDS:
        assert held[oid]["object_marking_refs"] == [partner_form, acs_id]


def test_three_nodes_through_a_foreign_hub_each_version_once(
    cli: Cli, medallion: Medallion, jpn: LiveNode
) -> None:
    """Korea pushes to medallion's shared collection; Japan's accord node pulls it from there
    (a peer that is not an accord node, operated for Korea). Over three rounds each version
    reaches Japan once, under Korea's own release marking (the ACS marking beside it defers to
    it), and Korea lists one release per version."""
    code, _, err = _add_medallion(cli, medallion, "--api-root", "api2", "--no-pull")
    assert code == 0, err
    hub = add_peer(
        jpn.store, "hub", "KOR", medallion.discovery, medallion.user, medallion.secret,
        push=False, resolved=resolve(medallion.discovery, medallion.user, medallion.secret, "api2"),
    )  # fmt: skip
    assert not hub.accord and hub.pull_from == (BOTH,)
    pushed, pulled = [], []
    for _ in range(3):
        code, out, err = cli("sync", "med", "--json")
        assert code == 0, err
        pushed.append(json.loads(out)[0]["pushed"])
        report = sync_peer(jpn.node, hub).to_json()
        assert report["ok"], report
        pulled.append(report["pulled"])
    assert pushed[0] >= len(IDS) and pushed[1:] == [0, 0]
    assert pulled[0] >= len(IDS) and pulled[1:] == [0, 0], pulled
    assert held_by(jpn) == dict.fromkeys(IDS, 1)
    index = marking_index(jpn.store)
    inbox = next(c for c in list_collections(jpn.store, "jpn") if c.kind == "inbox")
    rows, _ = page(jpn.store, inbox.key, None, Query(), None, 10_000)
    kept = {mk.marking_id(index.by_row[r.marking]) for r in rows if r.stix_id in IDS}
    assert kept == {mk.marking_id(OK.without_groups())}  # accord's marking, not the ACS one
    for oid in IDS[:3]:
        code, out, _ = cli("audit", "disclosures", oid, "--json")
        (release,) = json.loads(out)
        assert release["party"] == "JPN" and release["transmissions"] == 1


def _stix20_indicator() -> dict[str, object]:
    return {
        "type": "indicator",
        "id": "indicator--20202020-0000-4000-8000-000000000001",
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "labels": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '192.0.2.20']",
        "valid_from": "2024-03-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
    }


@pytest.mark.parametrize("opt_in", [True, False], ids=["stix20", "stix21-only"])
def test_a_stix20_peer_is_upgraded_only_when_declared(
    cli: Cli, tmp_path: Path, opt_in: bool
) -> None:
    """A server still serving STIX 2.0 (labels, no spec_version, TLP 1.0): declared with
    `--stix20`, its indicator is stored as STIX 2.1 (indicator_types, pattern_type) under the
    mapped marking; not declared, it is refused as STIX 2.0 and reported."""
    server = start_medallion(
        tmp_path / "med20", shared=[(_stix20_indicator(), "2024-03-02T00:00:00.000000Z")]
    )
    try:
        extra = ["--stix20"] if opt_in else []
        code, _, err = _add_medallion(
            cli, server, "--api-root", "api2", "--no-push", "--map", f"TLP:GREEN={JPN_U}", *extra
        )
        assert code == 0, err
        code, out, err = cli("sync", "med", "--json")
        assert code == 0, err
        (report,) = json.loads(out)
        stored = _inbox_bodies(cli.url)
        oid = str(_stix20_indicator()["id"])
        if opt_in:
            assert report["pull_refused"] == 0, report
            got = stored[oid]
            assert got["spec_version"] == "2.1" and got["pattern_type"] == "stix"
            assert got["indicator_types"] == ["malicious-activity"] and "labels" not in got
        else:
            assert report["pull_refused"] == 1 and oid not in stored
            (refusal,) = records(cli.url, "refusal")
            assert "STIX 2.0" in json.dumps(refusal["body"])
    finally:
        server.stop()


def test_peer_add_pins_the_peers_key(cli: Cli, jpn: LiveNode) -> None:
    """`accord peer add … --key KEY` pins the key Japan's `accord key show` prints, for Japan; a
    malformed key is refused before the peer is contacted or recorded."""
    from accord.trust import keys

    key = keys.public_hex(keys.node_key(jpn.store))
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer",
        "--key", "00ff", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 2 and "64 hexadecimal characters" in err
    assert json.loads(cli("peer", "list", "--json")[1]) == []
    code, out, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--user", "kor-cli-peer",
        "--key", key, "--json", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["key"] == {"public_key": key, "fingerprint": keys.fingerprint(key)}
    pinned = json.loads(cli("key", "list", "--json")[1])
    assert {(k["party"], k["public_key"]) for k in pinned} >= {("JPN", key)}
