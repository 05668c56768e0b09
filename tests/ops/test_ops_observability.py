"""Probes, request ids, JSON logs and Prometheus metrics of a live node."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_live import ALL_ROLES, ApiNode, auth, start_api_node
from prometheus_client.parser import text_string_to_metric_families
from taxii_live import SECRETS, TAXII, basic

from accord.ops.logging import JsonFormatter
from accord.store import Store
from accord.store.federation_schema import sync_cursors
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


@pytest.fixture(scope="module", params=BACKENDS)
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiNode]:
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("ops") / "accord.db"), None
    else:
        url, name = make_pg_database()
    live = start_api_node(url)
    try:
        yield live
    finally:
        live.stop()
        if name:
            drop_pg_database(name)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Collects the JSON lines `accord.*` loggers write while the test runs."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("accord")
    logger.addHandler(handler)
    try:
        yield buf
    finally:
        logger.removeHandler(handler)


def test_probes(node: ApiNode) -> None:
    http = node.live.http
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_on_an_unmigrated_store(tmp_path: Path) -> None:
    from accord.ops.health import readiness

    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")  # opened, never migrated
    try:
        assert "migrate" in (readiness(store) or "") or "schema" in (readiness(store) or "")
    finally:
        store.close()


def test_request_ids_are_echoed_or_made(node: ApiNode, captured: io.StringIO) -> None:
    http = node.live.http
    mine = http.get("/healthz", headers={"X-Request-ID": "trace-42.a:b"})
    assert mine.headers["x-request-id"] == "trace-42.a:b"
    made = http.get("/healthz", headers={"X-Request-ID": "no spaces; or {braces}"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    other = http.get("/healthz")
    assert other.headers["x-request-id"] != made.headers["x-request-id"]
    secret = SECRETS["analyst"]
    r = http.get(
        "/kor/collections/items/objects/",
        params={"limit": "1", "next": "SECRET-TOKEN"},
        headers={"Accept": TAXII, "Authorization": basic("analyst", secret)},
    )
    assert r.status_code == 400
    deadline = time.time() + 5  # the line is written once the response is out
    while r.headers["x-request-id"] not in captured.getvalue() and time.time() < deadline:
        time.sleep(0.02)
    lines = [json.loads(x) for x in captured.getvalue().splitlines()]
    access = [e for e in lines if e["msg"] == "request"]
    assert {"trace-42.a:b", made.headers["x-request-id"]} <= {e["request_id"] for e in access}
    taxii = next(e for e in access if e["path"] == "/kor/collections/items/objects/")
    assert (
        taxii["status"] == 400
        and taxii["method"] == "GET"
        and taxii["request_id"] == r.headers["x-request-id"]
    )
    text = captured.getvalue()
    assert secret not in text and "SECRET-TOKEN" not in text and "Basic" not in text


def _samples(text: str) -> dict[str, float]:
    """Returns every sample of the exposition text, as prometheus_client's own parser reads it,
    keyed `name{label="value",…}` with the labels in the order a test names them below."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            order = ("route", "method", "status", "peer", "direction", "collection", "le")
            labels = sorted(
                sample.labels.items(),
                key=lambda kv: (
                    kv[0] not in order,
                    order.index(kv[0]) if kv[0] in order else 0,
                    kv[0],
                ),
            )
            inner = ",".join(f'{k}="{v}"' for k, v in labels)
            out[f"{sample.name}{{{inner}}}" if inner else sample.name] = sample.value
    return out


def test_metrics_count_requests_decisions_releases_and_sync_lag(node: ApiNode) -> None:
    http = node.live.http
    for _ in range(3):
        node.ok(
            "POST",
            "/decisions",
            [{"originator": "KOR", "level": "II", "topics": ["wmd"], "to": "JPN"}] * 2,
        )
    node.live.get("/kor/collections/items/objects/", "jpn-node")  # a partner read: a release
    node.live.get("/kor/collections/items/objects/00000000/", "jpn-node")
    with node.store.begin() as conn:
        conn.execute(
            sync_cursors.insert().values(
                peer="usa", direction="pull", collection="items", position=1, updated_at=0
            )
        )
    r = http.get("/metrics", headers=auth(ALL_ROLES))  # the default `metrics`: credential
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
    text = r.text
    for family in ("accord_http_requests_total", "accord_http_request_duration_seconds",
                   "accord_decisions_total", "accord_releases_recorded_total", "accord_sync_lag_seconds"):  # fmt: skip
        assert f"# TYPE {family} " in text
    samples = _samples(text)
    pid = re.search(r'pid="(\d+)"', text).group(1)  # type: ignore[union-attr]
    decisions = f'accord_http_requests_total{{route="/api/v1/decisions",method="POST",status="200",pid="{pid}"}}'
    assert samples[decisions] >= 3
    objects = f'accord_http_requests_total{{route="/{{api_root}}/collections/{{collection_id}}/objects/{{object_id}}/",method="GET",status="404",pid="{pid}"}}'
    assert samples[objects] >= 1  # by route template, never the raw path
    assert "00000000" not in text
    assert sum(v for k, v in samples.items() if k.startswith("accord_decisions_total")) >= 6
    assert samples["accord_releases_recorded_total"] >= 1
    lag = 'accord_sync_lag_seconds{peer="usa",direction="pull",collection="items"}'
    assert samples[lag] > 1e9  # updated at the epoch
    assert samples["accord_store_up"] == 1
    bucket = [
        k
        for k in samples
        if k.startswith("accord_http_request_duration_seconds_bucket") and 'le="+Inf"' in k
    ]
    assert bucket and all(samples[k] >= 1 for k in bucket)
    http_unused = httpx.get(node.url + "/metrics", headers=auth(ALL_ROLES))
    assert http_unused.status_code == 200
