"""The role-by-endpoint table: every endpoint called as every role, as a partner node and with no
credentials, answers exactly as `accord.api.roles.ACCESS` says; docs/api.md prints that table;
and the table names exactly the routes the API serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from api_live import ROLE_USERS, ApiNode, assert_api_error
from api_samples import SAMPLES
from fastapi.routing import APIRoute

from accord.api import create_api
from accord.api.roles import ACCESS, PUBLIC, allowed
from accord.principals import Principal
from accord.principals.service import ROLES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
CALLERS = [*ROLES, "partner", "anonymous"]


def _principal(caller: str) -> Principal | None:
    if caller == "anonymous":
        return None
    if caller == "partner":
        return Principal("jpn-node", "partner", "JPN")
    return Principal(ROLE_USERS[caller], "user", "KOR", "I", roles=frozenset({caller}))


def test_every_endpoint_has_a_sample_and_a_row() -> None:
    assert set(SAMPLES) == set(ACCESS)


def test_the_table_names_exactly_the_served_routes(api: ApiNode) -> None:
    app = create_api(api.live.node).app  # type: ignore[attr-defined]
    served = set()
    todo = list(app.routes)
    while todo:
        route = todo.pop()
        if isinstance(route, APIRoute):
            served |= {f"{method} {route.path}" for method in route.methods}
        elif hasattr(route, "original_router"):  # FastAPI's included routers
            todo.extend(route.original_router.routes)
    assert served == set(ACCESS)


@pytest.mark.parametrize("key", sorted(ACCESS), ids=lambda k: k.replace(" ", "_"))
def test_each_caller_gets_exactly_what_the_table_gives(api: ApiNode, key: str) -> None:
    method = key.split(" ", 1)[0]
    for caller in CALLERS:
        who = (
            None
            if caller == "anonymous"
            else ("jpn-node" if caller == "partner" else ROLE_USERS[caller])
        )
        path, body = SAMPLES[key](api)
        r = api.call(method, path, who, **({} if body is None else {"json": body}))
        if allowed(key, _principal(caller)):
            assert 200 <= r.status_code < 300, (key, caller, r.status_code, r.text[:400])
        elif caller == "anonymous":
            assert_api_error(r, 401, "UNAUTHENTICATED")
        else:
            assert_api_error(r, 403, "FORBIDDEN")


def _docs_table() -> dict[str, list[str]]:
    text = DOCS.read_text("utf-8")
    section = text.split("## Who may call what", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        m = re.match(r"^\| `(GET|POST|DELETE) ([^`]+)` \|(.*)\|\s*$", line)
        if m:
            cells = [c.strip() for c in m.group(3).split("|")]
            rows[f"{m.group(1)} {m.group(2)}"] = cells
    return rows


def test_docs_print_the_table() -> None:
    rows = _docs_table()
    assert set(rows) == set(ACCESS), set(rows) ^ set(ACCESS)
    for key, cells in rows.items():
        expected = ["yes" if allowed(key, _principal(c)) else "no" for c in CALLERS]
        assert cells == expected, (key, cells, expected)


def test_public_endpoints_are_only_the_documents() -> None:
    assert {k for k, v in ACCESS.items() if PUBLIC in v} == {"GET /openapi.json", "GET /docs"}
