"""Push and pull between nodes over TAXII 2.1, with durable cursors.

Push: everything newly releasable to the peer's party — every object version, decided with this
node as holder (so a third party's item goes on only with its originator's consent, R6/R7) — is
POSTed to the peer's inbox, oldest first, page by page. The release is recorded and the cursor moved
in one transaction after the peer acknowledged the page, so a crash or a cut connection at any point
resends at most one page, which the peer ingests idempotently: nothing lost, nothing duplicated.

Pull: the peer's view of this node's party is read page by page from the cursor (`added_after`, the
peer's own date_added), every object re-checked here against this node's registry before it is
stored (`accord.exchange.receiving`); the cursor moves after the page is stored.

Transport errors and 5xx answers are retried with exponential backoff; a peer that stays down ends
the sync with its cursors where they were.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

from accord.audit import log as audit
from accord.errors import AccordError, InputError
from accord.exchange import abroad, acs, foreign, publishing, queries, signatures, stix20
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection, list_collections
from accord.exchange.ingest import Outcome, Prepared, prepare
from accord.exchange.marking_rows import MarkingIndex, marking_definitions, marking_index
from accord.exchange.receiving import partner_may_deliver
from accord.exchange.releases import refusal_body, release_body
from accord.exchange.set_params import member, set_param
from accord.exchange.stix import MEDIA_TAXII, format_us, parse_timestamp_us, version_of
from accord.federation import chains, transport
from accord.federation.peers import (
    Peer,
    Rewound,
    get_cursor,
    meta_key,
    put_cursor,
    put_received,
    received,
    rewind,
    syncing,
)
from accord.node import Node
from accord.principals import Principal
from accord.store.exchange_schema import objects
from accord.store.meta import get_meta
from accord.store.meta import put as put_meta
from accord.trust import keys
from accord.trust import receipts as rc

PAGE = 1000  # objects per page read or envelope sent (the TAXII server's largest page)
#: Pages pulled into one transaction (the cursor moves per transaction): SQLite writes the
#: unique index's leaves a transaction touched once per commit, and ids are random, so a bare
#: insert of 50,000 rows ran ~1.6x faster in transactions of 5,000 than of 1,000; the whole pull
#: gains less, being bound by its Python work (BENCHMARKS.md, "Federation").
PULL_BATCH = 5
MAX_RETRY_AFTER = 300.0  # seconds a sync waits, in all, for peers that answer 429
DEFAULT_MAX_CONTENT = 10 * 1024 * 1024  # a peer's envelope limit when its API root names none
DEFINITION_SIZE = 1024  # what a marking-definition adds to an envelope, at most (estimate)


class PeerUnavailable(AccordError):
    """The peer did not answer usefully after every retry."""


@dataclass
class SyncReport:
    """What one sync with one peer did."""

    peer: str
    pushed: int = 0
    push_refused: int = 0
    pulled: int = 0
    pull_refused: int = 0
    #: Item versions the peer's signed receipts newly acknowledged (accord.trust.receipts).
    receipts: int = 0
    errors: list[str] = field(default_factory=list)
    #: When asked to sync again (`sync_peer(again=...)`): from when, and the cursors moved back.
    again: tuple[int, list[Rewound]] | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "peer": self.peer,
            "pushed": self.pushed,
            "push_refused": self.push_refused,
            "pulled": self.pulled,
            "pull_refused": self.pull_refused,
            "receipts": self.receipts,
            "errors": self.errors,
            "ok": not self.errors,
        }
        if self.again is not None:
            since, moved = self.again
            out["again"] = {
                "since": format_us(since),
                "cursors": [
                    {
                        "direction": m.direction,
                        "collection": m.collection,
                        "from": format_us(m.before),
                        "to": format_us(m.after),
                    }
                    for m in moved
                ],
            }
        return out


Progress = Callable[[str, int], None]


class PeerClient:
    """A TAXII client for one peer: Basic auth and/or a client certificate (mutual TLS:
    `accord.federation.transport`), retries with backoff on transport errors and 5xx."""

    def __init__(
        self, peer: Peer, retries: int = 4, backoff: float = 0.2, timeout: float = 60
    ) -> None:
        self.peer = peer
        self.retries = retries
        self.backoff = backoff
        self.http = httpx.Client(
            base_url=peer.url,
            auth=peer.auth(),
            verify=transport.verify_for(peer.url, peer.tls()),  # plain HTTP: no CA bundle read
            headers={"Accept": MEDIA_TAXII},
            timeout=timeout,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def max_content_length(self) -> int:
        """Returns the largest request body the peer's API root accepts (TAXII 2.1 §4.2
        `max_content_length`), 10 MiB when it does not say."""
        r = self.request("GET", f"/{self.peer.api_root}/")
        try:
            value = (
                orjson.loads(r.content).get("max_content_length") if r.status_code == 200 else None
            )
        except (orjson.JSONDecodeError, AttributeError):
            value = None
        return value if isinstance(value, int) and value > 0 else DEFAULT_MAX_CONTENT

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Sends a request, again after a transport error or a 5xx (with backoff), and after a
        429 once the `Retry-After` the peer asked for has passed (RFC 9110 §10.2.3; a peer's
        write quota, `accord.taxii.quota`), waiting at most `MAX_RETRY_AFTER` seconds in all."""
        last = ""
        waited = 0.0
        attempt = 0
        while attempt < self.retries:
            try:
                r = self.http.request(method, path, **kw)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}"
            else:
                if r.status_code < 500 and r.status_code != 429:
                    return r
                last = f"HTTP {r.status_code}"
                asked = _retry_after(r) if r.status_code == 429 else None
                if asked is not None and waited + asked <= MAX_RETRY_AFTER:
                    time.sleep(asked)
                    waited += asked
                    continue  # the peer said when: not a failed attempt
            time.sleep(self.backoff * (2**attempt))
            attempt += 1
        raise PeerUnavailable(f"peer {self.peer.name} at {self.peer.url} did not answer ({last})")

    def collection_path(self, alias: str) -> str:
        return f"/{self.peer.api_root}/collections/{alias}/"


def _retry_after(r: httpx.Response) -> float | None:
    """Returns the seconds a 429's `Retry-After` asks for (delay-seconds only), None without."""
    value = r.headers.get("Retry-After", "").strip()
    return max(1.0, float(value)) if value.isdigit() else None  # at least a second


def _refusal(peer: Peer, r: httpx.Response) -> str:
    """Returns what a peer's answer other than the one expected says: the request, the URL, the
    status and the TAXII error's title and description when the body is one (§3.6.1)."""
    said = ""
    try:
        body = orjson.loads(r.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and ("title" in body or "description" in body):
        said = ": " + "; ".join(str(body[k])[:200] for k in ("title", "description") if k in body)
    elif r.content:
        said = f" (not a TAXII answer: {r.headers.get('content-type', 'no content type')})"
    return f"{r.request.method} {r.request.url} answered HTTP {r.status_code}{said}"


def _envelope(definitions: list[str], rows: list[queries.Row]) -> bytes:
    parts = [d.encode() for d in definitions] + [r.body for r in rows]
    return b'{"objects":[' + b",".join(parts) + b"]}"


def push(
    node: Node,
    peer: Peer,
    client: PeerClient,
    report: SyncReport,
    progress: Progress | None = None,
    page: int = PAGE,
) -> None:
    """Pushes to the peer's inbox everything newly releasable to its party."""
    _Push(node, peer, client, report, progress).run(page)


class _Exchange:
    """What one push or pull with one peer works with: the node, the peer and its client, the
    report being counted and the progress callback."""

    def __init__(
        self,
        node: Node,
        peer: Peer,
        client: PeerClient,
        report: SyncReport,
        progress: Progress | None,
    ) -> None:
        self.node, self.peer, self.client = node, peer, client
        self.report, self.progress = report, progress
        self.setup()

    def setup(self) -> None:
        """Prepares what the exchange needs before its first page."""


class _Push(_Exchange):
    """One push to one peer: what its party may receive here, sent page by page, each envelope
    settled (release recorded, cursor moved, `report` counted) once the peer acknowledged it."""

    def setup(self) -> None:
        node, peer = self.node, self.peer
        self.who = Principal(name=f"peer:{peer.name}", kind="partner", party=peer.party)
        self.view = node.view(self.who)
        # The peer's own information is never pushed back to it: it holds the original.
        self.index = marking_index(node.store)
        self.visible = frozenset(
            r for r in self.view.rows if self.index.by_row[r].originator != peer.party
        )
        self.path = self.client.collection_path(peer.push_to or "inbox") + "objects/"
        # A marking-definition goes with every envelope that needs it until the peer has
        # acknowledged one that carried it, not with every page: a page of 500 objects may carry
        # hundreds of markings. (Until then it is sent again: envelopes in flight together may
        # be stored in either order, and an object must never arrive before its marking.)
        self.acked: set[int] = set()
        self.notes_acked: set[str] = set()  # provenance notes the peer has acknowledged
        # A peer that is not an accord node also gets an ACS 3.0 marking beside accord's own
        # (accord.exchange.acs), so that its tools keep the originator's restrictions.
        self.acs: dict[int, tuple[str, bytes]] | None = None if peer.accord else {}
        self.world = node.world()[1]

    def run(self, page: int) -> None:
        """Sends every collection's pages after the push cursor, two envelopes in flight: the
        peer parses and checks one while it stores the other, and this node reads the next page
        and records releases meanwhile. Envelopes are settled in order, so the cursor only ever
        moves past envelopes the peer acknowledged; a failure leaves later ones to be sent again,
        which the peer answers "already stored".

        Every envelope stays within the peer's `max_content_length` (TAXII 2.1 §4.2): a page
        too large for one goes as several, and an object larger than the peer accepts is
        refused here, reported and recorded. The signed provenance notes an envelope's items
        need and the peer has not acknowledged go ahead of it, once, in envelopes of their own
        (`notes_for`): an item must never arrive before its signature, and envelopes in flight
        together may be stored in either order."""
        store = self.node.store
        # The peer's limit, and what the rows and notes of one envelope may take of it (the
        # marking-definitions and the envelope's own bytes take the rest).
        self.limit = self.client.max_content_length()
        self.budget = int(self.limit * 0.9)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for c in list_collections(store, self.node.config.api_root):
                position = get_cursor(store, self.peer.name, "push", c.id)
                self.sent_before = position  # notes added before it went in an earlier sync
                self.unsent_notes = self.notes_after(c, position)
                query = queries.Query(versions=("all",))
                rows, _ = queries.page(store, c.key, self.visible, query, position, page)
                flight: deque[tuple[list[queries.Row], set[int], Future[httpx.Response]]] = deque()
                ready: deque[list[queries.Row]] = deque()
                try:
                    while rows or ready or flight:
                        if not ready and rows:
                            ready.extend(self.split(c, rows))
                            rows, _ = queries.page(
                                store, c.key, self.visible, query, rows[-1].date_added, page
                            )
                            continue
                        if ready and len(flight) < 2:
                            ahead = self.notes_for(c, ready[0])
                            if ahead and flight:
                                # They may be in flight: once it is settled, they are known.
                                self.settle_next(c, flight)
                                continue
                            chunk = ready.popleft()
                            if ahead:
                                self.send_ahead(c, ahead)
                            needed = {x.marking for x in chunk} - self.acked
                            flight.append((chunk, needed, pool.submit(self.post, chunk, needed)))
                            continue
                        self.settle_next(c, flight)
                except BaseException:
                    for *_, f in flight:
                        f.cancel()
                    raise

    def settle_next(
        self,
        c: Collection,
        flight: deque[tuple[list[queries.Row], set[int], Future[httpx.Response]]],
    ) -> None:
        """Settles the oldest envelope in flight."""
        done, carried, sending = flight.popleft()
        self.settle(c, done, carried, sending.result())

    def split(self, c: Collection, rows: list[queries.Row]) -> list[list[queries.Row]]:
        """Returns a page as envelopes within the peer's limit (the rows in order); a row that
        alone exceeds it is refused here, reported and recorded (its size and the limit)."""
        chunks: list[list[queries.Row]] = [[]]
        size, markings = 0, set(self.acked)
        too_large: list[queries.Row] = []
        for r in rows:
            grows = len(r.body) + 1 + (DEFINITION_SIZE if r.marking not in markings else 0)
            if grows > self.budget:
                too_large.append(r)
                continue
            if size + grows > self.budget and chunks[-1]:
                chunks.append([])
                size, markings = 0, set(self.acked)
            chunks[-1].append(r)
            markings.add(r.marking)
            size += grows
        if too_large:
            self.refuse_too_large(c, too_large)
        return [ch for ch in chunks if ch]

    def refuse_too_large(self, c: Collection, rows: list[queries.Row]) -> None:
        """Reports and records the objects no envelope to this peer can carry."""
        outcomes = [
            Outcome(
                False,
                r.stix_id,
                r.version,
                f"larger ({len(r.body)} bytes) than the peer accepts (max_content_length {self.limit})",
            )
            for r in rows
        ]
        body = {"direction": "push", **refusal_body(c.id, outcomes)}
        with self.node.store.begin() as conn:
            audit.append(conn, "refusal", self.peer.name, self.peer.party, body)
        self.report.push_refused += len(rows)

    def send_ahead(self, c: Collection, notes: list[queries.Row]) -> None:
        """Sends provenance notes the next envelope's items need, in envelopes of their own
        within the peer's limit, and waits for each to be acknowledged."""
        for chunk in self.split(c, notes):
            needed = {x.marking for x in chunk} - self.acked
            self.settle(c, chunk, needed, self.post(chunk, needed), move=False)

    def notes_after(self, c: Collection, position: int) -> set[str]:
        """Returns the ids of the provenance notes in the collection the peer may read that
        were added after `position` (those before it went in an earlier sync)."""
        o = objects.c
        dialect = self.node.store.dialect
        query = sa.select(o.stix_id).where(
            o.coll == c.key,
            o.type == "note",
            o.date_added > position,
            o.deleted == sa.false(),
            member(o.marking, "visible", dialect),
        )
        with self.node.store.read() as conn:
            found = conn.execute(query, {"visible": set_param(self.visible, dialect)}).all()
        return {str(sid) for (sid,) in found}

    def notes_for(self, c: Collection, rows: list[queries.Row]) -> list[queries.Row]:
        """Returns the signed provenance notes the envelope's items need that the peer has not
        acknowledged and the envelope does not carry (a note added before the push cursor went
        in an earlier sync)."""
        if not self.unsent_notes - self.notes_acked:
            return []  # every note the peer may need has been acknowledged
        items = {
            (r.stix_id, r.version)
            for r in rows
            if not r.stix_id.startswith(("marking-definition--", "note--"))
        }
        if not items:
            return []
        store = self.node.store
        with store.read() as conn:
            found = signatures.stored_entries(conn, {sid for sid, _ in items})
        wanted = {p for sid, ver, _, _, _, p in found if (sid, ver) in items}
        wanted -= self.notes_acked | {r.stix_id for r in rows}
        if not wanted:
            return []
        query = queries.Query(ids=tuple(sorted(wanted)), versions=("all",))
        notes, _ = queries.page(store, c.key, self.visible, query, None, len(wanted) + 1)
        earlier = {n.stix_id for n in notes if n.date_added <= self.sent_before}
        self.notes_acked |= earlier
        return [n for n in notes if n.stix_id not in earlier]

    def post(self, rows: list[queries.Row], markings: set[int]) -> httpx.Response:
        """Sends one envelope: the rows and the marking-definitions `markings` names."""
        # What leaves the node carries no national need-to-know groups (accord.exchange.abroad).
        store = self.node.store
        now = marking_index(store)
        definitions = abroad.partner_definitions(
            markings, now, marking_definitions(store, markings)
        )
        served = abroad.partner_rows(rows, abroad.forms(store.url, now), self.peer.party)
        if self.acs is not None:
            definitions, served = self.with_acs(now, definitions, served)
        return self.client.request(
            "POST",
            self.path,
            content=_envelope(definitions, served),
            headers={"Content-Type": MEDIA_TAXII},
        )

    def with_acs(
        self, index: MarkingIndex, definitions: list[str], rows: list[queries.Row]
    ) -> tuple[list[str], list[queries.Row]]:
        """Returns the envelope's definitions and rows with each item naming the ACS 3.0
        marking that restates its release marking, and those ACS definitions added."""
        assert self.acs is not None
        sent: dict[str, bytes] = {}
        out: list[queries.Row] = []
        for r in rows:
            if r.stix_id.startswith("marking-definition--"):
                out.append(r)
                continue
            if r.marking not in self.acs:
                marking = index.by_row[r.marking].without_groups()
                d = acs.definition(self.world, marking, self.node.party, self.peer.party)
                self.acs[r.marking] = (d["id"], orjson.dumps(d))
            ref, body = self.acs[r.marking]
            sent[ref] = body
            out.append(r._replace(body=acs.beside(r.body, ref)))
        return definitions + [b.decode() for b in sent.values()], out

    def settle(
        self,
        c: Collection,
        rows: list[queries.Row],
        carried: set[int],
        r: httpx.Response,
        move: bool = True,
    ) -> None:
        """Records what the peer accepted of one envelope and moves the cursor past it (not
        for notes sent ahead of their place: `move` False)."""
        peer = self.peer
        if r.status_code != 202:
            raise PeerUnavailable(f"peer {peer.name} refused the envelope: {_refusal(peer, r)}")
        status = orjson.loads(r.content)
        # A status lists at most the peer's `status_list_limit` failures: a longer list comes as
        # x_accord_failures (accord.taxii.statuses); the objects it leaves out count as carried.
        failures = [
            f
            for f in status.get("failures") or status.get("x_accord_failures") or []
            if isinstance(f, dict)
        ]
        refused = {f.get("id") for f in failures}
        self.acked.update(m for m in carried if self.index.stix_ids.get(m) not in refused)
        accepted = [x for x in rows if x.stix_id not in refused]
        body = release_body(peer.party, c.id, accepted, self.view, "push")
        with self.node.store.begin() as conn:
            if accepted:
                audit.append(conn, "release", self.who.name, peer.party, body)
            if failures:
                # One bounded record, whatever the peer's status held (refusal_body).
                outcomes = [
                    Outcome(
                        False,
                        str(f.get("id"))[:160],
                        str(f.get("version", ""))[:40],
                        str(f.get("message", "")),
                    )
                    for f in failures
                ]
                body = {"direction": "push", **refusal_body(c.id, outcomes)}
                body["count"] = max(len(outcomes), int(status.get("failure_count") or 0))
                audit.append(conn, "refusal", peer.name, peer.party, body)
            if move:
                put_cursor(conn, peer.name, "push", c.id, rows[-1].date_added)
        # A note sent ahead of its place is sent again there: counted once.
        again = sum(1 for x in accepted if x.stix_id in self.notes_acked)
        self.notes_acked.update(x.stix_id for x in accepted if x.stix_id.startswith("note--"))
        self.report.pushed += len(accepted) - again
        self.report.push_refused += len(rows) - len(accepted)
        if self.progress:
            self.progress("push", len(rows))


def pull(
    node: Node,
    peer: Peer,
    client: PeerClient,
    report: SyncReport,
    progress: Progress | None = None,
    page: int = PAGE,
) -> None:
    """Pulls the peer's view of this node's party into this node's inbox, re-checking each object."""
    _Pull(node, peer, client, report, progress).run(page)


class _Pull(_Exchange):
    """One pull from one peer: its view of this node's party read page by page from the pull
    cursors, every object re-checked here and stored in the inbox, PULL_BATCH pages a
    transaction; `report` counts what was stored and refused."""

    def setup(self) -> None:
        node, peer = self.node, self.peer
        _, world = node.world()
        self.check = partner_may_deliver(world, node.party, peer.party, node.today())
        self.inbox = next(
            c for c in list_collections(node.store, node.config.api_root) if c.kind == "inbox"
        )
        sender = Principal(name=f"peer:{peer.name}", kind="partner", party=peer.party)
        # What the peer may read here decides where its writes go (accord.exchange.authority).
        # A peer that is not an accord node signs nothing: its content is unverified provenance.
        self.writer = replace(
            Writer.of(sender, node.view(sender).rows, node.party),
            pulled=True,
            provenance=node.config.signatures if peer.accord else signatures.UNVERIFIED,
        )
        # The outcomes of the batch being stored, counted inside its transaction (`record`).
        self.stored = 0
        self.refused = 0
        # A peer that is not an accord node: its markings mapped to release markings, and every
        # version read recorded (its date_added need not be monotonic: it is read whole).
        self.mapper: foreign.Mapper | None = None
        self.seen: set[tuple[str, str]] = set()
        if not peer.accord:
            table = peer.markings.over(node.config.foreign_markings)
            self.mapper = foreign.Mapper(table, marking_index(node.store).rows)

    def run(self, page: int) -> None:
        """Reads the peer's items and inbox after their cursors, `page` objects a page."""
        peer = self.peer
        for alias in peer.pull_from:
            params: dict[str, str] = {"limit": str(page), "match[version]": "all"}
            if self.mapper is None:
                position = get_cursor(self.node.store, peer.name, "pull", alias)
                if position:
                    params["added_after"] = format_us(position)
            else:
                self.seen = received(self.node.store, peer.name, alias)
            path = self.client.collection_path(alias) + "objects/"
            batch: list[tuple[httpx.Response | None, Prepared, int]] = []
            refused: httpx.Response | None = None
            with _Reader(self.fetch, path, params) as pages:
                for r, env, ready in pages:
                    if r.status_code != 200:
                        refused = r
                        break
                    objects = env.get("objects", [])
                    if objects:
                        batch.append((r, ready, len(objects)))
                    if len(batch) >= PULL_BATCH:
                        self.store(alias, batch)
                        batch = []
            if batch:  # the last pages, or those read before a refusal
                self.store(alias, batch)
            if self.mapper is not None and refused is None:
                rest = self.mapper.leftovers()  # definitions no mapped object named
                if rest.objects:
                    self.store(alias, [(None, prepare(rest.objects, rest.refused), 0)])
            if refused is not None:
                # Any answer but a page is an error, a 403 or 404 included: a sync that read
                # nothing because it could not read is never "ok".
                raise PeerUnavailable(_refusal(peer, refused))

    def fetch(self, path: str, params: dict[str, str]) -> _Page:
        """Returns a page, its envelope and its objects checked structurally (on the reading
        thread: the caller's is meanwhile storing the previous pages)."""
        r = self.client.request("GET", path, params=params)
        if r.status_code != 200:
            return r, None, prepare([])
        try:
            env = orjson.loads(r.content)
        except orjson.JSONDecodeError:
            raise PeerUnavailable(f"peer {self.peer.name} sent a page that is not JSON") from None
        if not isinstance(env, dict) or not isinstance(env.get("objects", []), list):
            raise PeerUnavailable(f"peer {self.peer.name} sent a page that is not an envelope")
        objects = env.get("objects", [])
        if self.mapper is None:
            return r, env, prepare(objects)
        return r, env, self.foreign_page(objects)

    def foreign_page(self, objects: list[Any]) -> Prepared:
        """Returns a page of a peer that is not an accord node ready to store: the versions
        stored before left out, STIX 2.0 upgraded when the peer is declared so, and its
        markings mapped (`foreign.Mapper`; what the table does not name is refused)."""
        assert self.mapper is not None
        fresh = [o for o in objects if _version_key(o) not in self.seen]
        cannot: dict[int, str] = {}
        if self.peer.stix20:
            fresh, cannot = _upgraded(fresh)
        mapped = self.mapper.page([o for i, o in enumerate(fresh) if i not in cannot])
        # What could not be upgraded is refused with why, after the page.
        refused = dict(mapped.refused)
        objects = mapped.objects
        for i, why in cannot.items():
            refused[len(objects)] = why
            objects.append(fresh[i])
        return prepare(objects, refused)

    def store(self, alias: str, pages: list[tuple[httpx.Response | None, Prepared, int]]) -> None:
        """Stores fetched pages in one transaction with their receipt, refusals and the cursor
        (past the last page's X-TAXII-Date-Added-Last), or for a peer that is not an accord node
        the record of the versions stored: together, or not at all."""
        answer = pages[-1][0]
        last = answer.headers.get("X-TAXII-Date-Added-Last") if answer is not None else None
        ready = Prepared.join([p for _, p, _ in pages])
        record = functools.partial(self.record, alias, last)
        self.stored = self.refused = 0
        publishing.store_objects(
            self.node.store,
            self.inbox,
            ready,
            self.writer,
            self.check,
            then=record,
            vouched=self.node.vouched,
        )
        self.report.pulled += self.stored
        self.report.pull_refused += self.refused
        if self.progress:
            self.progress("pull", sum(n for _, _, n in pages))

    def record(
        self, alias: str, last: str | None, conn: sa.Connection, outcomes: list[Outcome]
    ) -> None:
        """Moves the cursor past the stored pages (or records the versions stored) and counts
        their outcomes, inside the transaction that stores them."""
        if self.mapper is not None:
            kept = {(o.id, o.version) for o in outcomes if o.ok} - self.seen
            put_received(conn, self.peer.name, alias, kept)
            self.seen |= kept
        elif last:
            put_cursor(
                conn,
                self.peer.name,
                "pull",
                alias,
                parse_timestamp_us(last, "X-TAXII-Date-Added-Last"),
            )
        self.stored = sum(1 for o in outcomes if o.stored)
        self.refused = sum(1 for o in outcomes if not o.ok)


_Page = tuple[httpx.Response, Any, Prepared]


def _upgraded(objects: list[Any]) -> tuple[list[Any], dict[int, str]]:
    """Returns a STIX 2.0 peer's objects upgraded to 2.1 (`accord.exchange.stix20`), each on
    its own: one that cannot be upgraded faithfully is refused with why, not its whole page."""
    out: list[Any] = []
    cannot: dict[int, str] = {}
    for i, o in enumerate(objects):
        try:
            out.extend(stix20.upgrade([o]).objects)
        except InputError as exc:
            out.append(o)
            cannot[i] = str(exc)
    return out, cannot


def _version_key(obj: Any) -> tuple[str, str]:
    """Returns (id, version) of an object as the record of a peer's versions keys it (the
    version as ingest reports it: `modified`, else `created`, else one fixed value)."""
    if not isinstance(obj, dict):
        return ("", "")
    return (str(obj.get("id", "")), version_of(obj))


class _Reader:
    """A pull's pages, read ahead on a thread of their own: while the caller stores a batch,
    the reader fetches, parses and checks the next pages (up to PULL_BATCH of them), following
    `next` — the store's writes and the socket release the interpreter lock, so the two overlap.
    Iterating yields each page in order and re-raises the reader's error where it happened; it
    ends after the last page (no `more`) or after an answer other than 200. Leaving the `with`
    block early stops the reader after the request in flight."""

    def __init__(
        self, fetch: Callable[[str, dict[str, str]], _Page], path: str, params: dict[str, str]
    ) -> None:
        self.fetch, self.path, self.params = fetch, path, params
        self.pages: queue.Queue[_Page | BaseException | None] = queue.Queue(maxsize=PULL_BATCH)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="accord-pull-reader", daemon=True)

    def __enter__(self) -> Iterator[_Page]:
        self.thread.start()
        return self._pages()

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _pages(self) -> Iterator[_Page]:
        while (item := self.pages.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item: _Page | BaseException | None) -> bool:
        while not self.stopped.is_set():
            try:
                self.pages.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        params = self.params
        try:
            while not self.stopped.is_set():
                r, env, ready = self.fetch(self.path, params)
                if not self._put((r, env, ready)):
                    return
                if r.status_code != 200 or not (env.get("more") and env.get("next")):
                    break
                params = {**params, "next": env["next"]}
        except BaseException as exc:  # noqa: BLE001 — handed to the storing thread, raised there
            self._put(exc)
            return
        self._put(None)


def announce_keys(node: Node, peer: Peer, client: PeerClient) -> None:
    """Sends the peer each key rotation of this node it has not yet accepted, oldest first
    (`accord.trust.keys.rotate`); a refusal ends the sync with the peer's reason."""
    store = node.store
    for announcement in keys.announcements(store):
        sent = meta_key("key_announced", f"{peer.name}\n{announcement['id']}")
        if get_meta(store, sent):
            continue
        r = client.request(
            "POST",
            f"/{peer.api_root}/x-accord/keys/",
            content=orjson.dumps(announcement),
            headers={"Content-Type": MEDIA_TAXII},
        )
        if r.status_code != 200:
            raise PeerUnavailable(_refusal(peer, r))
        with store.begin() as conn:
            put_meta(conn, sent, "1")


def collect_receipts(node: Node, peer: Peer, client: PeerClient, report: SyncReport) -> None:
    """Collects the receipts the peer signed for what this node delivered to it (its pulls
    and this node's pushes), verifies each with the key pinned for the peer's party and keeps
    them (`accord.trust.receipts`); the cursor is the peer's `next` of the last page kept. A
    peer without the resource (404: an accord node before receipts) gives none."""
    store = node.store
    pinned = keys.keys_of(store, peer.party)
    path = f"/{peer.api_root}/x-accord/receipts/"
    # The peer's own `next` for its receipts (its clock): kept apart from the sync cursors, which
    # `--again` moves back and `peer show` lists.
    cursor = meta_key("receipts_after", peer.name)
    while True:
        after = int(get_meta(store, cursor) or 0)
        r = client.request("GET", path, params={"added_after": str(after)})
        if r.status_code == 404:
            return
        if r.status_code != 200:
            raise PeerUnavailable(_refusal(peer, r))
        try:
            page = orjson.loads(r.content)
            bodies = [b for b in page.get("objects", []) if isinstance(b, dict)]
            position = int(page.get("next", after))
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            raise PeerUnavailable(f"peer {peer.name} sent receipts that are not JSON") from None
        now = time.time_ns() // 1000
        with store.begin() as conn:
            for body in bodies:
                if body.get("sender") != node.party or body.get("receiver") != peer.party:
                    continue  # not a receipt of this peer for this node
                if not rc.well_formed(body):
                    continue
                verified = bool(pinned) and rc.verify(body, pinned) is None
                report.receipts += signatures.record_receipt(conn, body, verified, now)
            if position > after:
                put_meta(conn, cursor, str(position))
        if not page.get("more") or position <= after:
            return


def _hold_to_chain(node: Node, peer: Peer, client: PeerClient, report: SyncReport) -> None:
    """Checks that the peer's audit chain still passes through the checkpoint held of it
    (`accord.federation.chains`); a fork is an error of the report, and the sync goes on."""
    base = f"/{peer.api_root}/{chains.PATH}"

    def fetch(seq: int | None) -> tuple[int, bytes]:
        r = client.request("GET", base, params={} if seq is None else {"seq": str(seq)})
        return r.status_code, r.content

    pinned = [k.public_key for k in keys.keys_of(node.store, peer.party) if k.retired_at is None]
    problem = chains.check(node.store, peer.name, pinned or None, fetch)
    if problem is not None:
        report.errors.append(problem)


def sync_peer(
    node: Node,
    peer: Peer,
    progress: Progress | None = None,
    retries: int = 4,
    page: int = PAGE,
    again: int | None = None,
) -> SyncReport:
    """Pushes and/or pulls with one peer, `page` objects at a time, holding the peer for the
    while (`peers.syncing`: another sync of it, by hand or on the schedule, is refused with
    PeerBusy); with `again` (microseconds since the epoch), first moves the peer's cursors back
    to it (`peers.rewind`), so that what was added after it is sent and read again. Errors end
    that peer's sync and are reported."""
    report = SyncReport(peer.name)
    try:
        with syncing(node.store, peer.name) as renew, PeerClient(peer, retries=retries) as client:
            if again is not None:
                report.again = (again, rewind(node.store, peer.name, again))
            if peer.accord:
                _hold_to_chain(node, peer, client, report)

            def step(direction: str, count: int) -> None:
                renew()  # a long sync keeps its hold on the peer
                if progress:
                    progress(direction, count)

            if peer.accord:  # a new key first: what follows is signed with it
                announce_keys(node, peer, client)
            if peer.push:
                push(node, peer, client, report, step, page)
            if peer.pull:
                pull(node, peer, client, report, step, page)
            if peer.accord:
                collect_receipts(node, peer, client, report)
    except AccordError as exc:
        report.errors.append(str(exc))
    return report
