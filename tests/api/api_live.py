"""A live node for the management API suites, built on the TAXII suites' harness
(tests/taxii/taxii_live.py), with credentials for every role."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from taxii_live import LiveNode, add_test_principals, start_node

from accord.principals import add_principal, revoke_principal
from accord.principals.service import ROLES

ALL_ROLES = "api-root-7f3a"  # a user holding every role (an operator who is also everything else)
ROLE_USERS = {role: f"{role}-user" for role in ROLES}
API_SECRETS = {
    **{name: f"{name}-secret" for name in ROLE_USERS.values()},
    ALL_ROLES: "api-root-secret",
    "jpn-node": "jpn-secret-1",
    "analyst": "analyst-secret",
    "clerk": "clerk-secret-1",
}


def auth(who: str, secret: str | None = None) -> dict[str, str]:
    token = base64.b64encode(f"{who}:{secret or API_SECRETS[who]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class ApiNode:
    live: LiveNode

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def store(self) -> Any:
        return self.live.store

    def call(
        self, method: str, path: str, who: str | None = ALL_ROLES, **kw: Any
    ) -> httpx.Response:
        """Sends a request to /api/v1`path` as `who` (None: no credentials)."""
        headers = dict(kw.pop("headers", {}))
        if who is not None:
            headers.update(auth(who))
        return self.live.http.request(method, "/api/v1" + path, headers=headers, **kw)

    def get(self, path: str, who: str | None = ALL_ROLES, **kw: Any) -> httpx.Response:
        return self.call("GET", path, who, **kw)

    def post(self, path: str, body: Any, who: str | None = ALL_ROLES, **kw: Any) -> httpx.Response:
        return self.call("POST", path, who, json=body, **kw)

    def ok(self, method: str, path: str, body: Any = None, who: str | None = ALL_ROLES) -> Any:
        """Returns the JSON of a 2xx answer (asserted)."""
        kw = {} if body is None else {"json": body}
        r = self.call(method, path, who, **kw)
        assert 200 <= r.status_code < 300, (method, path, r.status_code, r.text[:500])
        return r.json()

    def stop(self) -> None:
        self.live.stop()


def start_api_node(url: str) -> ApiNode:
    live = start_node(url, as_of=date(2017, 6, 1))
    for n in ("analyst", "jpn-node"):
        revoke_principal(live.store, n)
    add_test_principals(live.store)
    for role, name in ROLE_USERS.items():
        add_principal(
            live.store,
            name,
            "user",
            "KOR",
            API_SECRETS[name],
            clearance="I",
            groups=("dprk", "military", "cyber"),
            roles=(role,),
        )
    add_principal(
        live.store,
        ALL_ROLES,
        "user",
        "KOR",
        API_SECRETS[ALL_ROLES],
        clearance="I",
        groups=("dprk", "military", "cyber"),
        roles=ROLES,
    )
    return ApiNode(live)


def assert_api_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Asserts the management API's one error form, with `status` (and `code`); returns it."""
    assert r.status_code == status, (status, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    assert isinstance(err["code"], str) and err["code"] == err["code"].upper() and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert err["field"] is None or isinstance(err["field"], str)
    if code is not None:
        assert err["code"] == code, err
    if status == 401:
        assert r.headers["www-authenticate"].lower().startswith("basic realm=")
    return err
