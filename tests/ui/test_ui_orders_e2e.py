"""End to end, in Debian's Chromium: a logistics order from creation to close by two logistics
officers (one raises, accepts, invoices, settles and closes; the other signs the receipt), on a
laptop (1366×768) and a phone (390×844), with axe-core on every page (0 critical, 0 serious;
`axe_core.py`: the script the test dependency axe-playwright-python bundles, evaluated in the
page, so the production Content-Security-Policy stays as it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_core import serious_violations
from playwright.sync_api import Page, expect
from taxii_live import SECRETS, LiveNode
from test_ui_orders import own_node
from ui_support import SCREENSHOTS

from accord.logistics import service

pytestmark = pytest.mark.slow

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def check_axe(page: Page, where: str) -> None:
    """No critical or serious axe-core violation (WCAG 2.x A and AA) on the page as shown."""
    assert serious_violations(page) == [], where


def no_sideways_scroll(page: Page, width: int) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


class Officer:
    """One officer's browser page, signed in."""

    def __init__(self, browser: Any, live: LiveNode, name: str, viewport: dict[str, int]):
        self.context = browser.new_context(viewport=viewport)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(live.url + "/ui/")
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_label("Secret").fill(SECRETS[name])
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page).to_have_url(re.compile(r"/ui/network$"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    yield from own_node(tmp_path_factory)


@pytest.fixture(params=list(VIEWPORTS), scope="module")
def viewport(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_an_order_from_creation_to_close(browser: Any, live: LiveNode, viewport: str) -> None:
    size = VIEWPORTS[viewport]
    supply = Officer(browser, live, "supply-officer", size)
    receiving = Officer(browser, live, "receiving-officer", size)
    p = supply.page
    try:
        p.goto(live.url + "/ui/orders")
        check_axe(p, "orders")
        no_sideways_scroll(p, size["width"])
        p.get_by_role("link", name="New order").click()
        expect(p).to_have_url(re.compile(r"/ui/orders/new$"))
        check_axe(p, "new order")
        # First a wrong form: every problem at its field, all at once, nothing stored.
        p.get_by_label("Partner").select_option("USA")
        p.get_by_label("Purpose").select_option("exercise")
        p.locator("#line-1-category").select_option("food")
        p.locator("#line-1-quantity").fill("-3")
        p.locator("#line-1-unit").fill("meal")
        p.locator("#line-1-unit_price").fill("12.505")
        p.locator("#line-1-currency").fill("USD")
        before = len(service.list_orders(live.store))
        p.get_by_role("button", name="Raise the order").click()
        expect(p.locator("#form-errors")).to_be_visible()
        expect(p.locator("#err-line-1-quantity")).to_be_visible()
        expect(p.locator("#err-line-1-unit_price")).to_be_visible()
        expect(p.locator("#line-1-quantity")).to_have_attribute("aria-invalid", "true")
        assert len(service.list_orders(live.store)) == before
        check_axe(p, "new order with errors")
        shoot(p, f"order-new-errors-{viewport}")
        p.locator("#line-1-quantity").fill("200")
        p.locator("#line-1-unit_price").fill("12.50")
        p.locator("#line-1-description").fill("field rations")
        p.locator("#line-2-category").select_option("petroleum")
        p.locator("#line-2-quantity").fill("400")
        p.locator("#line-2-unit").fill("L")
        p.locator("#line-2-unit_price").fill("0.80")
        p.locator("#line-2-currency").fill("USD")
        p.get_by_role("button", name="Raise the order").click()
        if p.locator("#form-errors").count():
            raise AssertionError(p.locator("#form-errors").inner_text())
        expect(p).to_have_url(re.compile(r"/ui/orders/KOR-USA-[0-9a-f]+\?done=create$"))
        oid = re.search(r"/orders/([^?]+)", p.url).group(1)  # type: ignore[union-attr]
        expect(p.locator("#step-done")).to_be_visible()
        check_axe(p, "order requested")
        no_sideways_scroll(p, size["width"])
        shoot(p, f"order-requested-{viewport}")

        def attach(officer: Officer, kind: str) -> None:
            q = officer.page
            q.locator("#attach-kind").select_option(kind)
            q.locator("#attach-file").set_input_files(
                files=[
                    {
                        "name": f"{kind}.pdf",
                        "mimeType": "application/pdf",
                        "buffer": f"%PDF {kind} {oid}".encode(),
                    }
                ]  # fmt: skip
            )
            q.get_by_role("button", name="Attach the document").click()
            expect(q.locator("#step-done")).to_be_visible()

        p.get_by_role("button", name="Accept the order").click()
        expect(p.locator(".order-status")).to_have_attribute("data-status", "accepted")
        attach(supply, "order")
        # The officer who raised the order is not offered the receipt, and cannot sign it.
        expect(p.get_by_role("button", name="Sign the receipt")).to_have_count(0)
        expect(p.locator("[data-step-form=deliver]")).to_contain_text("separation of duties")
        check_axe(p, "order accepted")

        r = receiving.page
        r.goto(f"{live.url}/ui/orders/{oid}")
        r.get_by_label(re.compile(r"^Line 1 \(food\)")).fill("180")
        r.get_by_role("button", name="Sign the receipt").click()
        expect(r.locator(".order-status")).to_have_attribute("data-status", "delivered")
        attach(receiving, "receipt")
        check_axe(r, "order delivered")

        p.goto(f"{live.url}/ui/orders/{oid}")
        p.get_by_label("Invoice reference").fill("INV-2024-77")
        p.get_by_role("button", name="Record the invoice").click()
        expect(p.locator(".order-status")).to_have_attribute("data-status", "invoiced")
        attach(supply, "invoice")
        # A settlement over what is open is refused next to its form, nothing stored.
        p.locator("#settle-amount").fill("99999")
        p.get_by_role("button", name="Record the settlement").click()
        expect(p.locator("#err-settle")).to_contain_text("exceeds the open")
        check_axe(p, "settlement refused")
        p.locator("#settle-amount").fill("2570.00")
        p.get_by_role("button", name="Record the settlement").click()
        expect(p.locator(".order-status")).to_have_attribute("data-status", "settled")
        attach(supply, "settlement")
        p.get_by_role("button", name="Close the order").click()
        expect(p.locator(".order-status")).to_have_attribute("data-status", "closed")
        expect(p.get_by_text("no step is left to take")).to_be_visible()
        steps = p.locator("ol.timeline > li")
        expect(steps).to_have_count(10)
        expect(steps.nth(3)).to_contain_text("recorded the receipt, signed by receiving-officer")
        expect(steps.nth(3)).to_contain_text("180 of 200 meal received")
        check_axe(p, "order closed")
        no_sideways_scroll(p, size["width"])
        shoot(p, f"order-closed-{viewport}")
        # A document downloads as its bytes.
        with p.expect_download() as dl:
            p.locator("ul.documents a").first.click()
        assert Path(dl.value.path()).read_bytes() == f"%PDF order {oid}".encode()

        state, ts = service.get(live.store, oid)
        assert state.status == "closed"
        recv, sup = "receiving-officer", "supply-officer"
        assert [(t.kind, t.by) for t in ts] == [
            ("create", sup), ("accept", sup), ("attach", sup), ("deliver", recv),
            ("attach", recv), ("invoice", sup), ("attach", sup), ("settle", sup),
            ("attach", sup), ("close", sup),
        ]  # fmt: skip

        p.goto(live.url + "/ui/ledger")
        check_axe(p, "ledger")
        p.get_by_role("link", name=re.compile(r"^Annual report")).click()
        expect(p.locator("table.annual-report")).to_be_visible()
        check_axe(p, "annual report")
        no_sideways_scroll(p, size["width"])
        with p.expect_download() as dl:
            p.get_by_role("link", name="Download the report (CSV)").click()
        assert Path(dl.value.path()).read_text("utf-8").startswith("year,partner,direction")
    finally:
        errors = supply.errors + receiving.errors
        supply.context.close()
        receiving.context.close()
    # The refused form and the refused settlement answer 400 and 422 on purpose.
    expected = re.compile(r"^Failed to load resource: .* status of (400|422) ")
    assert [e for e in errors if not expected.match(e)] == [], errors
