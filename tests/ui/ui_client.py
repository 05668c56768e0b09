"""Signing in to the web interface over plain HTTP (httpx), for the security and speed suites."""

from __future__ import annotations

import html
import re

import httpx
from taxii_live import SECRETS, LiveNode

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ITEM = re.compile(r'data-item="([^"]+)"')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def csrf_of(html: str) -> str:
    """Returns the CSRF token of the first form in `html`."""
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def item_ids(html: str) -> set[str]:
    """Returns the ids of the items listed on an items page."""
    return set(_ITEM.findall(html))


def listed_item_ids(c: httpx.Client, path: str = "/ui/items") -> set[str]:
    """Returns the ids of the items listed on every page of an items list, following its "Next
    page" links."""
    found: set[str] = set()
    url: str | None = path
    while url is not None:
        page = c.get(url)
        assert page.status_code == 200, (url, page.status_code)
        found |= item_ids(page.text)
        more = _NEXT.search(page.text)
        url = html.unescape(more.group(1)) if more else None
    return found


def client(live: LiveNode) -> httpx.Client:
    """Returns a new cookie-keeping client for the node that does not follow redirects."""
    return httpx.Client(base_url=live.url, timeout=30, follow_redirects=False)


def sign_in(c: httpx.Client, who: str, secret: str | None = None) -> httpx.Response:
    """Signs `who` in through the form (visitor session first); returns the POST's response."""
    page = c.get("/ui/login")
    assert page.status_code == 200, page.status_code
    return c.post(
        "/ui/login",
        data={
            "csrf": csrf_of(page.text),
            "name": who,
            "secret": secret or SECRETS[who],
            "next": "",
        },
    )


def signed_in(c: httpx.Client, who: str) -> str:
    """Signs `who` in on client `c`; returns the session's CSRF token."""
    r = sign_in(c, who)
    assert r.status_code == 303 and r.headers["location"] == "/ui/network", (
        r.status_code,
        r.text[:300],
    )
    page = c.get("/ui/network")  # every page carries the session's token (the sign-out form)
    assert page.status_code == 200
    return csrf_of(page.text)
