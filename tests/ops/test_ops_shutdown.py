"""Graceful shutdown: SIGTERM lets a request in flight finish (uvicorn's
timeout_graceful_shutdown=30, passed by `accord serve`) before the process exits."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
import pytest
from serve_proc import prepare_store, serve
from taxii_live import ANALYST_MARKING, SECRETS, TAXII, basic, indicator

from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects

# In the full suite, not the fast loop (-m "not slow"): server processes and signals.
pytestmark = pytest.mark.slow


def _load_big_page(url: str, n: int = 1000, size: int = 12_000) -> None:
    store = prepare_store(url)
    items = next(c for c in list_collections(store, "kor") if c.kind == "items")
    objects: list[object] = [mk.marking_definition(ANALYST_MARKING)]
    objects += [indicator(description="x" * size) for _ in range(n)]
    outcomes = add_objects(store, items, objects, Writer.host("loader", "KOR"), lambda m: None)
    assert sum(o.ok for o in outcomes) == n + 1  # and the marking-definition
    store.close()


def test_sigterm_lets_the_request_in_flight_complete(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    _load_big_page(url)
    served = serve(url, tmp_path)
    headers = {"Accept": TAXII, "Authorization": basic("analyst", SECRETS["analyst"])}
    try:
        with (
            httpx.Client(base_url=served.url, timeout=60) as http,
            http.stream(
                "GET", "/kor/collections/items/objects/", params={"limit": "1000"}, headers=headers
            ) as r,
        ):
            chunks = r.iter_raw(65536)
            body = [next(chunks)]  # the response has started; most of it is still to come
            served.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # the server is shutting down while this client reads slowly
            assert served.process.poll() is None, "the process exited with a request in flight"
            for chunk in chunks:
                body.append(chunk)
            assert r.status_code == 200
        envelope = json.loads(b"".join(body))
        assert len(envelope["objects"]) == 1000
        # uvicorn re-raises the signal it captured once it has shut down: a clean SIGTERM exit.
        assert served.process.wait(timeout=40) in (0, -signal.SIGTERM)
        try:
            httpx.get(served.url + "/healthz", timeout=2)
            raise AssertionError("the server still accepts connections after shutting down")
        except httpx.ConnectError:
            pass
    finally:
        served.stop(signal.SIGKILL)
    # Structured logs: one JSON line per request with its id, never a secret or a query string.
    lines = [json.loads(line) for line in served.logs().splitlines() if line.startswith("{")]
    requests = [e for e in lines if e.get("msg") == "request"]
    read = next(e for e in requests if e["path"] == "/kor/collections/items/objects/")
    assert read["status"] == 200 and read["method"] == "GET" and len(read["request_id"]) == 32
    assert read["duration_ms"] > 0
    text = served.logs()
    assert SECRETS["analyst"] not in text and "Basic " not in text and "limit=" not in text
