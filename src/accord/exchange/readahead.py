"""Read-ahead for principals paging through a collection (a partner's full paged read).

A client paging with `next` asks for page k+1 only once it has received and parsed page k, and the
server would sit idle meanwhile. So after serving a page that has more, the server computes the
next one on a worker thread: the restricted query, the envelope and the body of the release
record. When the `next` token arrives, only the request's snapshot, the authentication and the
release record's append remain.

A page computed ahead is served only for the key it was computed under: the same principal (all
its attributes), endpoint, collection, filters, limit and position, the same day, and the same
`Snapshot` of the store's counters. Everything that can change a page changes a counter —
a new object or version or a restored one (the collections' `last_added`), a deletion or a
reclassification (`objects_version`), a registry event, a new marking, a credential change — so
a page computed before such a change is never served after it: it is computed afresh.

Nothing is released ahead: the release is recorded when the page is served, before it leaves
(`accord.exchange.releases`). A page computed ahead and never asked for is simply dropped.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from accord.audit.log import Body


@dataclass(frozen=True)
class Page:
    """A page ready to serve: `more`, the response body, its headers (X-TAXII-Date-Added-*),
    the position the next page starts after (None when it is the last), and, for a partner, the
    body of the release record, serialised, to append before it leaves. The rows themselves are not kept:
    the body already holds them."""

    more: bool
    body: bytes
    headers: dict[str, str]
    position: int | None
    release: Body | None


class ReadAhead:
    """At most `capacity` pages computed ahead (oldest dropped first), each kept `ttl_s` seconds;
    `capacity` 0 turns read-ahead off. One worker thread, started on first use."""

    def __init__(self, capacity: int = 32, ttl_s: float = 30.0, wait_s: float = 10.0) -> None:
        self.capacity = capacity
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self._entries: OrderedDict[Hashable, tuple[float, Future[Page]]] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.hits = 0
        self.misses = 0

    def take(self, key: Hashable) -> Page | None:
        """Returns the page computed ahead for `key` (waiting for it if it is being computed), or
        None: none was, it expired, it is still queued behind others, or computing it failed."""
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is None:
            self.misses += 1
            return None
        stamp, future = entry
        # Still queued (the worker is busy with another principal's page): computing it here is
        # faster than waiting.
        if time.monotonic() - stamp > self.ttl_s or future.cancel():
            self.misses += 1
            return None
        try:
            page = future.result(timeout=self.wait_s)
        except FutureTimeout:
            self.misses += 1
            return None
        except Exception:  # noqa: BLE001 — the request computes the page itself and meets the error
            self.misses += 1
            return None
        self.hits += 1
        return page

    def schedule(self, key: Hashable, compute: Callable[[], Page]) -> None:
        """Computes `compute()` on the worker thread, to be taken with `key`."""
        if self.capacity <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if key in self._entries:
                return
            while self._entries:
                oldest_key, (stamp, future) = next(iter(self._entries.items()))
                if len(self._entries) < self.capacity and now - stamp <= self.ttl_s:
                    break
                del self._entries[oldest_key]
                future.cancel()
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
            self._entries[key] = (now, self._pool.submit(compute))

    def clear(self) -> None:
        """Drops every page computed ahead."""
        with self._lock:
            for _, future in self._entries.values():
                future.cancel()
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
