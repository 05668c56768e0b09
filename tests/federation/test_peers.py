"""One sync of a peer at a time (`accord.federation.peers.syncing`), on every backend: a sync by
hand and a scheduled round, or two workers, never send the same pages twice (issue #5: "each
object version is sent once per peer")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import orjson
import pytest
import sqlalchemy as sa

from accord.federation.peers import PeerBusy, _lease_key, add_peer, syncing
from accord.store import Store
from accord.store.schema import meta


@pytest.fixture
def peered(store: Store) -> Store:
    for name in ("jpn", "usa"):
        add_peer(store, name, name.upper(), "http://127.0.0.1:9", "kor-node", "secret-1234")
    return store


def lease_rows(store: Store) -> list[dict[str, object]]:
    with store.read() as conn:
        rows = conn.execute(sa.select(meta.c.value).where(meta.c.key.like("sync_peer:%"))).all()
    return [orjson.loads(r[0]) for r in rows]


def hold_as(store: Store, name: str, holder: str, until: float) -> None:
    """Writes a hold as another process would have left it."""
    value = orjson.dumps({"peer": name, "holder": holder, "until": until}).decode()
    with store.begin() as conn:
        conn.execute(sa.insert(meta).values(key=_lease_key(name), value=value))


def test_a_peer_is_held_by_one_sync_at_a_time(peered: Store) -> None:
    me = f"{os.getpid()}@{socket.gethostname()}"
    with syncing(peered, "jpn"):
        with pytest.raises(PeerBusy, match=f"peer jpn is being synchronised by process {me} "):
            with syncing(peered, "jpn"):
                pytest.fail("a second hold of the same peer")
        with syncing(peered, "usa"):  # another peer is not held
            assert {r["peer"] for r in lease_rows(peered)} == {"jpn", "usa"}
    assert lease_rows(peered) == []  # released on the way out
    with syncing(peered, "jpn"):
        pass


def test_a_hold_is_released_when_the_sync_fails(peered: Store) -> None:
    with pytest.raises(RuntimeError), syncing(peered, "jpn"):
        raise RuntimeError("the sync failed")
    assert lease_rows(peered) == []


def test_another_machines_hold_lasts_until_it_expires(peered: Store) -> None:
    hold_as(peered, "jpn", "4242@elsewhere.example/abcd1234", time.time() + 60)
    with pytest.raises(PeerBusy, match="by process 4242@elsewhere.example "):
        with syncing(peered, "jpn"):
            pass
    hold_as(peered, "usa", "4242@elsewhere.example/abcd1234", time.time() - 1)
    with syncing(peered, "usa"):  # expired: taken over
        assert [r["holder"] for r in lease_rows(peered) if r["peer"] == "usa"] != [
            "4242@elsewhere.example/abcd1234"
        ]


def test_the_hold_of_an_ended_process_of_this_machine_is_free(peered: Store) -> None:
    """A sync killed with SIGKILL leaves its hold; the next sync on the same machine does not
    wait for it to expire."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    hold_as(peered, "jpn", f"{ended.pid}@{socket.gethostname()}/deadbeef", time.time() + 60)
    with syncing(peered, "jpn"):
        pass


def test_renewing_keeps_the_hold_and_not_renewing_loses_it(peered: Store) -> None:
    with syncing(peered, "jpn", seconds=2.0) as renew:
        time.sleep(0.6)
        renew()  # a quarter of the hold has passed: written again
        time.sleep(1.6)  # 2.2 s since it was taken, 1.6 s since it was renewed
        with pytest.raises(PeerBusy), syncing(peered, "jpn"):
            pass
    taken = threading.Event()
    with syncing(peered, "usa", seconds=0.5):
        time.sleep(0.7)  # not renewed: expired
        with syncing(peered, "usa"):
            taken.set()
    assert taken.is_set()


def test_of_many_syncs_started_together_one_holds_the_peer(peered: Store) -> None:
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def sync() -> None:
        start.wait()
        try:
            with syncing(peered, "jpn"):
                outcomes.append("held")
                time.sleep(0.5)
        except PeerBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=sync) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["busy"] * 5 + ["held"]
    assert lease_rows(peered) == []
