"""The web interface fits any screen (PRODUCT.md §6): at a laptop's 1366×768 and a phone's
390×844, in Debian's Chromium, no page scrolls sideways (tables scroll inside themselves), the
network's party labels stay legible, its party links' accessible names begin with their visible
text, and axe-core finds no serious or critical violation on any page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_core import serious_violations
from playwright.sync_api import Page, expect
from taxii_live import SECRETS, LiveNode

pytestmark = pytest.mark.slow  # a real browser

SCREENS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
LABELS = """() => [...document.querySelectorAll('.network-svg .party text')]
  .map(t => t.getBoundingClientRect().height)"""
NAMES = """() => [...document.querySelectorAll('.network-svg a.party')]
  .map(a => [a.querySelector('text').textContent.trim(), a.getAttribute('aria-label')])"""


@pytest.fixture(params=list(SCREENS), scope="module")
def page(request: pytest.FixtureRequest, browser: Any, live: LiveNode) -> Iterator[Page]:
    context = browser.new_context(viewport=SCREENS[request.param])
    p = context.new_page()
    p.goto(live.url + "/ui/login")
    p.get_by_label("Name").fill("analyst")
    p.get_by_label("Secret").fill(SECRETS["analyst"])
    p.get_by_role("button", name="Sign in").click()
    expect(p).to_have_url(re.compile(r"/ui/network$"))
    yield p
    context.close()


def _first_link(page: Page, url: str, selector: str) -> str:
    page.goto(url)
    href = page.locator(selector).first.get_attribute("href")
    assert href, f"no link {selector} on {url}"
    return href if href.startswith("http") else url.split("/ui/")[0] + href


def test_no_page_scrolls_sideways(page: Page, live: LiveNode) -> None:
    """Each page's document is no wider than the window (1 px of rounding allowed)."""
    item = _first_link(page, live.url + "/ui/items", "main table a[href*='/ui/items/']")
    order = _first_link(page, live.url + "/ui/orders", "main table a[href*='/ui/orders/']")
    pages = ["/ui/network", "/ui/agreements", "/ui/items", "/ui/publish", "/ui/whatif",
             "/ui/changes", "/ui/orders", "/ui/ledger", "/ui/audit",
             "/ui/agreements/kor-jpn-gsomia-2016", "/ui/no-such-page"]  # fmt: skip
    wide = {}
    for url in [live.url + p for p in pages] + [item, order]:
        page.goto(url)
        scroll, window = page.evaluate(WIDTH)
        if scroll > window + 1:
            wide[url] = scroll
    assert wide == {}, f"wider than the window ({page.viewport_size}): {wide}"


def test_network_labels_are_legible_and_named_by_their_text(page: Page, live: LiveNode) -> None:
    """Every party label is at least 11 px tall on screen; every party link's accessible name
    begins with the code it shows (WCAG 2.5.3, axe's label-content-name-mismatch)."""
    page.goto(live.url + "/ui/network")
    heights = page.evaluate(LABELS)
    assert heights and min(heights) >= 11, sorted(heights)[:5]
    names = page.evaluate(NAMES)
    assert names and all(label.startswith(text) for text, label in names), names[:3]


def test_axe_finds_nothing_serious_on_any_page(page: Page, live: LiveNode) -> None:
    """axe-core (WCAG 2.x A and AA) on every page an analyst reaches from the navigation, an
    item, an order, an agreement and an error page: no serious or critical violation."""
    item = _first_link(page, live.url + "/ui/items", "main table a[href*='/ui/items/']")
    order = _first_link(page, live.url + "/ui/orders", "main table a[href*='/ui/orders/']")
    pages = ["/ui/network", "/ui/agreements", "/ui/items", "/ui/publish", "/ui/whatif",
             "/ui/changes", "/ui/orders", "/ui/ledger", "/ui/audit",
             "/ui/agreements/kor-jpn-gsomia-2016", "/ui/no-such-page"]  # fmt: skip
    found = {}
    for url in [live.url + p for p in pages] + [item, order]:
        page.goto(url)
        bad = serious_violations(page)
        if bad:
            found[url] = bad
    assert found == {}, found
