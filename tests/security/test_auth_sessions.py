"""Sign-out ends a session in every process serving the store, and `/metrics` is not for
strangers (docs/security.md, "Authentication"; issue 16, case 16). Live node, both stores."""

from __future__ import annotations

import httpx
import pytest
from api_live import ALL_ROLES, API_SECRETS, ROLE_USERS, ApiNode, auth
from auth_support import EVERYONE, KNOWN, WEB_USERS, session_rows, wrong
from taxii_live import LiveNode, start_node
from ui_client import client, csrf_of, sign_in, signed_in

from accord.web.sessions import COOKIE


def _page_with(live: LiveNode, cookie: str) -> int:
    """Returns the status of /ui/items requested by a new client holding only `cookie`."""
    with httpx.Client(base_url=live.url, follow_redirects=False) as c:
        c.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/ui/")
        return c.get("/ui/items").status_code


@pytest.mark.parametrize("who", WEB_USERS)
def test_the_cookie_of_a_signed_out_session_is_refused(
    node: tuple[ApiNode, str], api: ApiNode, who: str
) -> None:
    """Fails on eff1280: the cookie was stateless, so a copy kept from before sign-out still
    opened every page (case 16). Now sign-out deletes the session's stored row: the old cookie
    is sent to sign in (303) by this process and by another serving the same store."""
    live = api.live
    with client(live) as c:
        assert sign_in(c, who, EVERYONE[who]).status_code == 303
        cookie = c.cookies[COOKIE]
        assert _page_with(live, cookie) == 200  # the copy works while the session lives
        page = c.get("/ui/items")
        assert page.status_code == 200
        r = c.post("/ui/logout", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/ui/login?signed_out=1"
    r2 = httpx.Client(base_url=live.url, follow_redirects=False)
    with r2:
        r2.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/ui/")
        refused = r2.get("/ui/items")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/ui/login")
    other = start_node(node[1])
    try:
        assert _page_with(other, cookie) == 303
    finally:
        other.stop()


def test_sign_out_still_needs_the_csrf_token_and_ends_only_its_session(api: ApiNode) -> None:
    """Fails on eff1280: sessions were not kept in the store (no row for either sign-in). Now
    a sign-out without the session's token is still refused (403) and ends nothing, and signing
    out one session leaves the same user's other session signed in."""
    live = api.live
    before = session_rows(live.store)
    with client(live) as first, client(live) as second:
        signed_in(first, "clerk")
        signed_in(second, "clerk")
        assert session_rows(live.store) == before + 2
        assert first.post("/ui/logout", data={"csrf": "forged"}).status_code == 403
        assert first.get("/ui/items").status_code == 200
        page = first.get("/ui/items")
        assert first.post("/ui/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
        assert session_rows(live.store) == before + 1
        assert second.get("/ui/items").status_code == 200


def test_metrics_refuse_strangers_by_default(api: ApiNode) -> None:
    """Fails on eff1280: /metrics answered 200 without credentials (case 16). By default
    (`metrics = "credential"`) it needs a user with the operator or auditor role: 401 without
    or with wrong credentials, 403 for partners, other roles and users without roles."""
    http = api.live.http
    r = http.get("/metrics")
    assert r.status_code == 401 and r.headers["www-authenticate"].lower().startswith("basic")
    assert "accord_http_requests_total" not in r.text
    assert http.get("/metrics", headers=auth("auditor-user", wrong())).status_code == 401
    for partner in ("jpn-node", "usa-node", "chn-node"):
        assert http.get("/metrics", headers=auth(partner, KNOWN[partner])).status_code == 403
    for user in ("clerk", "analyst", "gbr-user"):
        assert http.get("/metrics", headers=auth(user, KNOWN[user])).status_code == 403
    for role in ("legal", "analyst", "logistics"):
        assert http.get("/metrics", headers=auth(ROLE_USERS[role])).status_code == 403
    for role in ("operator", "auditor"):
        ok = http.get("/metrics", headers=auth(ROLE_USERS[role], API_SECRETS[ROLE_USERS[role]]))
        assert ok.status_code == 200 and "accord_http_requests_total" in ok.text


def test_the_metrics_setting_turns_them_off_or_public(api: ApiNode) -> None:
    """Fails on eff1280: there was no such setting (/metrics answered 200 to anyone). `off`
    answers 404 to everyone, operators too; `public` answers anyone."""
    http = api.live.http
    api.live.node.config.metrics = "off"
    assert http.get("/metrics").status_code == 404
    assert http.get("/metrics", headers=auth(ALL_ROLES)).status_code == 404
    api.live.node.config.metrics = "public"
    r = http.get("/metrics")
    assert r.status_code == 200 and "accord_store_up" in r.text
