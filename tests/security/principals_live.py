"""Every kind of principal that matters at a trust boundary, on a live KOR node (real uvicorn on
loopback, the demonstration registry and samples, as of 2017-06-01):

- partners: `jpn-node` (JPN, GSOMIA in force), `usa-node` (USA), `chn-node` (CHN, a third party
  that receives nothing);
- national users: `clerk` (Level III, no group, no role), `analyst` (Level II, dprk + military:
  outside the cyber group), one Level III user per role (`l3-operator`, `l3-legal`, `l3-analyst`,
  `l3-logistics`, `l3-auditor`), one Level I user per role with every group (`operator-user`, …,
  `auditor-user`) and `api-root-7f3a` holding every role;
- `None`: no credentials.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
from api_live import API_SECRETS, ApiNode, start_api_node
from taxii_live import SECRETS

from accord.principals import Principal, add_principal
from accord.principals.service import ROLES, lookup_principal

L3_ROLE_USERS = {role: f"l3-{role}" for role in ROLES}
ALL_SECRETS: dict[str, str] = {
    **SECRETS,
    **API_SECRETS,
    **{name: f"{name}-secret-1" for name in L3_ROLE_USERS.values()},
}
PARTNERS = ("jpn-node", "usa-node", "chn-node")
# Every principal kind the suites attack with, None for no credentials.
EVERYONE: tuple[str | None, ...] = (
    *PARTNERS,
    "clerk",
    "analyst",
    *L3_ROLE_USERS.values(),
    *(f"{role}-user" for role in ROLES),
    None,
)


def start_security_node(url: str) -> ApiNode:
    """Returns a live KOR node with every principal of this module."""
    node = start_api_node(url)
    for role, name in L3_ROLE_USERS.items():
        add_principal(
            node.store, name, "user", "KOR", ALL_SECRETS[name], clearance="III", roles=(role,)
        )
    return node


def principal(node: ApiNode, name: str) -> Principal:
    found = lookup_principal(node.store, name)
    assert found is not None, name
    return found.principal


def headers(who: str | None) -> dict[str, str]:
    """Basic credentials of `who` (none for None)."""
    if who is None:
        return {}
    token = base64.b64encode(f"{who}:{ALL_SECRETS[who]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def api(node: ApiNode, method: str, path: str, who: str | None, **kw: Any) -> httpx.Response:
    """Calls /api/v1`path` as `who`."""
    return node.live.http.request(method, "/api/v1" + path, headers=headers(who), **kw)
