"""The MISP feed a partner's MISP subscribes to, served per partner (docs/misp.md):

    GET /misp/{PARTY}/manifest.json     the events: uuid → info, date, tags, timestamp…
    GET /misp/{PARTY}/hashes.csv        md5(attribute value),event uuid — one line each
    GET /misp/{PARTY}/{event_uuid}.json one event: {"Event": …}

Only a live partner credential of PARTY reads them (HTTP Basic, as over TAXII): no credentials
401; any other credential — another partner, a user of any nation — 403 with the same words
whatever PARTY is, so the answer tells nothing about PARTY's feed; an event not in that feed 404.
Errors are JSON: `{"title", "description", "http_status"}`. The feed is what TAXII would give the
partner today (`accord.misp.partner`), and every response carrying something derived from an item
is recorded as a release to the partner, with its credential as actor.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.errors import AccordError, NotFound, StoreError, TooManyRequests
from accord.exchange.visibility import View
from accord.misp import partner
from accord.misp.feed import Feed, Source, event_json, manifest_json
from accord.node import Node, Snapshot
from accord.principals import Principal
from accord.principals.certificates import client_certificate
from accord.principals.throttle import client_address

JSON = "application/json"
log = logging.getLogger("accord.http")

_cache: dict[tuple[str, str, str, Snapshot, date], tuple[Feed, View]] = {}


def error_response(exc: AccordError) -> Response:
    """Returns a domain error as JSON, with the status its class carries; a 401 carries the
    Basic challenge, a 429 `Retry-After`; a store failure names its error id only."""
    description = exc.public if isinstance(exc, StoreError) else str(exc)
    body: dict[str, str] = {
        "title": exc.title,
        "description": description,
        "http_status": str(exc.http_status),
    }
    headers: dict[str, str] = {}
    if isinstance(exc, StoreError):
        # The driver's text stays in the node's log; the client gets the error id only.
        log.error("store failed (error id %s): %s", exc.error_id, exc)
        body["error_id"] = exc.error_id
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="accord", charset="UTF-8"'
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    return Response(orjson.dumps(body), exc.http_status, headers, media_type=JSON)


def _read(request: Request) -> tuple[Node, Principal, Feed, View]:
    """Authenticates the caller, checks it reads PARTY's feed, and returns the feed (computed
    once per partner, store state and day)."""
    node: Node = request.app.state.node
    snap = node.snapshot()
    address = client_address(request.client.host if request.client else None)
    cert = client_certificate(request.scope)
    who = node.authenticate(request.headers.get("authorization"), snap, address, cert)
    party = str(request.path_params["party"]).upper()
    partner.may_read_feed(node, who, party)
    key = (node.store.url, who.name, who.party, snap, node.today())
    found = _cache.get(key)
    if found is None:
        if len(_cache) > 16:
            _cache.clear()
        found = partner.partner_feed(node, who, snap)
        _cache[key] = found
    return node, who, found[0], found[1]


def _release(node: Node, who: Principal, view: View, sources: list[Source]) -> None:
    partner.record_feed_release(node, who, view, sources)


def _serve(answer: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await run_in_threadpool(answer, request)
        except AccordError as exc:
            return error_response(exc)

    return run


def _manifest(request: Request) -> Response:
    node, who, feed, view = _read(request)
    _release(node, who, view, feed.sources())
    return Response(manifest_json(feed), media_type=JSON)


def _hashes(request: Request) -> Response:
    node, who, feed, view = _read(request)
    _release(node, who, view, feed.sources())
    return Response(feed.hashes_csv(), media_type="text/csv")


def _event(request: Request) -> Response:
    node, who, feed, view = _read(request)
    wanted = str(request.path_params["event_uuid"]).lower()
    event = feed.events.get(wanted)
    if event is None:
        raise NotFound(f"no event {wanted[:40]!r} in this feed")
    _release(node, who, view, event.sources)
    return Response(event_json(event), media_type=JSON)


manifest = _serve(_manifest)
hashes = _serve(_hashes)
event = _serve(_event)
