"""Who may call what: the role-by-endpoint table, as data, and the one dependency that enforces it.

`ACCESS` maps every endpoint (`METHOD /path`, the path under /api/v1 as routed) to the roles that
may call it, or to `PUBLIC`. `caller` authenticates the request exactly as TAXII does (Basic, or
Bearer/Token `NAME:SECRET`) and looks the matched route up in `ACCESS`: an endpoint missing from
the table is refused to everyone, so the table cannot silently fall behind the routes.
docs/api.md prints the same table; tests/api/test_api_roles.py checks the docs against it and
calls every endpoint as every role.

Partner nodes speak TAXII, never the management API: a partner principal is refused everywhere.
"""

from __future__ import annotations

from starlette.requests import Request

from accord.errors import Forbidden
from accord.node import Node
from accord.principals import Principal
from accord.principals.certificates import client_certificate
from accord.principals.service import ROLES
from accord.principals.throttle import client_address

OPERATOR, LEGAL, ANALYST, LOGISTICS, AUDITOR = (
    "operator",
    "legal",
    "analyst",
    "logistics",
    "auditor",
)
assert (OPERATOR, LEGAL, ANALYST, LOGISTICS, AUDITOR) == ROLES
PUBLIC = "public"

EVERY_ROLE = (OPERATOR, LEGAL, ANALYST, LOGISTICS, AUDITOR)
DECIDERS = (LEGAL, ANALYST, AUDITOR)
LEDGER_READERS = (LOGISTICS, AUDITOR)

#: The role-by-endpoint table. Keys are `METHOD /path` under /api/v1.
ACCESS: dict[str, tuple[str, ...]] = {
    "GET /openapi.json": (PUBLIC,),
    "GET /docs": (PUBLIC,),
    # the registry: everyone with a role reads it; legal officers record it
    "GET /parties": EVERY_ROLE,
    "GET /parties/{code}": EVERY_ROLE,
    "GET /agreements": EVERY_ROLE,
    "GET /agreements/{agreement_id}": EVERY_ROLE,
    "GET /agreements/{agreement_id}/events": EVERY_ROLE,
    "POST /agreements/{agreement_id}/events": (LEGAL,),
    "GET /notes": EVERY_ROLE,
    "POST /notes": (LEGAL,),
    "GET /consents": EVERY_ROLE,
    "POST /consents": (LEGAL,),
    # credentials: operators only
    "GET /credentials": (OPERATOR,),
    "POST /credentials": (OPERATOR,),
    "DELETE /credentials/{name}": (OPERATOR,),
    "POST /credentials/{name}/unlock": (OPERATOR,),
    # releasability
    "POST /decisions": DECIDERS,
    # agreement moves and what they did to releases: every national role
    "GET /changes": EVERY_ROLE,
    "GET /items/{item_id}/releases": DECIDERS,
    "POST /releases": DECIDERS,
    "POST /whatif": (LEGAL, ANALYST),
    "POST /preview": (ANALYST,),
    # the audit trail
    "GET /audit/verify": (AUDITOR, OPERATOR),
    "GET /audit/disclosures/{item_id}": (AUDITOR,),
    "GET /audit/records": (AUDITOR,),
    # logistics
    "GET /orders": LEDGER_READERS,
    "GET /orders/{order_id}": LEDGER_READERS,
    "POST /orders": (LOGISTICS,),
    **{
        f"POST /orders/{{order_id}}/{step}": (LOGISTICS,)
        for step in (
            "accept",
            "reject",
            "cancel",
            "amend",
            "deliver",
            "invoice",
            "settle",
            "attach",
            "close",
        )
    },
    "GET /ledger/balances": LEDGER_READERS,
    "GET /ledger/ageing": LEDGER_READERS,
    "GET /ledger/report": LEDGER_READERS,
}


def allowed(key: str, who: Principal | None) -> bool:
    """True when `who` (None: unauthenticated) may call the endpoint `key`."""
    roles = ACCESS.get(key)
    if roles is None:
        return False
    if PUBLIC in roles:
        return True
    if who is None or who.is_partner:
        return False
    return bool(who.roles.intersection(roles))


def route_key(request: Request) -> str:
    """Returns `METHOD /path` of the route that matched the request (its template, not the URL)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"{request.method} {path}"


def caller(request: Request) -> Principal:
    """The dependency of every non-public endpoint: returns the authenticated principal, or raises
    Unauthenticated (401) / Forbidden (403) when `ACCESS` does not give it this endpoint."""
    node: Node = request.app.state.node
    address = client_address(request.client.host if request.client else None)
    who = node.authenticate(
        request.headers.get("authorization"),
        address=address,
        certificate=client_certificate(request.scope),
    )
    key = route_key(request)
    if not allowed(key, who):
        if who.is_partner:
            raise Forbidden("partner nodes use TAXII; the management API is for the node's people")
        need = ", ".join(ACCESS.get(key, ())) or "nobody"
        raise Forbidden(f"{key} needs one of the roles: {need}")
    return who
