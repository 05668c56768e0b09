"""The analyst's and the auditor's work end to end in Debian's Chromium, at 1366×768 and on a
390×844 phone, with axe-core on every page (0 critical, 0 serious) and no page wider than the
screen: an auditor's report for Japan over a period exported to CSV and printed; the release
panel ordered by region and filtered; the confirmation before publishing an item nobody may
receive and the duplicate warning; the items list paged, sorted and filtered."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from auditors import SECRET, add_auditors
from axe_core import serious_violations
from playwright.sync_api import Page, expect
from taxii_live import SECRETS, LiveNode
from ui_support import SCREENSHOTS

pytestmark = pytest.mark.slow

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
TODAY = datetime.now(UTC).date()


def check_page(page: Page, name: str) -> None:
    """axe-core finds nothing critical or serious; the page is no wider than the screen; a
    screenshot goes outside the tracked tree."""
    assert serious_violations(page) == [], (name, page.url)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (name, width)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, live: LiveNode, who: str, secret: str) -> None:
    page.goto(live.url + "/ui/login")
    page.locator("#name").fill(who)
    page.locator("#secret").fill(secret)
    page.locator("form.stack button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/ui/network$"))


def fill_publish_form(page: Page, live: LiveNode, name: str, pattern: str) -> None:
    """Fills the publish form with a NOFORN indicator (no other party may receive it)."""
    page.goto(live.url + "/ui/publish")
    page.get_by_label("Indicator name").fill(name)
    page.get_by_label("STIX pattern").fill(pattern)
    page.get_by_label("Level", exact=True).select_option("III")
    page.get_by_label("general-military").check()
    page.get_by_label("NOFORN").check()
    page.get_by_label("Need-to-know groups").fill("military")


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def screen(
    request: pytest.FixtureRequest, browser: Any, live: LiveNode
) -> Iterator[tuple[str, Any]]:
    add_auditors(live)
    contexts: list[Any] = []

    def new_context() -> Any:
        contexts.append(
            browser.new_context(
                viewport=VIEWPORTS[request.param], accept_downloads=True, locale="en-US"
            )
        )
        return contexts[-1]

    try:
        yield request.param, new_context
    finally:
        for c in contexts:
            c.close()


def test_an_auditors_report_for_japan_over_a_period(
    screen: tuple[str, Any], live: LiveNode
) -> None:
    size, new_context = screen
    page = new_context().new_page()
    sign_in(page, live, "auditor-full", SECRET)
    page.goto(live.url + "/ui/audit")
    check_page(page, f"audit-{size}")
    page.locator("#release-reports").click()
    expect(page.get_by_role("heading", name="Release reports")).to_be_visible()
    check_page(page, f"releases-empty-{size}")
    start = (TODAY - timedelta(days=7)).isoformat()
    page.get_by_label("Party").select_option("JPN")
    page.get_by_label("From").fill(start)
    page.get_by_label("To", exact=True).fill(TODAY.isoformat())
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#report-summary")).to_contain_text("Releases to Japan (JPN)")
    rows = page.locator("table.report tbody tr")
    expect(rows.first).to_be_visible()
    shown = {r.get_attribute("data-item") for r in rows.all()}
    assert {r.get_attribute("data-party") for r in rows.all()} == {"JPN"}
    check_page(page, f"releases-japan-{size}")
    with page.expect_download() as got:
        page.locator("#report-csv").click()
    download = got.value
    assert download.suggested_filename == f"releases-JPN-{start}-{TODAY.isoformat()}.csv"
    text = open(download.path(), encoding="utf-8-sig").read()
    exported = list(csv.DictReader(io.StringIO(text)))
    assert exported and {r["party"] for r in exported} == {"JPN"}
    assert {r["item_id"] for r in exported} == shown
    assert all(start <= r["when_utc"][:10] <= TODAY.isoformat() for r in exported)
    assert all(r["party_name"] == "Japan" and r["record"].isdigit() for r in exported)
    page.locator("#report-print").click()
    expect(
        page.get_by_role("heading", name=re.compile("Release report of the node"))
    ).to_be_visible()
    expect(page.locator("table.report tbody tr")).to_have_count(len(shown))
    check_page(page, f"releases-print-{size}")
    # "Who has this item?" asked by words of its name: a choice, then the item's releases.
    page.goto(live.url + "/ui/audit")
    page.get_by_label("Item name or id").fill("-")
    page.get_by_role("button", name="List its releases").click()
    expect(page.locator("#disclosure-choices")).to_be_visible()
    check_page(page, f"disclosures-choices-{size}")
    page.locator("ul.choices a").first.click()
    expect(page.locator("table.disclosures, .notice.info").first).to_be_visible()
    # Bad criteria: every problem next to its field, nothing listed.
    page.goto(live.url + "/ui/audit/releases?party=XX&from=2024-06-02&to=2024-06-01")
    expect(page.locator("#e-party")).to_be_visible()
    expect(page.locator("#e-to")).to_contain_text("before its start")
    check_page(page, f"releases-errors-{size}")
    page.close()


def test_a_low_clearance_auditor_sees_less(screen: tuple[str, Any], live: LiveNode) -> None:
    size, new_context = screen
    full = new_context().new_page()
    sign_in(full, live, "auditor-full", SECRET)
    full.goto(live.url + "/ui/audit/releases?from=2000-01-01")
    every = {r.get_attribute("data-item") for r in full.locator("table.report tbody tr").all()}
    full.close()
    page = new_context().new_page()
    sign_in(page, live, "auditor-low", SECRET)
    page.goto(live.url + "/ui/audit/releases?from=2000-01-01")
    mine = {r.get_attribute("data-item") for r in page.locator("table.report tbody tr").all()}
    assert mine < every
    html = page.content()
    for sid in every - mine:
        assert sid not in html
    check_page(page, f"releases-low-{size}")


def test_release_panel_by_region_and_filtered(screen: tuple[str, Any], live: LiveNode) -> None:
    size, new_context = screen
    page = new_context().new_page()
    sign_in(page, live, "analyst", SECRETS["analyst"])
    page.goto(live.url + "/ui/items?sort=added&dir=asc")  # a sample item, not a NOFORN one
    first = page.locator("table.items tbody tr").first.get_attribute("data-item")
    page.goto(f"{live.url}/ui/items/{first}?at=2024-06-03")
    rows = page.locator(".release-panel tbody tr[data-party]")
    states = [r.get_attribute("data-allowed") for r in rows.all()]
    assert states == sorted(states), "denied first"
    allowed = page.locator('.release-panel tr[data-allowed="true"]').first
    expect(allowed.locator("details.passed code").first).to_be_hidden()  # folded away
    allowed.locator("details.passed summary").click()
    expect(allowed.locator("details.passed code").first).to_be_visible()
    check_page(page, f"item-panel-{size}")
    page.get_by_label("Order").select_option("region")
    page.get_by_label("Show").select_option("denied")
    page.get_by_label("Region").select_option("europe")
    page.get_by_role("button", name="Decide").click()
    expect(page).to_have_url(re.compile(r"order=region.*show=denied.*region=europe"))
    shown = page.locator(".release-panel tbody tr[data-party]")
    expect(shown.first).to_be_visible()
    assert {r.get_attribute("data-region") for r in shown.all()} == {"europe"}
    assert {r.get_attribute("data-allowed") for r in shown.all()} == {"false"}
    expect(page.locator(".release-panel tr.region-head")).to_have_count(1)
    check_page(page, f"item-panel-europe-{size}")
    page.close()


def test_publish_asks_before_nobody_receives_and_before_a_duplicate(
    screen: tuple[str, Any], live: LiveNode
) -> None:
    size, new_context = screen
    page = new_context().new_page()
    sign_in(page, live, "analyst", SECRETS["analyst"])
    name = f"Depot fuel ledger extract ({size})"
    fill_publish_form(page, live, name, f"[ipv4-addr:value = '203.0.113.{len(size)}']")
    page.get_by_role("button", name="Publish", exact=True).click()
    confirm = page.locator("#publish-confirm")
    expect(confirm).to_contain_text("No other party may receive")
    expect(page).to_have_url(re.compile(r"/ui/publish$"))  # nothing published yet
    check_page(page, f"publish-confirm-nobody-{size}")
    page.get_by_label("Publish it anyway, knowing that no partner receives it").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page).to_have_url(re.compile(r"/ui/items/indicator--[0-9a-f-]+\?published=1"))
    expect(page.locator(".notice.warning")).to_contain_text("No partner may receive it")
    first = page.url.split("/ui/items/")[1].split("?")[0]
    check_page(page, f"published-nobody-{size}")
    # The same indicator again (what Back, then Publish, sends): both warnings.
    fill_publish_form(page, live, name, f"[ipv4-addr:value = '203.0.113.{len(size)}']")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#publish-confirm")).to_contain_text("same name and pattern")
    expect(page.locator(f'#publish-confirm a[href$="{first}"]')).to_have_count(1)
    # Confirming only that nobody receives it still stops at the duplicate.
    page.get_by_label("Publish it anyway, knowing that no partner receives it").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#confirm_duplicate")).to_be_visible()
    expect(page.locator("#confirm_nobody")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/ui/publish$"))
    check_page(page, f"publish-confirm-duplicate-{size}")
    page.close()


def test_items_list_sorting_paging_and_filters(screen: tuple[str, Any], live: LiveNode) -> None:
    size, new_context = screen
    page = new_context().new_page()
    sign_in(page, live, "analyst", SECRETS["analyst"])
    page.goto(live.url + "/ui/items")
    expect(page.locator("#items-count")).to_be_visible()
    check_page(page, f"items-{size}")
    page.locator('a.sort[data-sort="name"]').click()
    expect(page).to_have_url(re.compile(r"sort=name&dir=desc"))
    page.locator('a.sort[data-sort="name"]').click()
    expect(page).to_have_url(re.compile(r"sort=name&dir=asc"))
    expect(page.locator('th[aria-sort="ascending"]')).to_have_count(1)
    names = page.locator("table.items tbody tr td:first-child a").all_inner_texts()
    assert names == sorted(names, key=str.casefold)
    page.get_by_label("Originator").select_option("KOR")
    page.get_by_label("Added from").fill("2000-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"originator=KOR.*from=2000-01-01.*sort=name"))
    assert page.locator("table.items tbody tr").count() <= 50
    if page.locator("#items-pager").count():
        page.locator('#items-pager a[rel="next"]').click()
        expect(page.locator("#items-pager")).to_contain_text("Page 2 of")
    check_page(page, f"items-filtered-{size}")
    page.goto(live.url + "/ui/items?from=never")
    expect(page.locator("#e-from")).to_be_visible()
    check_page(page, f"items-errors-{size}")
    page.close()
