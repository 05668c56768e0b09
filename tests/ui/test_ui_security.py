"""The web interface's security, over plain HTTP against the live node (no browser): sign-in is
required everywhere, every form needs its session's CSRF token, nobody sees an item R9 hides from
them, partner nodes and foreign users never sign in, and a forged or stale cookie is refused."""

from __future__ import annotations

import asyncio
import base64
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import orjson
import pytest
import sqlalchemy as sa
from taxii_live import SECRETS, LiveNode
from ui_client import client, csrf_of, item_ids, listed_item_ids, sign_in, signed_in

from accord.app import create_app
from accord.exchange.collections import count_objects
from accord.exchange.marking_rows import marking_index
from accord.node import Node, NodeConfig
from accord.policy.access import User, may_access
from accord.principals import add_principal, revoke_principal
from accord.store.exchange_schema import objects
from accord.trust.provenance import is_provenance
from accord.web.sessions import COOKIE

# In the full suite, not the fast loop (-m "not slow"): a real browser.
pytestmark = pytest.mark.slow

PAGES = [
    "/ui/network",
    "/ui/network?at=2016-06-01",
    "/ui/network/figure?at=2019-11-22",
    "/ui/agreements/kor-jpn-gsomia-2016",
    "/ui/items",
    "/ui/items/indicator--00000000-0000-4000-8000-000000000000",
    "/ui/publish",
    "/ui/whatif",
    "/ui/whatif?preset=kor-jpn-2011",
    "/ui/changes",
    "/ui/changes?since=2019-01-01",
    "/ui/orders",
    "/ui/orders/KOR-USA-0",
    "/ui/ledger",
    "/ui/orders/new",
    "/ui/orders/KOR-USA-0/documents/" + "0" * 64,
    "/ui/ledger/balances.csv",
    "/ui/ledger/report?year=2024",
    "/ui/audit",
    "/ui/audit/disclosures?item=x",
    "/ui/audit/releases?party=JPN&format=csv",
    "/ui/items?format=csv",
    "/ui/items?sort=name&dir=asc&page=2",
]
FORMS = ["/ui/publish", "/ui/whatif", "/ui/logout", "/ui/orders/new", "/ui/orders/KOR-USA-0/close"]
USERS = ("analyst", "clerk", "chief")


def stored_items(live: LiveNode) -> dict[str, set[int]]:
    """Every stored object that is an item (not a marking-definition nor a signed provenance
    note): id → its marking rows."""
    out: dict[str, set[int]] = {}
    with live.store.read() as conn:
        for sid, mrow, kind, body in conn.execute(
            sa.select(objects.c.stix_id, objects.c.marking, objects.c.type, objects.c.body).where(
                objects.c.deleted.is_(False)
            )
        ):
            if kind != "marking-definition" and not is_provenance(orjson.loads(body)):
                out.setdefault(sid, set()).add(mrow)
    return out


def visible_to(live: LiveNode, who: str) -> tuple[set[str], set[str]]:
    """Returns (ids `who` may see by R9, ids it may not), computed with `may_access` alone."""
    p = {"analyst": ("II", {"dprk", "military"}), "clerk": ("III", set()),
         "chief": ("I", {"dprk", "military", "cyber"})}[who]  # fmt: skip
    user = User(who, "KOR", p[0], frozenset(p[1]), "KOR")
    world = live.node.world()[1]
    index = marking_index(live.store)
    today = live.node.today()
    seen, hidden = set(), set()
    for sid, rows in stored_items(live).items():
        ok = any(may_access(user, index.by_row[r], today, world=world).allowed for r in rows)
        (seen if ok else hidden).add(sid)
    return seen, hidden


def test_every_page_redirects_to_sign_in_without_a_session(live: LiveNode) -> None:
    with client(live) as c:
        for path in PAGES:
            r = c.get(path)
            assert r.status_code == 303, (path, r.status_code)
            assert r.headers["location"].startswith("/ui/login?next=%2Fui%2F"), path
        assert c.get("/").headers["location"] == "/ui/"
        assert c.get("/ui/").headers["location"] == "/ui/network"
        for path in FORMS:
            assert c.post(path, data={"csrf": "x"}).status_code == 403, path


def test_forms_refuse_requests_without_a_valid_csrf_token(live: LiveNode) -> None:
    with client(live) as c, client(live) as other:
        token, other_token = signed_in(c, "analyst"), signed_in(other, "analyst")
        _csrf_checks(live, c, token, other_token)


def _csrf_checks(live: LiveNode, c: httpx.Client, token: str, other_token: str) -> None:
    valid = {
        "/ui/publish": {"action": "preview", "name": "x", "pattern": "[ipv4-addr:value = '1.2.3.4']",
                        "level": "III", "topic": "general-military", "groups": "military"},
        "/ui/whatif": {"add_agreement": "1", "ag_parties": "KOR JPN", "ag_kind": "information-security",
                       "ag_rows": "KOR=II JPN=GOKUHI", "ag_force": "2011-01-06", "ag_all_topics": "1",
                       "at": "2012-06-29"},
    }  # fmt: skip
    for path, data in valid.items():
        for bad in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": other_token}):
            r = c.post(path, data={**data, **bad})
            assert r.status_code == 403, (path, bad, r.status_code)
            assert "security token" in r.text
        # JSON or multipart instead of a form: refused before the token is even looked at.
        assert c.post(path, json={**data, "csrf": token}).status_code == 415
        r = c.post(path, data={**data, "csrf": token})
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
    # Nothing was published by the refused posts (a publish with a bad token stores nothing).
    before = count_objects(live.store)
    publish = {**valid["/ui/publish"], "action": "publish"}
    assert c.post("/ui/publish", data=publish).status_code == 403
    assert count_objects(live.store) == before
    # Sign-out needs the token too; the session survives a forged sign-out.
    assert c.post("/ui/logout", data={"csrf": other_token}).status_code == 403
    assert c.get("/ui/items").status_code == 200
    # The sign-in form is protected the same way (a visitor session carries its token).
    with client(live) as fresh:
        fresh.get("/ui/login")
        r = fresh.post("/ui/login", data={"name": "analyst", "secret": SECRETS["analyst"]})
        assert r.status_code == 403
        assert fresh.get("/ui/network").status_code == 303


@pytest.mark.parametrize("who", USERS)
def test_no_page_shows_an_item_the_user_may_not_see(live: LiveNode, who: str) -> None:
    seen, hidden = visible_to(live, who)
    assert hidden or who == "chief"  # the clerk and the analyst must miss something
    with client(live) as c:
        signed_in(c, who)
        listed = listed_item_ids(c)  # every page of the list
        assert listed == seen, (who, listed ^ seen)
        pages = [c.get(p).text for p in PAGES if "indicator--0000" not in p]
        pages.append(c.get("/ui/audit?kind=release").text)
        pages.append(c.get("/ui/audit?kind=receipt").text)
        for sid in sorted(seen):
            r = c.get(f"/ui/items/{sid}")
            assert r.status_code == 200, (who, sid)
            pages.append(r.text)
        for sid in sorted(hidden):
            assert c.get(f"/ui/items/{sid}").status_code == 404, (who, sid)
            assert c.get(f"/ui/audit/disclosures?item={sid}").status_code == 404, (who, sid)
            r = c.get("/ui/items", params={"q": sid})
            assert item_ids(r.text) == set(), (who, sid)
        for text in pages:
            for sid in hidden:
                assert sid not in text, (who, sid)


def test_partners_and_foreign_users_cannot_sign_in(live: LiveNode) -> None:
    for who in ("jpn-node", "usa-node", "gbr-user"):
        with client(live) as c:
            r = sign_in(c, who)  # the right secret
            assert r.status_code == 401, (who, r.status_code)
            assert "Sign-in refused" in r.text
            assert c.get("/ui/network").status_code == 303
    with client(live) as c:
        r = sign_in(c, "analyst", "wrong-secret")
        assert r.status_code == 401
        assert c.get("/ui/network").status_code == 303


def _with_cookie(live: LiveNode, value: str) -> int:
    with httpx.Client(base_url=live.url, follow_redirects=False) as c:
        c.cookies.set(COOKIE, value, domain="127.0.0.1", path="/ui/")
        return c.get("/ui/network").status_code


def test_a_tampered_or_stale_session_cookie_is_refused(live: LiveNode) -> None:
    with client(live) as c:
        signed_in(c, "clerk")
        cookie = c.cookies[COOKIE]
        assert _with_cookie(live, cookie) == 200  # the genuine cookie works from any client
        # itsdangerous marks a zlib-compressed payload with a leading ".".
        payload, _, signature = cookie.removeprefix(".").partition(".")
        # Change the user inside the payload and keep the signature.
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        data = orjson.loads(zlib.decompress(raw) if cookie.startswith(".") else raw)
        data["u"] = "chief"
        forged = base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")
        assert _with_cookie(live, forged + "." + signature) == 303
        # Flip one character of the signature; drop it; or bring a session of no one.
        # (not the last character: its low bits are base64 padding, not signature)
        flipped = cookie[:-5] + ("A" if cookie[-5] != "A" else "B") + cookie[-4:]
        assert _with_cookie(live, flipped) == 303
        assert _with_cookie(live, payload) == 303
        assert _with_cookie(live, "") == 303
    # A session ends when its credential is revoked, or replaced with a new secret.
    add_principal(live.store, "temp-user", "user", "KOR", "temp-secret-1", clearance="III")
    with client(live) as c2:
        assert sign_in(c2, "temp-user", "temp-secret-1").status_code == 303
        cookie = c2.cookies[COOKIE]
        revoke_principal(live.store, "temp-user")
        assert _with_cookie(live, cookie) == 303
        add_principal(live.store, "temp-user", "user", "KOR", "temp-secret-2", clearance="III")
        assert _with_cookie(live, cookie) == 303


def test_cookie_attributes_and_headers(live: LiveNode) -> None:
    with client(live) as c:
        r = sign_in(c, "analyst")
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert re.search(r"SameSite=strict", cookie, re.I)
        assert "Path=/ui/" in cookie
        assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
        page = c.get("/ui/network")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["server-timing"].startswith("app;dur=")
        assert '<html lang="en">' in page.text
        # After sign-in, only paths inside the interface are followed (no open redirect).
    for target in ("https://evil.example/", "//evil.example/ui/", "/ui/../../x", "/ui/items"):
        with client(live) as other:
            token = csrf_of(other.get("/ui/login").text)
            r = other.post(
                "/ui/login",
                data={"csrf": token, "name": "clerk", "secret": SECRETS["clerk"], "next": target},
            )
            want = target if target == "/ui/items" else "/ui/network"
            assert r.status_code == 303 and r.headers["location"] == want, (target, r.headers)


def test_secure_cookie_over_https_and_a_key_shared_by_processes(live: LiveNode) -> None:
    # A second app over the same store stands for another process: it reads the same key.
    second = Node(
        live.store, "KOR", NodeConfig(api_root="kor", title="second", as_of=date(2024, 6, 3))
    )

    async def over_https() -> str:
        transport = httpx.ASGITransport(app=create_app(second))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as tc:
            page = await tc.get("/ui/login")
            assert "Secure" in page.headers["set-cookie"]
            r = await tc.post(
                "/ui/login",
                data={"csrf": csrf_of(page.text), "name": "clerk", "secret": SECRETS["clerk"]},
            )
            assert r.status_code == 303
            assert "Secure" in r.headers["set-cookie"]
            return str(tc.cookies[COOKIE])

    # In a thread of its own: Playwright's sync API may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        cookie = pool.submit(asyncio.run, over_https()).result()
    assert _with_cookie(live, cookie) == 200  # issued by one process, accepted by the other
