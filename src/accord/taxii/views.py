"""The TAXII 2.1 endpoints (§4, §5), each computed over the caller's view.

Every list, count, page, `more`/`next`, manifest, version list and X-TAXII header comes from the
same restricted query, so nothing about an object the caller may not receive can be inferred
(Appendix B). Every object version served to a partner node is recorded as a release.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.audit import checkpoints
from accord.audit import log as audit
from accord.errors import Forbidden, InputError, NotFound, TooLarge, Unprocessable
from accord.exchange import abroad, notices, publishing, queries
from accord.exchange.authority import Writer, require_publisher
from accord.exchange.collections import MEDIA_STIX, Collection, now_us
from accord.exchange.ingest import Outcome, PublishCheck
from accord.exchange.marking_rows import marking_index
from accord.exchange.readahead import Page
from accord.exchange.receiving import partner_may_deliver, user_may_publish
from accord.exchange.releases import record_prepared, record_release, release_body
from accord.exchange.stix import format_us
from accord.exchange.visibility import View
from accord.node import Node, Snapshot
from accord.policy.access import User
from accord.principals import Principal
from accord.principals.certificates import client_certificate
from accord.principals.throttle import client_address
from accord.taxii import cursor, media, params, quota
from accord.taxii.statuses import get_status, save_status

Handler = Callable[[Request, Node, Principal], Response | Awaitable[Response]]


def taxii_response(
    body: bytes | str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status_code=status, media_type=media.TAXII, headers=headers)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return taxii_response(orjson.dumps(data), status, headers)


def endpoint(
    accept_extra: tuple[str, ...] = (),
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wraps a handler: authenticates, checks Accept, hands over the node and the principal.
    Errors propagate to the app's single error mapping (`accord.taxii.errors`).

    The store is used synchronously, so authentication and plain (`def`) handlers run in the
    thread pool, never on the event loop: one slow page must not stall every other request."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        def enter(request: Request, node: Node) -> Principal:
            who = _authenticate(request, node)
            media.check_accept(request.headers.get("accept"), accept_extra)
            return who

        def whole(request: Request, node: Node) -> Response:
            # A plain handler runs with authentication in ONE trip to the thread pool.
            return handler(request, node, enter(request, node))  # type: ignore[return-value]

        async def run(request: Request) -> Response:
            node: Node = request.app.state.node
            if inspect.iscoroutinefunction(handler):
                who = await run_in_threadpool(enter, request, node)
                return await handler(request, node, who)  # type: ignore[no-any-return]
            return await run_in_threadpool(whole, request, node)

        return run

    return wrap


def _authenticate(request: Request, node: Node) -> Principal:
    """Takes the request's snapshot of the store's counters (`Node.snapshot`) and authenticates;
    every later read of the request uses the same snapshot."""
    snap = node.snapshot()
    request.state.snap = snap
    address = client_address(request.client.host if request.client else None)
    cert = client_certificate(request.scope)
    return node.authenticate(request.headers.get("authorization"), snap, address, cert)


def _snap(request: Request) -> Snapshot:
    snap: Snapshot = request.state.snap
    return snap


def _root(request: Request, node: Node) -> str:
    root = str(request.path_params["api_root"])
    if root != node.config.api_root:
        raise NotFound(f"no API root {root!r}")
    return root


# ---- access to collections ---------------------------------------------------------------------


def can_read(who: Principal, node: Node, c: Collection) -> bool:
    if who.is_partner:
        return who.party != node.party
    return who.party == node.party


def can_write(who: Principal, node: Node, c: Collection) -> bool:
    if who.is_partner:
        return c.kind == "inbox" and who.party != node.party
    return c.kind == "items" and who.party == node.party


def _collection(request: Request, node: Node, who: Principal) -> Collection:
    """Returns the collection named in the path (id or alias) that the caller may see; a
    collection it may neither read nor write is absent (404)."""
    _root(request, node)
    wanted = str(request.path_params["collection_id"])
    for c in node.collections(_snap(request)):
        if wanted in (c.id, c.alias) and (can_read(who, node, c) or can_write(who, node, c)):
            return c
    raise NotFound(f"no collection {wanted!r} in this API root")


def _collection_json(who: Principal, node: Node, c: Collection) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": can_read(who, node, c),
        "can_write": can_write(who, node, c),
        "media_types": [MEDIA_STIX],
    }
    if c.alias:
        data["alias"] = c.alias
    return data


# ---- discovery, API root, status, collections ------------------------------------------------


@endpoint()
def discovery(request: Request, node: Node, who: Principal) -> Response:
    """Server Discovery (§4.1)."""
    root = f"/{node.config.api_root}/"
    return _json(
        {
            "title": node.config.title,
            "description": f"accord node of {node.party}: items released strictly under the agreements in force",
            "default": root,
            "api_roots": [root],
        }
    )


@endpoint()
def api_root(request: Request, node: Node, who: Principal) -> Response:
    """Get API Root Information (§4.2)."""
    _root(request, node)
    return _json(
        {
            "title": node.config.title,
            "versions": [media.TAXII],
            "max_content_length": node.config.max_content_length,
        }
    )


@endpoint()
def status(request: Request, node: Node, who: Principal) -> Response:
    """Get Status (§4.3): only the principal that made the request sees its status."""
    root = _root(request, node)
    body = get_status(
        node.store, root, str(request.path_params["status_id"]), who.name, node.config.limits
    )
    return taxii_response(body)


@endpoint()
def audit_checkpoint(request: Request, node: Node, who: Principal) -> Response:
    """This node's audit chain, signed now (not TAXII: accord's own resource under the API
    root): the head, or record `seq` with `?seq=N` — its seq, hash, time and signature,
    nothing of what the records say. A partner keeps the newest and asks for the same record
    at its next sync: a chain that no longer passes through it has forked
    (`accord.federation.chains`). One read and one signature a request, as throttled as any."""
    _root(request, node)
    raw = request.query_params.get("seq")
    seq = None
    if raw is not None:
        if not raw.isdigit() or not 0 < int(raw) < 2**63:
            raise InputError("seq: a record number (1 or more)")
        seq = int(raw)
    cp = checkpoints.sign_record(node.store, seq)
    if cp is None:
        raise NotFound("no such audit record" if seq is not None else "the audit log is empty")
    return _json(cp.to_json())


@endpoint()
def collections(request: Request, node: Node, who: Principal) -> Response:
    """Get Collections (§5.1): only those the caller may read or write."""
    _root(request, node)
    listed = [
        _collection_json(who, node, c)
        for c in node.collections(_snap(request))
        if can_read(who, node, c) or can_write(who, node, c)
    ]
    return _json({"collections": listed} if listed else {})


@endpoint()
def collection(request: Request, node: Node, who: Principal) -> Response:
    """Get a Collection (§5.2)."""
    return _json(_collection_json(who, node, _collection(request, node, who)))


# ---- reading objects -------------------------------------------------------------------------


def _readable(request: Request, node: Node, who: Principal) -> tuple[Collection, View]:
    c = _collection(request, node, who)
    if not can_read(who, node, c):
        raise Forbidden("this collection is not readable with these credentials")
    return c, node.view(who, _snap(request))


def _visible(view: View) -> queries.Visible:
    # Always the explicit set, even when it is every marking the view knew of: a marking stored
    # after the view was computed (a publish landing while this request runs) is not in it, and
    # an unfiltered query would serve its objects (tests/taxii/test_taxii_leaks.py).
    return view.rows


def _paged(
    request: Request, node: Node, who: Principal, c: Collection, endpoint_name: str, scope: str
) -> tuple[queries.Query, int, int | None, str]:
    items = list(request.query_params.multi_items())
    q, limit, token = params.parse(items, endpoint_name, node.config.max_page_size)
    digest = cursor.query_digest(items)
    after = (
        None if token is None else cursor.redeem(node.cursor_key, token, who.name, scope, digest)
    )
    return q, limit, after, digest


def _grouped(node: Node, who: Principal, top: int) -> dict[int, abroad.Form]:
    """The partner forms of grouped markings when `who` is a partner (`accord.exchange.abroad`);
    `top` is the newest marking of the request's snapshot (the index its view was computed from)."""
    if not who.is_partner:
        return {}
    return abroad.forms(node.store.url, marking_index(node.store, top))


def _abroad(node: Node, who: Principal, rows: list[queries.Row], top: int) -> list[queries.Row]:
    """Returns `rows` as `who` receives them: a partner gets the partner forms of grouped markings
    (national need-to-know groups never leave the node: `accord.exchange.abroad`)."""
    if not who.is_partner or not rows:
        return rows
    return abroad.partner_rows(rows, _grouped(node, who, top), who.party)


def _ids_read(node: Node, who: Principal, object_id: str, top: int) -> tuple[str, ...]:
    """The stored ids a request for `object_id` reads: itself, or for a partner asking for a
    partner form the national marking-definitions behind it (`abroad.lookup`)."""
    found = (
        abroad.lookup(object_id, _grouped(node, who, top), who.party) if who.is_partner else None
    )
    return (object_id,) if found is None else found


def _headers(rows: list[queries.Row]) -> dict[str, str]:
    if not rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_us(rows[0].date_added),
        "X-TAXII-Date-Added-Last": format_us(rows[-1].date_added),
    }


def _envelope(bodies: list[bytes], more: bool, token: str | None) -> bytes:
    # Stored JSON is spliced in, never re-parsed (docs/architecture.md, "Read as a partner").
    head = b'{"more":true,"next":' + orjson.dumps(token) if more else b'{"more":false'
    if not bodies:
        return head + b"}"
    return head + b',"objects":[' + b",".join(bodies) + b"]}"


def _bodies(node: Node, who: Principal, rows: list[queries.Row], top: int) -> list[bytes]:
    """The JSON of `rows` as `who` receives them (`_abroad`, the bodies alone)."""
    if not who.is_partner or not rows:
        return [r.body for r in rows]
    return abroad.partner_bodies(rows, _grouped(node, who, top), who.party)


def _next(
    node: Node,
    who: Principal,
    scope: str,
    digest: str,
    rows: list[queries.Row],
    more: bool,
    after: int | None,
) -> str | None:
    if not more:
        return None
    position = rows[-1].date_added if rows else (after or 0)
    return cursor.issue(node.cursor_key, who.name, scope, digest, position)


def _objects_page(
    node: Node,
    who: Principal,
    c: Collection,
    view: View,
    q: queries.Query,
    after: int | None,
    limit: int,
    scope: str,
    digest: str,
    top: int,
) -> Page:
    """Computes a page of Get Objects ready to serve: envelope, headers, next position and (for a
    partner) the body of its release record."""
    rows, more = queries.page(node.store, c.key, _visible(view), q, after, limit, who.name)
    token = _next(node, who, scope, digest, rows, more, after)
    # The release record's body is serialised here too, so that serving the page only appends it.
    release = (
        audit.serialise(release_body(who.party, c.id, rows, view, "taxii-read"))
        if who.is_partner and rows
        else None
    )
    position = rows[-1].date_added if more and rows else None
    body = _envelope(_bodies(node, who, rows, top), more, token)
    return Page(more, body, _headers(rows), position, release)


@endpoint()
def get_objects(request: Request, node: Node, who: Principal) -> Response:
    """Get Objects (§5.4). The page after this one is computed ahead (`accord.exchange.readahead`),
    keyed by everything it depends on; it is recorded as a release only when it is served."""
    c, view = _readable(request, node, who)
    scope = f"objects:{c.id}"
    q, limit, after, digest = _paged(request, node, who, c, "objects", scope)
    snap, today = _snap(request), node.today()
    found = node.read_ahead.take((who, scope, digest, limit, snap, today, after))
    got = found or _objects_page(node, who, c, view, q, after, limit, scope, digest, snap.markings)
    position = got.position
    if position is not None:
        node.read_ahead.schedule(
            (who, scope, digest, limit, snap, today, position),
            lambda: _objects_page(
                node, who, c, view, q, position, limit, scope, digest, snap.markings
            ),
        )
    if got.release is not None:
        record_prepared(node.store, who, got.release)
    return taxii_response(got.body, headers=got.headers)


@endpoint()
def get_object(request: Request, node: Node, who: Principal) -> Response:
    """Get an Object (§5.6): a search with `match[id]` set to the object id."""
    c, view = _readable(request, node, who)
    object_id = str(request.path_params["object_id"])
    scope = f"object:{c.id}:{object_id}"
    q, limit, after, digest = _paged(request, node, who, c, "object", scope)
    top = _snap(request).markings
    q = queries.Query(
        ids=_ids_read(node, who, object_id, top),
        versions=q.versions,
        spec_versions=q.spec_versions,
        added_after=q.added_after,
    )
    rows, more = (
        ([], False)
        if not q.ids
        else queries.page(node.store, c.key, _visible(view), q, after, limit, who.name)
    )
    if not rows and after is None and q.added_after is None:
        raise NotFound(f"no object {object_id[:160]!r} in this collection")
    token = _next(node, who, scope, digest, rows, more, after)
    if who.is_partner and rows:
        record_release(node.store, who, c.id, rows, view)
    body = _envelope(_bodies(node, who, rows, top), more, token)
    return taxii_response(body, headers=_headers(rows))


@endpoint(accept_extra=("application/stix+json",))
def get_manifest(request: Request, node: Node, who: Principal) -> Response:
    """Get Object Manifests (§5.3)."""
    c, view = _readable(request, node, who)
    scope = f"manifest:{c.id}"
    q, limit, after, digest = _paged(request, node, who, c, "objects", scope)
    rows, more = queries.page(node.store, c.key, _visible(view), q, after, limit, who.name)
    token = _next(node, who, scope, digest, rows, more, after)
    headers = _headers(rows)
    rows = _abroad(node, who, rows, _snap(request).markings)
    data: dict[str, Any] = {"more": more}
    if token:
        data["next"] = token
    if rows:
        data["objects"] = [
            {
                "id": r.stix_id,
                "date_added": format_us(r.date_added),
                "version": r.version,
                "media_type": MEDIA_STIX,
            }
            for r in rows
        ]
    return _json(data, headers=headers)


@endpoint()
def get_versions(request: Request, node: Node, who: Principal) -> Response:
    """Get Object Versions (§5.8)."""
    c, view = _readable(request, node, who)
    object_id = str(request.path_params["object_id"])
    scope = f"versions:{c.id}:{object_id}"
    q, limit, after, digest = _paged(request, node, who, c, "versions", scope)
    read = _ids_read(node, who, object_id, _snap(request).markings)
    rows: list[queries.Row] = []
    more = False
    if read:
        query = queries.Query(ids=read, spec_versions=q.spec_versions, added_after=q.added_after)
        rows, more = queries.version_page(
            node.store, c.key, _visible(view), object_id, query, after, limit, who.name, ids=read
        )
    if not rows and after is None and q.added_after is None:
        raise NotFound(f"no object {object_id[:160]!r} in this collection")
    token = _next(node, who, scope, digest, rows, more, after)
    data: dict[str, Any] = {"more": more}
    if token:
        data["next"] = token
    if rows:
        data["versions"] = [r.version for r in rows]
    return _json(data, headers=_headers(rows))


@endpoint()
def delete_object(request: Request, node: Node, who: Principal) -> Response:
    """Delete an Object (§5.7): needs can_read and can_write (the §5.7 table)."""
    c = _collection(request, node, who)
    if not (can_read(who, node, c) and can_write(who, node, c)):
        raise Forbidden("deleting needs both read and write access to this collection")
    require_publisher(who)
    view = node.view(who, _snap(request))
    items = list(request.query_params.multi_items())
    q, _, _ = params.parse(items, "delete", node.config.max_page_size)
    if not any(k == "match[version]" for k, _ in items):
        # §5.7 deletes the object, every version of it; match[version] narrows that down. (The
        # `last` default of §3.4.1 would leave the earlier versions served after a 200.)
        q = queries.Query(ids=q.ids, versions=("all",), spec_versions=q.spec_versions)
    # Only under the owner's authority, or the caller's own instance (accord.exchange.authority).
    n = queries.delete_versions(
        node.store,
        c.key,
        str(request.path_params["object_id"]),
        q,
        Writer.of(who, view.rows, node.party, node.config.signatures),
    )
    if n == 0:
        raise NotFound("no such object (or version) in this collection")
    return _json({})


# ---- adding objects ---------------------------------------------------------------------------


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InputError("Content-Length is not a number")
        if int(declared) > limit:
            raise TooLarge(f"the body ({declared} bytes) exceeds max_content_length ({limit})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the body exceeds max_content_length ({limit})")
        chunks.append(chunk)
    return b"".join(chunks)


def publish_check(
    node: Node, who: Principal, c: Collection, snap: Snapshot | None = None
) -> PublishCheck:
    """Returns the rule deciding which markings `who` may store in `c` (`accord.exchange.receiving`)."""
    _, world = node.world(snap)
    if who.is_partner:
        return partner_may_deliver(world, node.party, who.party, node.today())
    user = User(who.name, node.party, who.clearance or "U", who.groups, who.party)
    return user_may_publish(world, node.party, user, node.today())


@endpoint()
async def add_objects(request: Request, node: Node, who: Principal) -> Response:
    """Add Objects (§5.5): 202 with a status; valid objects are stored, the others are reported
    in `failures` with the reason (taxii-stix.md §8 item 3)."""
    c = await run_in_threadpool(_writable, request, node, who)
    media.check_content_type(request.headers.get("content-type"))
    raw = await _read_body(request, node.config.max_content_length)
    return await run_in_threadpool(_store_envelope, raw, node, who, c, _snap(request))


def _writable(request: Request, node: Node, who: Principal) -> Collection:
    c = _collection(request, node, who)
    if not can_write(who, node, c):
        raise Forbidden("this collection is not writable with these credentials")
    require_publisher(who)
    # A writer whose quota window is spent is refused before its body is read (429).
    quota.check(node.store, node.config.limits, who.name)
    return c


def _store_envelope(
    raw: bytes, node: Node, who: Principal, c: Collection, snap: Snapshot
) -> Response:
    """The store side of Add Objects, run in the thread pool."""
    try:
        envelope = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise Unprocessable("the body must be an envelope: an object with an 'objects' list")
    # Within the principal's write quota (429 otherwise), before anything is stored.
    quota.charge(node.store, node.config.limits, who.name, len(envelope["objects"]), len(raw))
    requested = now_us()
    status_id = str(uuid.uuid4())
    saved: list[bytes] = []
    # Notices of the originator's rights (reclassification, destruction, compromise) are acted on,
    # not stored as items (accord.exchange.notices).
    posted, sent_notices = notices.split(raw, envelope["objects"])
    handled = notices.receive_all(node, who, sent_notices)
    if handled:
        snap = node.snapshot()  # a notice may have re-marked items: decide on the store as it is

    def record(conn: sa.Connection, outcomes: list[Outcome]) -> None:
        # The status resource commits with the objects and their audit record, or not at all.
        saved.append(
            save_status(
                conn,
                node.config.api_root,
                status_id,
                who.name,
                requested,
                handled + outcomes,
                node.config.limits,
            )
        )

    publishing.store_objects(
        node.store,
        c,
        posted,
        Writer.of(who, node.view(who, snap).rows, node.party, node.config.signatures),
        publish_check(node, who, c, snap),
        then=record,
        markings_top=snap.markings,
        raw=raw,
        vouched=node.vouched,
    )
    body = saved[0]
    return taxii_response(body, status=202)
