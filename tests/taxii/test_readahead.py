"""The read-ahead store of pages (`accord.exchange.readahead.ReadAhead`), without a server."""

from __future__ import annotations

import threading
import time

from accord.exchange.readahead import Page, ReadAhead


def page(tag: bytes) -> Page:
    return Page(False, tag, {}, None, None)


def test_a_page_is_taken_once_by_its_key() -> None:
    ahead = ReadAhead()
    ahead.schedule(("p", 1), lambda: page(b"one"))
    assert ahead.take(("p", 2)) is None
    got = ahead.take(("p", 1))
    assert got is not None and got.body == b"one"
    assert ahead.take(("p", 1)) is None
    assert (ahead.hits, ahead.misses) == (1, 2)


def test_capacity_zero_computes_nothing() -> None:
    ahead = ReadAhead(capacity=0)
    ran = []
    ahead.schedule("k", lambda: ran.append(1) or page(b"x"))  # type: ignore[func-returns-value]
    time.sleep(0.05)
    assert ahead.take("k") is None and ran == [] and len(ahead) == 0


def test_take_waits_for_a_page_being_computed() -> None:
    ahead = ReadAhead()
    started = threading.Event()

    def slow() -> Page:
        started.set()
        time.sleep(0.2)
        return page(b"slow")

    ahead.schedule("k", slow)
    assert started.wait(5)
    got = ahead.take("k")
    assert got is not None and got.body == b"slow"


def test_a_page_still_queued_is_computed_by_the_request_instead() -> None:
    ahead = ReadAhead()
    gate = threading.Event()
    ahead.schedule("first", lambda: (gate.wait(5), page(b"a"))[1])
    ran = []
    ahead.schedule("second", lambda: ran.append(1) or page(b"b"))  # type: ignore[func-returns-value]
    assert ahead.take("second") is None  # queued behind "first": cancelled, not waited for
    gate.set()
    assert ahead.take("first") is not None
    time.sleep(0.05)
    assert ran == []


def test_a_failed_computation_is_a_miss() -> None:
    ahead = ReadAhead()

    def boom() -> Page:
        raise RuntimeError("store gone")

    ahead.schedule("k", boom)
    time.sleep(0.05)
    assert ahead.take("k") is None


def test_expired_pages_are_not_served() -> None:
    ahead = ReadAhead(ttl_s=0.05)
    ahead.schedule("k", lambda: page(b"old"))
    time.sleep(0.1)
    assert ahead.take("k") is None


def test_the_oldest_pages_are_dropped_beyond_capacity() -> None:
    ahead = ReadAhead(capacity=3)
    for k in range(5):
        ahead.schedule(k, lambda k=k: page(str(k).encode()))  # type: ignore[misc]
    assert len(ahead) == 3
    time.sleep(0.05)
    assert ahead.take(0) is None and ahead.take(1) is None
    assert [ahead.take(k).body for k in (2, 3, 4)] == [b"2", b"3", b"4"]  # type: ignore[union-attr]


def test_clear_drops_everything() -> None:
    ahead = ReadAhead()
    ahead.schedule("k", lambda: page(b"x"))
    ahead.clear()
    assert ahead.take("k") is None and len(ahead) == 0
