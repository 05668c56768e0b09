"""A partner holds this node to its audit chain: Japan syncs with Korea and keeps Korea's signed
checkpoint; Korea is restored from an older backup and goes on; Japan's next sync says that
Korea's chain forked, records it, and `accord sync` exits 1. Live nodes on loopback."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from taxii_live import LiveNode, basic, start_node

from accord.audit import backup, checkpoints, log
from accord.federation import chains
from accord.federation.peers import add_peer, list_peers
from accord.federation.sync import sync_peer
from accord.principals import add_principal
from accord.store import open_store
from accord.store.audit_schema import audit_log
from accord.store.federation_schema import peers
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

pytestmark = pytest.mark.slow  # two live nodes, one restarted

SECRET = "jpn-fork-secret"


def _url(backend: str, path: Path, made: list[str]) -> str:
    if backend == "sqlite":
        return sqlite_store(path)
    url, name = make_pg_database()
    made.append(name)
    return url


class Pair:
    def __init__(self, kor: LiveNode, jpn: LiveNode, kor_url: str) -> None:
        self.kor, self.jpn, self.kor_url = kor, jpn, kor_url

    def sync(self) -> dict[str, object]:
        (peer,) = list_peers(self.jpn.store)
        return sync_peer(self.jpn.node, peer, retries=2).to_json()

    def restart_kor(self) -> None:
        self.kor.stop()
        self.kor = start_node(self.kor_url, party="KOR")
        with self.jpn.store.begin() as conn:
            conn.execute(sa.update(peers).where(peers.c.name == "kor").values(url=self.kor.url))


@pytest.fixture(params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    made: list[str] = []
    kor_url = _url(request.param, tmp_path / "kor.db", made)
    kor = start_node(kor_url, party="KOR")
    jpn = start_node(_url(request.param, tmp_path / "jpn.db", made), party="JPN")
    add_principal(kor.store, "jpn-peer", "partner", "JPN", SECRET)
    add_peer(jpn.store, "kor", "KOR", kor.url, "jpn-peer", SECRET, push=False)
    p = Pair(kor, jpn, kor_url)
    try:
        yield p
    finally:
        p.kor.stop()
        p.jpn.stop()
        for name in made:
            drop_pg_database(name)


def _records(node: LiveNode, n: int) -> None:
    for i in range(n):
        log.record(node.store, "release", "jpn-peer", "JPN", {"objects": [[f"x--{i}", "v", "1"]]})


def test_the_checkpoint_resource_signs_the_head_or_one_record(pair: Pair) -> None:
    kor = pair.kor
    _records(kor, 3)
    who = {
        "Accept": "application/taxii+json;version=2.1",
        "Authorization": basic("jpn-peer", SECRET),
    }
    path = f"/kor/{chains.PATH}"
    head = kor.http.get(path, headers=who)
    assert head.status_code == 200, head.text
    cp = checkpoints.parse(head.json())
    assert checkpoints.check_signature(cp)
    assert cp.public_key == checkpoints.public_key_hex(kor.store)
    assert set(head.json()) == {"seq", "at", "hash", "public_key", "signature"}  # nothing more
    one = checkpoints.parse(kor.http.get(path, params={"seq": "2"}, headers=who).json())
    assert one.seq == 2 and checkpoints.check_signature(one)
    assert kor.http.get(path, params={"seq": str(cp.seq + 1)}, headers=who).status_code == 404
    assert kor.http.get(path, params={"seq": "-1"}, headers=who).status_code == 400
    assert kor.http.get(path, headers={"Accept": who["Accept"]}).status_code == 401
    # Nothing is kept for a request: the node's checkpoints are its own.
    assert checkpoints.list_checkpoints(kor.store) == []


def test_a_partner_sees_the_fork_a_restore_makes(
    pair: Pair, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _records(pair.kor, 5)
    made = backup.backup(pair.kor.store, tmp_path / "kor-backup.db")
    _records(pair.kor, 133)  # releases recorded after the backup
    first = pair.sync()
    assert first["errors"] == [], first
    held = chains.held(pair.jpn.store, "kor")
    assert held is not None and held[0].seq == made.records + 133

    # Korea is restored from the older backup and goes on: new records under the old numbers.
    pair.kor.stop()
    target = open_store(pair.kor_url)
    try:
        backup.restore(target, tmp_path / "kor-backup.db", "cli:test", force=True)
    finally:
        target.close()
    pair.restart_kor()
    _records(pair.kor, 200)

    report = pair.sync()
    (error,) = report["errors"]  # type: ignore[misc]
    n = held[0].seq
    assert str(error).startswith(f"peer kor's audit chain forked: it signed record {n} as ")
    assert "before and as" in str(error)
    with pair.jpn.store.read() as conn:
        bodies = conn.execute(sa.select(audit_log.c.body).where(audit_log.c.kind == "sync")).all()
    forks = [orjson.loads(b) for (b,) in bodies]
    assert [f["fork"] for f in forks if "fork" in f] == [error]
    again = pair.sync()  # reported again, recorded once
    assert again["errors"] == [error]
    assert log.verify(pair.jpn.store).ok

    # `accord sync` on Japan's node exits 1 and says so.
    from cli_runner import Cli

    jpn_url = pair.jpn.store.engine.url.render_as_string(hide_password=False)
    cli = Cli(jpn_url, capsys, monkeypatch)
    threshold = gc.get_threshold()  # `accord sync` tunes the collector of its process
    try:
        code, out, _ = cli("sync", "kor", env={"ACCORD_PARTY": "JPN"})
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert code == 1 and "audit chain forked" in out
    code, out, _ = cli("peer", "show", "kor", "--json", env={"ACCORD_PARTY": "JPN"})
    assert code == 0 and json.loads(out)["audit_checkpoint"]["fork"] == error
    assert json.loads(out)["audit_checkpoint"]["seq"] == n


def test_a_chain_that_ends_below_the_signed_record_is_a_fork(pair: Pair, tmp_path: Path) -> None:
    _records(pair.kor, 4)
    backup.backup(pair.kor.store, tmp_path / "b.db")
    _records(pair.kor, 20)
    assert pair.sync()["errors"] == []
    pair.kor.stop()
    target = open_store(pair.kor_url)
    try:
        done = backup.restore(target, tmp_path / "b.db", "cli:test", force=True)
    finally:
        target.close()
    pair.restart_kor()
    head = log.verify(pair.kor.store).records
    assert head >= done.seq
    report = pair.sync()
    held = chains.held(pair.jpn.store, "kor")
    assert held is not None and head < held[0].seq
    assert report["errors"] == [
        f"peer kor's audit chain forked: its chain now ends at {head} below the record "
        f"{held[0].seq} it signed"
    ]
