"""A live node on loopback for the TAXII suites: real uvicorn, real HTTP, the demonstration
registry, sample items and known credentials."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import requests
import uvicorn

from accord.app import create_app
from accord.exchange.markings import marking_definition
from accord.node import Node, NodeConfig
from accord.policy.marking import Marking
from accord.principals import add_principal
from accord.principals.throttle import ThrottlePolicy
from accord.server import prepare
from accord.settings import load_settings
from accord.store import Store, open_store

TAXII = "application/taxii+json;version=2.1"
SECRETS = {
    "analyst": "analyst-secret",  # KOR user, clearance II, groups dprk + military
    "clerk": "clerk-secret-1",  # KOR user, clearance III, no groups
    "chief": "chief-secret-1",  # KOR user, clearance I, groups dprk + military + cyber
    "jpn-node": "jpn-secret-1",  # partner JPN
    "usa-node": "usa-secret-1",  # partner USA
    "chn-node": "chn-secret-1",  # partner CHN: only negotiating with Korea, so receives nothing
    "gbr-user": "gbr-secret-1",  # a foreign user: sees nothing
}


def basic(name: str, secret: str) -> str:
    """Returns an HTTP Basic `Authorization` value."""
    return "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()


def assert_taxii_error(response: httpx.Response | requests.Response, status: int) -> dict[str, Any]:
    """Asserts a TAXII error response (§3.6.1): the status, the TAXII 2.1 content type, an error
    resource whose `http_status` is that status as a string, and for 401 a Basic challenge
    (§1.6.9). Returns the error resource. Takes httpx's responses and those of `requests` (inside
    taxii2-client's HTTPError)."""
    assert response.status_code == status, (status, response.status_code, response.text[:300])
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert body.get("http_status") == str(status), body
    assert set(body) <= {"title", "description", "error_id", "error_code", "http_status",
                         "external_details", "details"}, body  # fmt: skip
    if status == 401:
        assert response.headers["www-authenticate"].lower().startswith("basic realm="), (
            response.headers
        )
    else:
        assert "www-authenticate" not in response.headers
    return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveNode:
    url: str
    node: Node
    store: Store
    server: uvicorn.Server
    thread: threading.Thread
    api_root: str = "kor"
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        h = {"Accept": TAXII}
        if who is not None:
            h["Authorization"] = basic(who, SECRETS[who])
        h.update(extra)
        return h

    @property
    def http(self) -> httpx.Client:
        """One keep-alive client per node (a new client per call costs a TLS context)."""
        if "http" not in self.clients:
            self.clients["http"] = httpx.Client(base_url=self.url, timeout=30)
        return self.clients["http"]

    def request(
        self,
        method: str,
        path: str,
        who: str | None = "analyst",
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """Sends a request as `who` (TAXII Accept and Basic credentials) unless `headers` are
        given, in which case exactly those are sent (httpx's default Accept is removed when they
        name none, so that a missing Accept can be tested)."""
        sent = self.headers(who) if headers is None else headers
        req = self.http.build_request(method, path, headers=sent, **kw)
        if not any(k.lower() == "accept" for k in sent):
            del req.headers["accept"]
        return self.http.send(req)

    def get(self, path: str, who: str | None = "analyst", **kw: Any) -> httpx.Response:
        return self.request("GET", path, who, **kw)

    def post(
        self,
        path: str,
        body: object,
        who: str | None = "analyst",
        content_type: str = TAXII,
        **kw: Any,
    ) -> httpx.Response:
        """POSTs `body` (JSON-encoded unless bytes) with a TAXII Content-Type."""
        headers = kw.pop("headers", None) or self.headers(who, **{"Content-Type": content_type})
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.request("POST", path, who, headers=headers, content=content, **kw)

    def delete(self, path: str, who: str | None = "analyst", **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, who, **kw)

    def json(self, path: str, who: str | None = "analyst", **kw: Any) -> Any:
        """GETs `path` and returns the JSON of a 200 response."""
        r = self.get(path, who, **kw)
        assert r.status_code == 200, (path, who, r.status_code, r.text[:300])
        return r.json()

    def coll(self, alias: str = "items") -> str:
        return f"/{self.api_root}/collections/{alias}/"

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.store.close()


#: The throttle of the suites that test other things than throttling: they send many wrong
#: secrets from one address on purpose. tests/security/ sets tight ones.
LENIENT = ThrottlePolicy(free_failures=10_000, address_failures=100_000, lockout=0)


def start_node(
    url: str,
    party: str = "KOR",
    as_of: date | None = None,
    throttle: ThrottlePolicy = LENIENT,
    metrics: str = "credential",
    tls: dict[str, Any] | None = None,
) -> LiveNode:
    """Starts a node on a free loopback port with the demo registry and samples; over HTTPS with
    `tls`, uvicorn's options as `accord serve` passes them (`accord.tls.serve_options`)."""
    store = open_store(url)
    settings = load_settings(environ={"ACCORD_PARTY": party})
    prepare(store, settings)
    config = NodeConfig(
        api_root=party.lower(),
        title=f"{party} test node",
        as_of=as_of,
        throttle=throttle,
        metrics=metrics,
    )
    node = Node(store, party, config)
    port = free_port()
    config = uvicorn.Config(
        create_app(node),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        **(tls or {}),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "the test node did not start"
    scheme = "https" if tls else "http"
    return LiveNode(
        f"{scheme}://127.0.0.1:{port}", node, store, server, thread, api_root=party.lower()
    )


def add_test_principals(store: Store) -> None:
    """The node's people publish (role analyst); the foreign user holds it too, to no avail."""
    publish = ("analyst",)
    add_principal(
        store,
        "analyst",
        "user",
        "KOR",
        SECRETS["analyst"],
        clearance="II",
        groups=("dprk", "military"),
        roles=publish,
    )
    add_principal(store, "clerk", "user", "KOR", SECRETS["clerk"], clearance="III", roles=publish)
    add_principal(
        store,
        "chief",
        "user",
        "KOR",
        SECRETS["chief"],
        clearance="I",
        groups=("dprk", "military", "cyber"),
        roles=publish,
    )
    add_principal(store, "jpn-node", "partner", "JPN", SECRETS["jpn-node"])
    add_principal(store, "usa-node", "partner", "USA", SECRETS["usa-node"])
    add_principal(store, "chn-node", "partner", "CHN", SECRETS["chn-node"])
    add_principal(
        store,
        "gbr-user",
        "user",
        "GBR",
        SECRETS["gbr-user"],
        clearance="TS",
        groups=("dprk",),
        roles=publish,
    )


# ---- data and reading helpers shared by the TAXII suites ---------------------------------------

#: A release marking the analyst (KOR II, groups dprk + military) may publish (R9).
ANALYST_MARKING = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
ANALYST_MD = marking_definition(ANALYST_MARKING)
CREATED = "2017-01-01T00:00:00.000Z"


def new_id(kind: str = "indicator") -> str:
    return f"{kind}--{uuid.uuid4()}"


def indicator(
    oid: str | None = None,
    modified: str = CREATED,
    marking: str | None = ANALYST_MD["id"],
    **extra: Any,
) -> dict[str, Any]:
    """Returns a STIX 2.1 indicator (one version) carrying `marking` as its release marking."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or new_id(),
        "created": CREATED,
        "modified": modified,
        "name": "test indicator",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '203.0.113.7']",
        "pattern_type": "stix",
        "valid_from": "2017-01-01T00:00:00Z",
    }
    if marking is not None:
        obj["object_marking_refs"] = [marking]
    obj.update(extra)
    return obj


def walk(
    live: LiveNode, path: str, who: str, limit: int, key: str = "objects", **params: str
) -> list[httpx.Response]:
    """Follows `next` from the first page of `path` (with `limit` and `params`) to the last;
    returns every response (each asserted 200)."""
    pages: list[httpx.Response] = []
    query: dict[str, str] = {"limit": str(limit), **params}
    while True:
        r = live.get(path, who, params=query)
        assert r.status_code == 200, (path, who, query, r.status_code, r.text[:300])
        pages.append(r)
        body = r.json()
        assert len(body.get(key, [])) <= limit
        if not body.get("more"):
            return pages
        assert len(pages) < 1000, "paging does not end"
        query = {**query, "next": body["next"]}
