"""Choosing the language, over plain HTTP against the live node: `Accept-Language` decides until
the user chooses; the choice is a CSRF-protected POST kept in the signed session, survives
sign-in and sign-out, cannot send the browser elsewhere, and never changes what the JSON API or
TAXII say (they stay in English, as the audit trail does)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from taxii_live import LiveNode, basic
from ui_client import client, csrf_of, sign_in, signed_in

from accord.web.sessions import COOKIE

# In the full suite, not the fast loop (-m "not slow"): a real browser.
pytestmark = pytest.mark.slow

LANG = re.compile(r'<html lang="([a-z]+)">')


def lang_of(html: str) -> str:
    found = LANG.search(html)
    assert found, html[:200]
    return found.group(1)


@pytest.mark.parametrize(
    ("header", "lang"),
    [("ko-KR,ko;q=0.9,en;q=0.8", "ko"), ("ja", "ja"), ("fr", "en"), (None, "en")],
)
def test_the_sign_in_page_follows_accept_language(
    live: LiveNode, header: str | None, lang: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    with client(live) as c:
        page = c.get("/ui/login", headers=headers)
        assert page.status_code == 200
        assert lang_of(page.text) == lang
        missing = c.get("/ui/no-such-page", headers=headers)
        assert missing.status_code == 404
        assert lang_of(missing.text) == lang


def test_the_choice_survives_sign_in_and_sign_out(live: LiveNode) -> None:
    with client(live) as c:
        page = c.get("/ui/login", headers={"Accept-Language": "en"})
        chosen = c.post(
            "/ui/language", data={"csrf": csrf_of(page.text), "lang": "ja", "next": "/ui/login"}
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/ui/login"
        assert lang_of(c.get("/ui/login").text) == "ja"
        r = sign_in(c, "analyst")
        assert r.status_code == 303
        network = c.get("/ui/network", headers={"Accept-Language": "ko"})
        assert lang_of(network.text) == "ja"  # the choice wins over the browser
        out = c.post("/ui/logout", data={"csrf": csrf_of(network.text)})
        assert out.status_code == 303
        after = c.get("/ui/login?signed_out=1", headers={"Accept-Language": "ko"})
        assert lang_of(after.text) == "ja"
        assert c.get("/ui/network").status_code == 303  # signed out all the same


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/ui/", "/ui/../../taxii2/", "/other/ui/network", ""],
)
def test_the_choice_never_sends_the_browser_elsewhere(live: LiveNode, target: str) -> None:
    with client(live) as c:
        token = signed_in(c, "analyst")
        r = c.post("/ui/language", data={"csrf": token, "lang": "ko", "next": target})
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/network"


def test_the_choice_needs_the_session_token(live: LiveNode) -> None:
    with client(live) as c:
        signed_in(c, "analyst")
        before = c.cookies.get(COOKIE)
        for data in ({"lang": "ko"}, {"lang": "ko", "csrf": "forged"}):
            r = c.post("/ui/language", data=data)
            assert r.status_code == 403
            assert "set-cookie" not in r.headers
        assert c.cookies.get(COOKIE) == before
        assert lang_of(c.get("/ui/network", headers={"Accept-Language": "en"}).text) == "en"
    with client(live) as fresh:  # no session at all
        assert fresh.post("/ui/language", data={"lang": "ko", "csrf": "x"}).status_code == 403


@pytest.mark.parametrize("lang", ["fr", "", "KO", "ko-KR", "../ko", "x" * 500])
def test_an_unknown_language_is_refused_by_name(live: LiveNode, lang: str) -> None:
    with client(live) as c:
        token = signed_in(c, "analyst")
        r = c.post("/ui/language", data={"csrf": token, "lang": lang, "next": "/ui/items"})
        assert r.status_code == 400
        assert "en, ko, ja" in r.text
        assert lang_of(c.get("/ui/network").text) == "en"


def test_languages_do_not_mix_between_concurrent_requests(live: LiveNode) -> None:
    """The language is per request (a context variable), never per process or thread."""

    def fetch(lang: str) -> tuple[str, str]:
        with httpx.Client(base_url=live.url, timeout=30) as c:
            return lang, lang_of(c.get("/ui/login", headers={"Accept-Language": lang}).text)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fetch, ["ko", "ja", "en"] * 12))
    assert all(asked == got for asked, got in answers), answers


def test_the_api_and_taxii_stay_in_english(live: LiveNode) -> None:
    """A Korean browser's header changes nothing outside the web interface: decisions and
    their explanations, as the API and the audit trail give them, are in one language."""
    question = {
        "originator": "KOR",
        "level": "II",
        "topics": ["general-military"],
        "to": "JPN",
        "at": "2017-01-01",
    }
    with httpx.Client(base_url=live.url, timeout=30) as c:
        answers = [
            c.post(
                "/api/v1/decisions",
                json=question,
                headers={"Authorization": basic("chief", "chief-secret-1"), "Accept-Language": h},
            )
            for h in ("ko", "en")
        ]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    korean, english = (a.json() for a in answers)
    assert korean == english
    assert korean["explanation"].startswith("ALLOWED: KOR may release")
