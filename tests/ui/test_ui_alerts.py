"""Alerts when an agreement moves, end to end in Debian's Chromium at 1366×768 and 390×844.

A KOR node whose registry records the Korea–Japan GSOMIA only up to its entry into force
(2016-11-23), on 2019-09-02. A legal officer records the 2019 notice through the management API
(given 2019-08-23, effective 2019-11-23); an analyst then sees, on the page of an item released to
Japan under that agreement, a banner naming the notice and its effective date, the explanation of
the release to Japan naming it too, and the changes page listing what the notice does to releases
when it takes effect. A user without a role is refused the changes page. axe-core finds no
critical or serious violation on either page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from axe_core import serious_violations
from playwright.sync_api import Page, expect
from taxii_live import SECRETS, LiveNode, add_test_principals, start_node
from ui_support import SCREENSHOTS

from accord.principals import add_principal, revoke_principal
from accord.registry import repository
from accord.registry.model import EventKind, Registry
from backends import sqlite_store

pytestmark = pytest.mark.slow

GSOMIA = "kor-jpn-gsomia-2016"
TODAY = date(2019, 9, 2)
LEGAL, NOBODY = "legal-officer", "no-role"
PASSWORDS = {LEGAL: "legal-secret-1", NOBODY: "no-role-secret-1", "analyst": SECRETS["analyst"]}
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
NOTICE = "in force until 2019-11-23: notice given 2019-08-23"


def assert_no_serious_violation(page: Page) -> None:
    bad = serious_violations(page)
    assert bad == [], bad


def assert_fits(page: Page) -> None:
    """No horizontal scrolling of the page itself."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, width


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A KOR node on 2019-09-02 whose registry stops the GSOMIA at its entry into force."""
    url = sqlite_store(tmp_path_factory.mktemp("ui-alerts") / "accord.db")
    live = start_node(url, as_of=TODAY)
    for name in ("analyst", "jpn-node"):
        revoke_principal(live.store, name)
    add_test_principals(live.store)
    add_principal(live.store, LEGAL, "user", "KOR", PASSWORDS[LEGAL], clearance="II",
                  roles=("legal",))  # fmt: skip
    add_principal(live.store, NOBODY, "user", "KOR", PASSWORDS[NOBODY], clearance="II",
                  groups=("dprk",))  # fmt: skip
    reg = repository.load(live.store)
    ag = next(a for a in reg.agreements if a.id == GSOMIA)
    kept = tuple(e for e in ag.events if e.date <= date(2016, 11, 23))
    assert EventKind.TERMINATION_NOTIFIED not in {e.kind for e in kept}
    repository.apply(
        live.store, Registry(agreements=(ag.model_copy(update={"events": kept}),)), actor="test"
    )
    try:
        yield live
    finally:
        live.stop()


def record_notice(live: LiveNode) -> None:
    """The legal officer records the 2019 notice through the management API."""
    event = {
        "date": "2019-08-23",
        "kind": "termination-notified",
        "effective": "2019-11-23",
        "summary": "ROK decided not to extend; its note was delivered on 23 August",
    }
    r = httpx.post(
        f"{live.url}/api/v1/agreements/{GSOMIA}/events",
        json=event,
        auth=(LEGAL, PASSWORDS[LEGAL]),
    )
    assert r.status_code in (200, 201), r.text


def sign_in(browser: Any, live: LiveNode, who: str, viewport: dict[str, int]) -> Page:
    page: Page = browser.new_context(viewport=viewport).new_page()
    page.goto(live.url + "/ui/login")
    page.get_by_label("Name").fill(who)
    page.get_by_label("Secret").fill(PASSWORDS[who])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/network$"))
    return page


def affected_item(page: Page, live: LiveNode) -> str:
    """Opens the first KOR II item on DPRK nuclear topics and returns its URL."""
    page.goto(live.url + "/ui/items?level=KOR+II&topic=dprk-nuclear")
    page.locator("main a[href*='/ui/items/indicator--']").first.click()
    expect(page.locator("h1")).to_have_count(1)
    return page.url.split("?")[0]


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_the_notice_raises_an_alert_on_an_affected_item(
    browser: Any, node: LiveNode, screen: str
) -> None:
    page = sign_in(browser, node, "analyst", VIEWPORTS[screen])
    item = affected_item(page, node)
    if screen == "laptop":  # before the notice is recorded: no banner, "in force on that date"
        page.goto(item)
        expect(page.locator("#alerts")).to_have_count(0)
        page.goto(node.url + "/ui/changes?since=2019-08-01")
        expect(page.locator("section.change")).to_have_count(0)
        record_notice(node)
    page.goto(item)
    banner = page.locator("#alerts")
    expect(banner).to_be_visible()
    line = banner.locator(f'li[data-agreement="{GSOMIA}"][data-outcome="ending"]')
    expect(line).to_contain_text("JPN")
    expect(line).to_contain_text("in force until")
    expect(line.locator("time[datetime='2019-11-23']")).to_have_count(1)
    expect(line.locator("time[datetime='2019-08-23']")).to_have_count(1)
    # The release panel's explanation for Japan names the notice and its effective date.
    expect(page.locator("main")).to_contain_text(NOTICE)
    # The banner fits the screen (the release panel's own width is another matter).
    box = banner.bounding_box()
    assert (
        box is not None and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[screen]["width"]
    )
    assert_no_serious_violation(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"alerts-item-{screen}.png"), full_page=True)

    banner.get_by_role("link", name="What the changes did to releases").click()
    expect(page).to_have_url(re.compile(r"/ui/changes\?since=2019-08-23$"))
    entry = page.locator(f'section.change[data-agreement="{GSOMIA}"]')
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-event", "termination-notified")
    expect(entry.locator("time[datetime='2019-11-23']")).to_have_count(1)
    row = entry.locator('tr[data-pair="KOR-JPN"]')
    # When it takes effect, DPRK topics go on through the US hub (TISA); the others stop.
    expect(row.locator("td.hubbed")).to_contain_text("dprk-nuclear")
    expect(row.locator("td.lost")).to_contain_text("cyber")
    expect(entry).to_contain_text("Route change")
    expect(entry.locator('a[href*="/ui/agreements/kor-jpn-gsomia-2016"]')).to_have_count(1)
    expect(page.get_by_role("link", name="Changes")).to_have_attribute("aria-current", "page")
    assert_fits(page)
    assert_no_serious_violation(page)
    page.screenshot(path=str(SCREENSHOTS / f"alerts-changes-{screen}.png"), full_page=True)
    page.context.close()


def test_a_bad_date_is_named_and_a_user_without_a_role_is_refused(
    browser: Any, node: LiveNode
) -> None:
    page = sign_in(browser, node, "analyst", VIEWPORTS["laptop"])
    page.goto(node.url + "/ui/changes?since=23-08-2019")
    expect(page.locator("#since-error")).to_contain_text("not a date")
    assert_no_serious_violation(page)
    page.context.close()
    page = sign_in(browser, node, NOBODY, VIEWPORTS["laptop"])
    r = page.goto(node.url + "/ui/changes?since=2019-01-01")
    assert r is not None and r.status == 403
    expect(page.locator("section.change")).to_have_count(0)
    page.context.close()
