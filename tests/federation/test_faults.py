"""Faults during sync: a peer stopped mid-sync, connections cut after the peer acted, a node killed
with SIGKILL during ingest. After recovery every acknowledged object is on the entitled node exactly
once, on no other, and every node's audit chain verifies (issue #5)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from taxii_live import LiveNode, free_port, start_node

from accord.app import create_app
from accord.audit import log as audit
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.exchange.queries import Query, page
from accord.federation.peers import Peer, add_peer, get_peer
from accord.federation.sync import SyncReport, sync_peer
from accord.node import Node, node_config
from accord.policy.marking import Marking
from accord.principals import add_principal
from accord.server import prepare
from accord.settings import load_settings
from accord.store import open_store
from backends import sqlite_store

# live nodes with injected faults: the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow

AFTER = date(2017, 6, 1)
OK = Marking.of("KOR", "II", ["general-military"], groups=["military"])  # releasable to JPN
NO = Marking.of("KOR", "I", ["general-military"], groups=["military"])  # no Korea–Japan row
PREFIX = "indicator--00000000-0000-4000-9000-"  # this suite's items (the nodes' samples travel too)


def publish(node: LiveNode, n: int, start: int = 0) -> list[str]:
    """Publishes n indicators on KOR's node, alternating releasable and not; returns the ids of
    the releasable ones."""
    items = next(c for c in list_collections(node.store, "kor") if c.kind == "items")
    objs: list[dict[str, object]] = [mk.marking_definition(OK), mk.marking_definition(NO)]
    ok_ids = []
    for i in range(start, start + n):
        m = OK if i % 2 == 0 else NO
        oid = f"{PREFIX}{i:012d}"
        objs.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": oid,
                "created": "2017-01-01T00:00:00.000Z",
                "modified": "2017-01-01T00:00:00.000Z",
                "pattern": f"[ipv4-addr:value = '10.0.{i // 256 % 256}.{i % 256}']",
                "pattern_type": "stix",
                "valid_from": "2017-01-01T00:00:00Z",
                "object_marking_refs": [mk.marking_id(m)],
            }
        )
        if m is OK:
            ok_ids.append(oid)
    assert all(
        o.ok
        for o in add_objects(node.store, items, objs, Writer.host("analyst", "KOR"), lambda m: None)
    )
    return ok_ids


def inbox_counts(url: str, party: str = "jpn") -> dict[str, int]:
    """stix_id → number of stored versions in the node's inbox."""
    store = open_store(url)
    try:
        inbox = next(c for c in list_collections(store, party) if c.kind == "inbox")
        rows, _ = page(store, inbox.key, None, Query(versions=("all",)), None, 100_000)
    finally:
        store.close()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.stix_id] = counts.get(r.stix_id, 0) + 1
    return counts


@pytest.fixture
def kor(tmp_path: Path) -> Iterator[LiveNode]:
    node = start_node(sqlite_store(tmp_path / "kor.db"), party="KOR", as_of=AFTER)
    yield node
    node.stop()


def prepare_jpn(url: str) -> None:
    store = open_store(url)
    prepare(store, load_settings(environ={"ACCORD_PARTY": "JPN"}), extras=False)
    add_principal(store, "kor-peer", "partner", "KOR", "kor-fed-secret")
    store.close()


def serve_in_thread(url: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    from accord.node import Node, NodeConfig

    node = Node(open_store(url), "JPN", NodeConfig(api_root="jpn", title="JPN", as_of=AFTER))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(node), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started
    return server, thread


def test_a_peer_stopped_mid_sync_loses_and_duplicates_nothing(
    kor: LiveNode, tmp_path: Path
) -> None:
    ok_ids = publish(kor, 2400)  # 1200 releasable: several pages of 500
    jpn_url = sqlite_store(tmp_path / "jpn.db")
    prepare_jpn(jpn_url)
    port = free_port()
    server, thread = serve_in_thread(jpn_url, port)
    add_peer(
        kor.store,
        "jpn",
        "JPN",
        f"http://127.0.0.1:{port}",
        "kor-peer",
        "kor-fed-secret",
        pull=False,
    )
    peer = get_peer(kor.store, "jpn")
    pages = []

    def stop_after_first_page(direction: str, count: int) -> None:
        pages.append(count)
        if len(pages) == 1:
            server.should_exit = True
            thread.join(timeout=10)

    report = sync_peer(kor.node, peer, progress=stop_after_first_page, retries=2, page=500)
    assert report.errors and "did not answer" in report.errors[0]
    partial = inbox_counts(jpn_url)
    assert 0 < len(partial) < len(ok_ids) + 2
    server, thread = serve_in_thread(jpn_url, port)  # the peer comes back
    try:
        report = sync_peer(kor.node, peer, retries=2, page=500)
        assert not report.errors
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert set(counts.values()) == {1}  # exactly once
    assert audit.verify(kor.store).ok
    jpn_store = open_store(jpn_url)
    assert audit.verify(jpn_store).ok
    jpn_store.close()


class CuttingProxy:
    """A loopback TCP proxy that, on chosen connections, lets the request through to the peer and
    then cuts the connection instead of returning the answer: the peer acted, the sender never
    heard (the hardest case for "nothing lost, nothing duplicated")."""

    def __init__(self, upstream: int, cut: set[int]) -> None:
        self.upstream, self.cut = upstream, cut
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.alive = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.alive:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.count += 1
            threading.Thread(
                target=self._serve, args=(client, self.count in self.cut), daemon=True
            ).start()

    def _serve(self, client: socket.socket, cut: bool) -> None:
        server = socket.create_connection(("127.0.0.1", self.upstream))

        def pipe(src: socket.socket, dst: socket.socket, drop: bool) -> None:
            try:
                while data := src.recv(65536):
                    if drop:
                        time.sleep(0.2)  # let the peer finish its work, then cut
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

        threading.Thread(target=pipe, args=(client, server, False), daemon=True).start()
        pipe(server, client, cut)

    def close(self) -> None:
        self.alive = False
        self.sock.close()


def test_cut_connections_are_retried_without_duplicates(kor: LiveNode, tmp_path: Path) -> None:
    ok_ids = publish(kor, 2000)
    jpn_url = sqlite_store(tmp_path / "jpn.db")
    prepare_jpn(jpn_url)
    port = free_port()
    server, thread = serve_in_thread(jpn_url, port)
    proxy = CuttingProxy(port, cut={1, 2})
    try:
        add_peer(
            kor.store,
            "jpn",
            "JPN",
            f"http://127.0.0.1:{proxy.port}",
            "kor-peer",
            "kor-fed-secret",
            pull=False,
        )
        report = sync_peer(kor.node, get_peer(kor.store, "jpn"), retries=4, page=500)
        assert not report.errors, report.errors
        assert proxy.count >= 3  # the cuts happened and were retried
    finally:
        proxy.close()
        server.should_exit = True
        thread.join(timeout=10)
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert set(counts.values()) == {1}
    releases = [
        r for r in audit.export(kor.store) if r["kind"] == "release" and r["subject"] == "JPN"
    ]
    sent = [o[0] for r in releases for o in r["body"]["objects"] if o[0].startswith(PREFIX)]
    assert sorted(sent) == sorted(
        ok_ids
    )  # each release recorded once, though some pages were resent


def test_a_node_killed_during_ingest_recovers_exactly_once(kor: LiveNode, tmp_path: Path) -> None:
    ok_ids = publish(kor, 6000)
    jpn_url = sqlite_store(tmp_path / "jpn.db")
    prepare_jpn(jpn_url)
    port = free_port()
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": jpn_url,
        "ACCORD_PORT": str(port),
        "ACCORD_PARTY": "JPN",
        "ACCORD_DATE": AFTER.isoformat(),
    }
    exe = str(Path(sys.executable).with_name("accord"))

    def start() -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            [exe, "serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=1)
                return p
            except httpx.HTTPError:
                time.sleep(0.1)
        p.kill()
        raise AssertionError("the JPN node did not start")

    proc = start()
    add_peer(
        kor.store,
        "jpn",
        "JPN",
        f"http://127.0.0.1:{port}",
        "kor-peer",
        "kor-fed-secret",
        pull=False,
    )
    peer: Peer = get_peer(kor.store, "jpn")
    pages: list[int] = []

    def kill_during_third_page(direction: str, count: int) -> None:
        pages.append(count)
        if len(pages) == 2:
            # Two pages acknowledged, the third in flight (sent when the first was settled):
            # killed now, while it is being ingested. (Not after a delay: the rest of the
            # pages could all be acknowledged by then, and nothing would be cut short.)
            os.kill(proc.pid, signal.SIGKILL)

    first = sync_peer(kor.node, peer, progress=kill_during_third_page, retries=1, page=500)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert first.errors  # the sync was cut short by the kill
    acknowledged = inbox_counts(jpn_url)
    assert len(pages) >= 2 and len(acknowledged) >= 1000
    proc = start()
    try:
        second = sync_peer(kor.node, peer, retries=2, page=500)
        assert not second.errors, second.errors
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert set(counts.values()) == {1}
    assert set(acknowledged) <= set(counts)
    assert audit.verify(kor.store).ok
    jpn_store = open_store(jpn_url)
    assert audit.verify(jpn_store).ok
    jpn_store.close()


def _pulling_jpn(kor: LiveNode, tmp_path: Path) -> tuple[str, Node, Peer]:
    """A Japanese store set up to pull from KOR's live node (no server of its own)."""
    add_principal(kor.store, "jpn-puller", "partner", "JPN", "jpn-pull-secret")
    jpn_url = sqlite_store(tmp_path / "jpn-pull.db")
    prepare_jpn(jpn_url)
    store = open_store(jpn_url)
    settings = load_settings(environ={"ACCORD_PARTY": "JPN", "ACCORD_DATE": AFTER.isoformat()})
    node = Node(store, "JPN", node_config(settings, "JPN"))
    add_peer(store, "kor", "KOR", kor.url, "jpn-puller", "jpn-pull-secret", push=False)
    return jpn_url, node, get_peer(store, "kor")


def test_pull_stores_several_pages_per_transaction_exactly_once(
    kor: LiveNode, tmp_path: Path
) -> None:
    from accord.federation.sync import PULL_BATCH

    ok_ids = publish(kor, 1200)  # 600 releasable: 12+ pages of 50
    jpn_url, jpn, peer = _pulling_jpn(kor, tmp_path)
    seen: list[int] = []
    try:
        report = sync_peer(jpn, peer, progress=lambda d, n: seen.append(n), page=50)
        assert not report.errors, report.errors
        receipts = [r for r in audit.export(jpn.store) if r["kind"] == "receipt"]
    finally:
        jpn.store.close()
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert all(v == 1 for v in counts.values())
    # One transaction (one receipt, one progress step) per PULL_BATCH pages of 50.
    pages = -(-report.pulled // 50)
    assert len(receipts) == len(seen) == -(-pages // PULL_BATCH) >= 3
    assert seen[0] == 50 * PULL_BATCH and sum(seen) == report.pulled


def test_a_pull_interrupted_between_transactions_resumes_exactly_once(
    kor: LiveNode, tmp_path: Path
) -> None:
    from accord.federation.sync import PULL_BATCH, PeerUnavailable

    ok_ids = publish(kor, 1200)
    jpn_url, jpn, peer = _pulling_jpn(kor, tmp_path)

    def stop_after_first_batch(direction: str, count: int) -> None:
        raise PeerUnavailable("stopped by the test after one transaction")

    try:
        first = sync_peer(jpn, peer, progress=stop_after_first_batch, page=50)
        assert first.errors and first.pulled == 50 * PULL_BATCH
        assert len(inbox_counts(jpn_url)) == 50 * PULL_BATCH
        second = sync_peer(jpn, peer, page=50)
        assert not second.errors
        assert audit.verify(jpn.store).ok
    finally:
        jpn.store.close()
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert all(v == 1 for v in counts.values())
    assert first.pulled + second.pulled == len(counts)


class GarblingProxy:
    """A real HTTP proxy in front of a node that answers the `garble`-th objects page with a
    body that is not JSON (a peer's bug, or a middlebox's): set `garble` to None to let every
    page through."""

    def __init__(self, upstream: str, garble: int | None) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        self.garble, self.pages = garble, 0

        async def forward(request: Request) -> Response:
            async with httpx.AsyncClient(base_url=upstream, timeout=30) as c:
                r = await c.request(
                    request.method,
                    request.url.path,
                    params=list(request.query_params.multi_items()),
                    headers={k: v for k, v in request.headers.items() if k != "host"},
                    content=await request.body(),
                )
            body = r.content
            if request.url.path.endswith("/objects/"):
                self.pages += 1
                if self.pages == self.garble:
                    body = b'{"objects": [ this is not JSON'
            headers = {k: v for k, v in r.headers.items() if k.lower().startswith("x-taxii")}
            return Response(body, r.status_code, headers, r.headers.get("content-type"))

        app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started and time.time() < deadline:
            time.sleep(0.02)
        assert self.server.started
        self.url = f"http://127.0.0.1:{self.server.config.port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "accord-pull-reader"]


def test_a_page_that_is_not_json_ends_the_pull_after_the_batches_stored(
    kor: LiveNode, tmp_path: Path
) -> None:
    """Pages are read ahead on a thread of their own: its error ends the sync with a report
    naming it, the transactions stored before stay (and their cursor), the pages read ahead
    after them are not stored, the reading thread stops, and the next sync completes the pull
    exactly once."""
    from accord.federation.sync import PULL_BATCH

    ok_ids = publish(kor, 1200)
    proxy = GarblingProxy(kor.url, garble=PULL_BATCH + 2)  # the 2nd page after one batch
    jpn_url = sqlite_store(tmp_path / "jpn-pull.db")
    add_principal(kor.store, "jpn-puller", "partner", "JPN", "jpn-pull-secret")
    prepare_jpn(jpn_url)
    store = open_store(jpn_url)
    settings = load_settings(environ={"ACCORD_PARTY": "JPN", "ACCORD_DATE": AFTER.isoformat()})
    jpn = Node(store, "JPN", node_config(settings, "JPN"))
    add_peer(store, "kor", "KOR", proxy.url, "jpn-puller", "jpn-pull-secret", push=False)
    try:
        first = sync_peer(jpn, get_peer(store, "kor"), page=50)
        assert first.errors == ["peer kor sent a page that is not JSON"]
        assert first.pulled == 50 * PULL_BATCH
        assert not _readers()
        assert len(inbox_counts(jpn_url)) == 50 * PULL_BATCH
        proxy.garble = None
        second = sync_peer(jpn, get_peer(store, "kor"), page=50)
        assert not second.errors, second.errors
        assert not _readers()
        assert audit.verify(jpn.store).ok
    finally:
        store.close()
        proxy.close()
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert all(v == 1 for v in counts.values())
    assert first.pulled + second.pulled == len(counts)


def test_a_second_sync_of_a_peer_waits_its_turn(kor: LiveNode, tmp_path: Path) -> None:
    """A sync by hand while another (a scheduled round) is pushing to the same peer is refused,
    naming the holder, and sends nothing: each version reaches the peer once and is recorded
    once; when the first is done, the peer is free again."""
    ok_ids = publish(kor, 1200)
    jpn_url = sqlite_store(tmp_path / "jpn.db")
    prepare_jpn(jpn_url)
    port = free_port()
    server, thread = serve_in_thread(jpn_url, port)
    add_peer(kor.store, "jpn", "JPN", f"http://127.0.0.1:{port}", "kor-peer", "kor-fed-secret",
             pull=False)  # fmt: skip
    peer = get_peer(kor.store, "jpn")
    first_page, second_done = threading.Event(), threading.Event()
    reports: dict[str, SyncReport] = {}

    def hold_after_first_page(direction: str, count: int) -> None:
        first_page.set()
        assert second_done.wait(30)

    def first() -> None:
        reports["first"] = sync_peer(kor.node, peer, progress=hold_after_first_page, page=200)

    running = threading.Thread(target=first)
    running.start()
    try:
        assert first_page.wait(30)
        reports["second"] = sync_peer(kor.node, peer, page=200)
        second_done.set()
        running.join(timeout=60)
        third = sync_peer(kor.node, peer, page=200)
    finally:
        second_done.set()
        server.should_exit = True
        thread.join(timeout=10)
    second = reports["second"]
    assert second.errors and second.errors[0].startswith("peer jpn is being synchronised by")
    assert second.pushed == 0
    assert not reports["first"].errors and reports["first"].pushed >= len(ok_ids)
    assert not third.errors and third.pushed == 0  # free again, and nothing left to send
    counts = inbox_counts(jpn_url)
    assert {k for k in counts if k.startswith(PREFIX)} == set(ok_ids)
    assert set(counts.values()) == {1}
    sent = [
        o[0]
        for r in audit.export(kor.store)
        if r["kind"] == "release" and r["subject"] == "JPN"
        for o in r["body"]["objects"]
    ]
    assert len(sent) == len(set(sent)) == reports["first"].pushed
