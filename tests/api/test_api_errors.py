"""Every error of the management API has one JSON form, with the right status, from every layer:
accord's own errors, FastAPI's request validation, Starlette's routing, the body limit and a
store that stops answering."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from api_live import ALL_ROLES, ApiNode, assert_api_error, auth
from api_samples import DECISION, ORDER
from taxii_live import LiveNode, start_node

from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


@pytest.mark.parametrize(
    ("method", "path", "kw", "status", "code", "field"),
    [
        pytest.param(
            "POST",
            "/decisions",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "MALFORMED_JSON",
            None,
            id="malformed-json",
        ),
        pytest.param(
            "POST",
            "/decisions",
            {"json": {**DECISION, "level": 2}},
            422,
            "VALIDATION_FAILED",
            "level",
            id="wrong-type",
        ),
        pytest.param(
            "POST",
            "/decisions",
            {"json": {**DECISION, "extra": 1}},
            422,
            "VALIDATION_FAILED",
            "extra",
            id="unknown-field",
        ),
        pytest.param("POST", "/decisions", {"json": []}, 200, None, None, id="empty-batch"),
        pytest.param(
            "POST",
            "/decisions",
            {"json": [DECISION] * 1001},
            422,
            "BATCH_TOO_LARGE",
            None,
            id="batch-too-large",
        ),
        pytest.param(
            "POST",
            "/decisions",
            {"json": {**DECISION, "level": "TS"}},
            422,
            "UNKNOWN_LEVEL",
            "level",
            id="unknown-level",
        ),
        pytest.param(
            "POST",
            "/decisions",
            {"json": {**DECISION, "to": "KOR"}},
            422,
            "SAME_PARTY",
            "to",
            id="same-party",
        ),
        pytest.param(
            "POST",
            "/orders",
            {"json": {**ORDER, "lines": []}},
            422,
            "VALIDATION_FAILED",
            "lines",
            id="no-lines",
        ),
        pytest.param(
            "GET",
            "/audit/records",
            {"params": {"limit": "0"}},
            422,
            "VALIDATION_FAILED",
            "limit",
            id="bad-query",
        ),
        pytest.param(
            "GET",
            "/agreements",
            {"params": {"at": "2019-02-30"}},
            422,
            "VALIDATION_FAILED",
            "at",
            id="bad-date",
        ),
        pytest.param(
            "GET",
            "/agreements",
            {"params": {"party": "XXX"}},
            404,
            "NOT_FOUND",
            None,
            id="unknown-party-filter",
        ),
        pytest.param(
            "GET",
            "/agreements/no-such-agreement",
            {},
            404,
            "NOT_FOUND",
            None,
            id="unknown-agreement",
        ),
        pytest.param("GET", "/no/such/path", {}, 404, "NOT_FOUND", None, id="unknown-path"),
        pytest.param("DELETE", "/parties", {}, 405, "METHOD_NOT_ALLOWED", None, id="wrong-method"),
        pytest.param(
            "POST",
            "/decisions",
            {
                "content": b"[" + b"1," * 6_000_000 + b"1]",
                "headers": {"Content-Type": "application/json"},
            },
            413,
            "TOO_LARGE",
            None,
            id="too-large",
        ),
        pytest.param(
            "POST",
            "/decisions",
            {
                "content": b"[" * 100_000 + b"]" * 100_000,
                "headers": {"Content-Type": "application/json"},
            },
            400,
            None,
            None,
            id="deep-nesting",
        ),
        pytest.param(
            "POST",
            "/decisions",
            {
                "content": b'{"originator": "\xff\xfe"}',
                "headers": {"Content-Type": "application/json"},
            },
            400,
            None,
            None,
            id="invalid-utf8",
        ),
    ],
)
def test_errors_have_one_form(
    api: ApiNode,
    method: str,
    path: str,
    kw: dict[str, object],
    status: int,
    code: str | None,
    field: str | None,
) -> None:
    r = api.call(method, path, ALL_ROLES, **kw)  # type: ignore[arg-type]
    if status < 300:
        assert r.status_code == status, r.text[:300]
        return
    err = assert_api_error(r, status, code)
    assert err["field"] == field, err
    assert "detail" not in r.text


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param(auth(ALL_ROLES, "wrong-secret"), id="wrong-secret"),
        pytest.param({"Authorization": "Basic %%%"}, id="malformed-basic"),
        pytest.param({"Authorization": "Digest x"}, id="other-scheme"),
        pytest.param(auth("nobody-at-all", "whatever-secret"), id="unknown-name"),
    ],
)
def test_unauthenticated_is_401_with_a_challenge(api: ApiNode, headers: dict[str, str]) -> None:
    r = api.call("GET", "/parties", None, headers=headers)
    err = assert_api_error(r, 401, "UNAUTHENTICATED")
    assert "nobody-at-all" not in err["message"]  # never says whether the name exists


def test_no_default_fastapi_error_shape_in_the_document(api: ApiNode) -> None:
    doc = api.ok("GET", "/openapi.json", who=None)
    text = str(doc)
    assert "HTTPValidationError" not in text and "'detail'" not in text
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    ref = resp["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, status)


@pytest.fixture(params=BACKENDS)
def doomed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[LiveNode, str, str | None]]:
    """A live node whose store the test may break."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path / "doomed.db"), None
    else:
        url, name = make_pg_database()
    live = start_node(url, as_of=date(2017, 6, 1))
    try:
        yield live, url, name
    finally:
        live.server.should_exit = True
        live.thread.join(timeout=10)
        for client in live.clients.values():
            client.close()
        if name:
            drop_pg_database(name)


def break_store(live: LiveNode, url: str, name: str | None) -> None:
    """Makes the store stop answering: a SQLite file overwritten, a PostgreSQL database dropped."""
    live.store.engine.dispose()
    if name is None:
        path = Path(url.removeprefix("sqlite:///"))
        for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            extra.unlink(missing_ok=True)
        path.write_bytes(b"this is not a database" * 500)
    else:
        drop_pg_database(name, now=True)


def test_a_store_that_stops_answering_is_503(doomed: tuple[LiveNode, str, str | None]) -> None:
    from accord.principals import add_principal

    live, url, name = doomed
    add_principal(
        live.store, "op", "user", "KOR", "op-secret-1", clearance="I", roles=("operator",)
    )
    with httpx.Client(base_url=live.url, timeout=30) as http:
        assert http.get("/api/v1/credentials", headers=auth("op", "op-secret-1")).status_code == 200
        assert http.get("/readyz").status_code == 200
        break_store(live, url, name)
        r = http.get("/api/v1/credentials", headers=auth("op", "op-secret-1"))
        err = assert_api_error(r, 503, "STORE_UNAVAILABLE")
        assert "secret" not in err["message"]
        ready = http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert http.get("/healthz").status_code == 200  # alive, though not ready
