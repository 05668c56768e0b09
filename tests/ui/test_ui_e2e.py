"""End to end, in Debian's Chromium: sign in, replay the network's history, read a release panel
before and after the Korea–Japan GSOMIA, publish, ask the 2011 what-if, look at orders, ledger and
audit, sign out; a user without clearance does not see a classified item.

Each page is photographed into docs/screenshots/ (linked from the README's "Web interface").
Tests run in file order and share one signed-in browser page per user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from taxii_live import SECRETS, LiveNode
from ui_support import SCREENSHOTS

from accord.policy.decide import decide
from accord.policy.marking import Marking

# In the full suite, not the fast loop (-m "not slow"): a real browser.
pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1366, "height": 768}  # a laptop screen
GSOMIA = 'a.edge[data-agreement="kor-jpn-gsomia-2016"]'
state: dict[str, Any] = {}


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 80))"""


def check_accessible(page: Page) -> None:
    """Every page: a language, a main landmark, one h1, and a label for every control."""
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED) == []


def shoot(page: Page, name: str, full: bool = True) -> None:
    check_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full)


def open_page(browser: Any) -> Any:
    return browser.new_context(viewport=VIEWPORT)


def sign_in(page: Page, live: LiveNode, who: str) -> None:
    page.goto(live.url + "/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))
    page.get_by_label("Name").fill(who)
    page.get_by_label("Secret").fill(SECRETS[who])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/network$"))


@pytest.fixture(scope="module")
def analyst(browser: Any, live: LiveNode) -> Iterator[Page]:
    context = open_page(browser)
    page = context.new_page()
    errors: list[str] = []  # console errors: CSP violations, script failures
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    state["errors"] = errors
    page.goto(live.url + "/ui/network")
    expect(page.get_by_role("heading", name="accord")).to_be_visible()
    shoot(page, "sign-in", full=False)
    sign_in(page, live, "analyst")
    yield page
    context.close()
    assert errors == [], errors


def test_timeline_replays_the_korea_japan_gsomia(analyst: Page, live: LiveNode) -> None:
    page = analyst
    page.goto(live.url + "/ui/network?at=2016-06-01")
    edge = page.locator(GSOMIA)
    expect(edge).to_have_attribute("data-status", "negotiating")  # talks, not in force
    expect(page.locator("#network")).to_have_attribute("data-at", "2016-06-01")
    shoot(page, "network-2016-06-01")
    # Move the timeline with the keyboard, date by date, across 2016-11-23. The dates are shown
    # in the page's language (English here: "November 23, 2016"), kept ISO in the attributes.
    slider = page.get_by_label("Date on the timeline")
    slider.focus()
    shown = date(2016, 6, 1)
    for _ in range(40):
        page.keyboard.press("ArrowRight")
        shown = datetime.strptime(page.locator("#timeline-date").inner_text(), "%B %d, %Y").date()
        if shown >= date(2016, 11, 23):
            break
    assert shown == date(2016, 11, 23), shown
    expect(slider).to_have_attribute("aria-valuetext", "November 23, 2016")
    expect(page.locator("#network")).to_have_attribute("data-at", "2016-11-23")
    expect(page).to_have_url(re.compile(r"at=2016-11-23"))
    expect(page.locator(GSOMIA)).to_have_attribute("data-status", "in-force")
    expect(page.locator("#heading-date")).to_have_text("November 23, 2016")
    expect(page.locator("#heading-date")).to_have_attribute("datetime", "2016-11-23")
    expect(page).to_have_title(re.compile(r"^Network on November 23, 2016 · "))
    expect(page.locator("#network-status")).to_contain_text("On November 23, 2016:")
    shoot(page, "network-2016-11-23")
    # The 2019 notice and its suspension, shown as what they were: in force throughout.
    page.get_by_role("link", name=re.compile("Aug 23, 2019")).click()
    expect(page.locator("#network")).to_have_attribute("data-at", "2019-08-23")
    expect(page.locator(GSOMIA)).to_have_attribute("data-status", "notice-given")
    page.get_by_role("link", name=re.compile("Nov 22, 2019")).click()
    expect(page.locator("#network")).to_have_attribute("data-at", "2019-11-22")
    expect(page.locator(GSOMIA)).to_have_attribute("data-status", "notice-suspended")
    expect(page.locator(".edge-label", has_text="notice suspended")).to_have_count(1)
    shoot(page, "network-2019-11-22")
    # "Replay history" steps through the dates by itself, until paused.
    page.get_by_role("button", name="Replay history").click()
    expect(page.locator("#network")).not_to_have_attribute("data-at", "2019-11-22")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Replay history")).to_be_visible()
    page.get_by_role("link", name=re.compile("Nov 22, 2019")).click()
    expect(page.locator("#network")).to_have_attribute("data-at", "2019-11-22")
    # Clicking the edge opens the agreement.
    page.locator(GSOMIA + " path.line").click()
    expect(page).to_have_url(re.compile(r"/ui/agreements/kor-jpn-gsomia-2016\?at=2019-11-22"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Korea–Japan")
    expect(page.locator("#agreement-status")).to_have_text("in force, notice suspended")
    expect(page.locator("#renewal-deadline")).to_contain_text("Aug 24, 2020")
    expect(page.locator("#renewal-deadline time")).to_have_attribute("datetime", "2020-08-24")
    expect(page.locator(".lifecycle li")).to_have_count(
        10
    )  # with the text initialled in April 2012 (S166)
    shoot(page, "agreement")


def test_publish_then_release_panel_before_and_after_the_gsomia(
    analyst: Page, live: LiveNode
) -> None:
    page = analyst
    page.goto(live.url + "/ui/publish")
    page.get_by_label("Indicator name").fill("Coastal radar emplacement (UI test)")
    page.get_by_label("Level").select_option("II")
    page.get_by_label("general-military").check()
    page.get_by_label("Need-to-know groups").fill("military")
    page.get_by_label("Preview decisions on").fill("2016-06-01")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name=re.compile("Preview"))).to_be_visible()
    jpn = page.locator('#preview tr[data-party="JPN"]')
    expect(jpn).to_have_attribute("data-allowed", "false")
    expect(jpn.locator(".rules")).to_contain_text("IN_FORCE")
    shoot(page, "publish-preview")
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/ui/items/indicator--[0-9a-f-]+\?published=1"))
    item_id = page.url.split("/ui/items/")[1].split("?")[0]
    state["item"] = item_id
    marking = Marking.of("KOR", "II", ["general-military"], groups=["military"])
    world = live.node.world()[1]
    for day, allowed in (("2016-06-01", False), ("2017-01-01", True)):
        page.goto(f"{live.url}/ui/items/{item_id}?at={day}")
        row = page.locator('tr[data-party="JPN"]')
        expect(row).to_have_attribute("data-allowed", "true" if allowed else "false")
        d = decide(marking, "JPN", date.fromisoformat(day), holder="KOR", world=world)
        assert d.allowed is allowed
        codes = row.locator(".rules code").all_text_contents()  # passed rules are folded away
        assert codes == [r.value for r in d.rules]  # the same as `accord check`
        if allowed:
            expect(row).to_contain_text("KOR → JPN")
            expect(row).to_contain_text("GOKUHI")
        else:
            assert "IN_FORCE" in codes
            expect(row.locator(".explanation")).to_contain_text("R1 IN_FORCE")
        shoot(page, f"item-release-{day}")
    # Every party has a row, allowed or not, as `accord publish --dry-run` lists them.
    assert page.locator(".release-panel tbody tr").count() == len(world.parties) - 1


def test_items_filters(analyst: Page, live: LiveNode) -> None:
    page = analyst
    page.goto(live.url + "/ui/items")
    expect(page.locator(f'tr[data-item="{state["item"]}"]')).to_be_visible()
    page.get_by_label("Topic").select_option("general-military")
    page.get_by_label("Text").fill("radar")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.items tbody tr")).to_have_count(1)
    page.goto(live.url + "/ui/items")
    shoot(page, "items")


def test_whatif_korea_japan_2011(analyst: Page, live: LiveNode) -> None:
    page = analyst
    page.goto(live.url + "/ui/whatif")
    page.get_by_role("link", name="Korea–Japan GSOMIA, January 2011").click()
    expect(page.get_by_label("Parties")).to_have_value("KOR JPN")
    row = page.locator('tr[data-pair="KOR-JPN"]')
    expect(row.locator(".gained")).to_contain_text("general-military")
    expect(row.locator(".lost")).to_contain_text("levels I")
    shoot(page, "whatif")
    # The same question once the real agreement is in force: nothing changes.
    page.get_by_label("On", exact=True).fill("2017-01-01")
    page.get_by_role("button", name="Show what would change").click()
    expect(page.get_by_text("No change: the same markings flow")).to_be_visible()


def test_orders_ledger_and_audit(analyst: Page, live: LiveNode) -> None:
    page = analyst
    page.goto(live.url + "/ui/orders")
    expect(page.locator("table.orders tbody tr")).to_have_count(5)
    shoot(page, "orders")
    page.locator("table.orders tbody tr", has_text="exercise").filter(
        has_text="KOR ← USA"
    ).get_by_role("link").click()
    expect(page.get_by_role("heading", name="Lines")).to_be_visible()
    expect(page.locator("body")).to_contain_text("JP-8 jet fuel")
    shoot(page, "order")
    page.goto(live.url + "/ui/ledger")
    expect(page.locator("svg.ageing-chart")).to_have_count(2)  # KRW and USD, never converted
    expect(page.locator('svg.ageing-chart rect[data-bucket="30-89"]')).to_have_count(1)
    shoot(page, "ledger")
    # Japan's node reads the items over TAXII: each object it receives is a release on record.
    r = live.get(live.coll() + "objects/", "jpn-node")
    assert r.status_code == 200
    received = {o["id"] for o in r.json().get("objects", [])}
    assert state["item"] in received  # KOR II general-military goes to Japan today
    page.goto(live.url + "/ui/audit")
    expect(page.locator("#chain")).to_contain_text("Intact")
    shoot(page, "audit")
    page.get_by_label("Item name or id").fill(state["item"])
    page.get_by_role("button", name="List its releases").click()
    expect(page.locator('table.disclosures tr[data-party="JPN"]')).to_contain_text("GOKUHI")
    shoot(page, "disclosures")


def test_sign_out(analyst: Page, live: LiveNode) -> None:
    page = analyst
    page.goto(live.url + "/ui/items")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(live.url + "/ui/items")
    expect(page).to_have_url(re.compile(r"/ui/login\?next=%2Fui%2Fitems"))


def test_clerk_does_not_see_classified_items(browser: Any, live: LiveNode) -> None:
    context = open_page(browser)
    page = context.new_page()
    try:
        sign_in(page, live, "clerk")  # KOR III, no need-to-know group
        page.goto(live.url + "/ui/items")
        rows = page.locator("table.items tbody tr")
        expect(rows).to_have_count(1)  # only the unclassified sample
        expect(rows).to_contain_text("KOR U")
        expect(page.locator(f'tr[data-item="{state["item"]}"]')).to_have_count(0)
        shoot(page, "items-clerk")
        response = page.goto(f"{live.url}/ui/items/{state['item']}")
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    finally:
        context.close()
