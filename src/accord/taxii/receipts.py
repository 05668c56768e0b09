"""Trust resources for partner nodes under the API root: `GET /{api-root}/x-accord/receipts/`,
the receipts this node signed for what a partner node delivered to it, served to that partner
(`accord.trust.receipts`); and `POST /{api-root}/x-accord/keys/`, a partner's key rotation
(`accord.trust.keys`).

Only a partner credential reads it, and only the receipts made for its own party: a receipt
names item ids and content hashes, which are that sender's own information. Pages of at most
1,000 receipts, oldest first; `added_after` is the `next` value of the previous page (the time
this node made the last receipt it served, in microseconds). An accord-specific resource under
the API root (TAXII 2.1 §1.6.3 leaves room for such); the sender's sync collects from it.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.errors import Forbidden, InputError
from accord.node import Node
from accord.principals import Principal
from accord.store.trust_schema import receipt_objects
from accord.taxii.views import _root, endpoint, taxii_response
from accord.trust import keys

PAGE = 1000


@endpoint()
def receipts(request: Request, node: Node, who: Principal) -> Response:
    """The receipts made for the caller's party after `added_after`, oldest first."""
    _root(request, node)
    if not who.is_partner:
        raise Forbidden("receipts are served to the partner node they were made for")
    raw = request.query_params.get("added_after", "0")
    if not raw.isdigit() or len(raw) > 20:
        raise InputError("added_after: expected the `next` value of the previous page")
    c = receipt_objects.c
    with node.store.read() as conn:
        rows = conn.execute(
            sa.select(c.added, c.body)
            .where(c.sender == who.party, c.added > int(raw))
            .order_by(c.added)
            .limit(PAGE + 1)
        ).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    parts = [str(body) for _, body in rows]
    last = str(rows[-1][0]) if rows else raw
    head = orjson.dumps({"more": more, "next": last}).decode()[:-1]
    return taxii_response(head + ',"objects":[' + ",".join(parts) + "]}")


@endpoint()
async def key_rotation(request: Request, node: Node, who: Principal) -> Response:
    """A partner node announces its new key, signed by the key pinned for its party
    (`accord.trust.keys.accept_rotation`): 200 when it is verified and pinned, 422 naming why
    not. Only the partner's own party's key can be announced."""
    _root(request, node)
    if not who.is_partner:
        raise Forbidden("a key rotation is announced by a partner node")
    raw = await request.body()
    if len(raw) > 16_384:
        raise InputError("a key rotation announcement is a few hundred bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InputError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InputError("the body must be a key rotation object")

    def accept() -> str:
        with node.store.begin() as conn:
            return keys.accept_rotation(conn, body, who.party)

    said = await run_in_threadpool(accept)
    return taxii_response(orjson.dumps({"accepted": said}))
