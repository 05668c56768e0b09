"""The legal officer records the registry in the browser, in Debian's Chromium at 1366×768 and
390×844, with axe-core on every page added (0 critical, 0 serious).

The node's registry is the demonstration scenario without the Korea–Japan GSOMIA's 2019 notes and
the events after its entry into force, so that a legal user records the 2019 notice: the note of
2019-08-23, then the termination notice given that day and effective 2019-11-23. The agreements
list and the agreement page then show it; the audit trail names the person. A bad form shows
every problem at once, next to its field, and stores nothing; every other kind of principal is
refused (status checked, nothing stored), over the web and the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from axe_core import serious_violations
from playwright.sync_api import Page, expect
from taxii_live import LiveNode, basic, start_node
from ui_support import TODAY

from accord.principals import add_principal, revoke_principal
from accord.registry import repository
from accord.registry.model import Registry
from accord.store.audit_schema import audit_log
from accord.store.schema import REGISTRY_TABLES
from backends import sqlite_store

pytestmark = pytest.mark.slow

GSOMIA = "kor-jpn-gsomia-2016"
NOTE = "kor-jpn-note-2019-08-23"
REMOVED_NOTES = (NOTE, "kor-jpn-note-2019-11-22", "kor-jpn-note-2023-03-21")
PEOPLE = {
    # name: (kind, party, clearance, roles, secret)
    "yoon": ("user", "KOR", "II", ("legal",), "yoon-secret-1"),
    "oh": ("user", "KOR", "II", ("operator",), "oh-secret-1"),
    "han": ("user", "KOR", "II", ("analyst",), "han-secret-1"),
    "park": ("user", "KOR", "II", ("logistics",), "park-secret-1"),
    "moon": ("user", "KOR", "II", ("auditor",), "moon-secret-1"),
    "tanaka": ("user", "JPN", "GOKUHI", ("legal",), "tanaka-secret-1"),  # another nation's user
    "jpn-node": ("partner", "JPN", None, (), "jpn-secret-1"),
}
ANALYST = "kang"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def check_axe(page: Page) -> None:
    """Runs axe-core (WCAG 2 A and AA) on the page: no critical or serious violation."""
    bad = serious_violations(page)
    assert bad == [], bad


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, width  # type: ignore[index]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A KOR node (today 2024-06-03) whose GSOMIA stops at its entry into force in 2016."""
    url = sqlite_store(tmp_path_factory.mktemp("registry-node") / "accord.db")
    node = start_node(url, as_of=TODAY)
    store = node.store
    gsomia_as_entered_into_force(node)
    for name in ("analyst", "jpn-node"):  # first-run demo credentials: replaced by known ones
        revoke_principal(store, name)
    for name, (kind, party, clearance, roles, secret) in PEOPLE.items():
        add_principal(store, name, kind, party, secret, clearance=clearance, roles=roles)
    # An analyst who needs to know the military items, to read an affected item's page.
    add_principal(store, ANALYST, "user", "KOR", "kang-secret-1", clearance="II",
                  roles=("analyst",), groups=("dprk", "military"))  # fmt: skip
    try:
        yield node
    finally:
        node.stop()


def gsomia_as_entered_into_force(live: LiveNode) -> None:
    """The GSOMIA's events after its entry into force and its 2019–2023 notes removed."""
    notes = REGISTRY_TABLES["notes"]
    with live.store.begin() as conn:
        conn.execute(sa.delete(notes).where(notes.c.id.in_(REMOVED_NOTES)))
    reg = repository.load(live.store)
    ag = next(a for a in reg.agreements if a.id == GSOMIA)
    early = tuple(e for e in ag.events if e.date <= date(2016, 11, 23))
    repository.apply(
        live.store, Registry(agreements=(ag.model_copy(update={"events": early}),)), actor="test"
    )


def stored(live: LiveNode) -> tuple[set[str], int]:
    """The note ids and the GSOMIA's number of events now stored."""
    reg = repository.load(live.store)
    ag = next(a for a in reg.agreements if a.id == GSOMIA)
    return {n.id for n in reg.notes}, len(ag.events)


def audit_records(live: LiveNode, kind: str) -> list[Any]:
    with live.store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.kind == kind).order_by(audit_log.c.seq)
        ).all()
    return list(rows)


def sign_in(browser: Any, live: LiveNode, who: str, viewport: dict[str, int]) -> tuple[Any, Page]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(live.url + "/ui/login")
    page.get_by_label("Name").fill(who)
    page.get_by_label("Secret").fill(PEOPLE[who][4] if who in PEOPLE else "kang-secret-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/network$"))
    return context, page


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_a_legal_user_records_the_2019_notice_and_an_affected_item_says_so(
    browser: Any, live: LiveNode, viewport: dict[str, int]
) -> None:
    gsomia_as_entered_into_force(live)  # each screen size records the notice anew
    before = len([r for r in audit_records(live, "registry-change") if r.actor == "yoon"])
    context, page = sign_in(browser, live, "yoon", viewport)
    try:
        # The list, from the navigation: the GSOMIA in force in September 2019, no notice yet.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Agreements").click()
        expect(page).to_have_url(re.compile(r"/ui/agreements$"))
        check_axe(page)
        page.get_by_label("Status on").fill("2019-09-01")
        page.get_by_label("Party", exact=True).select_option("JPN")
        page.get_by_role("button", name="Show").click()
        row = page.locator(f'tr[data-agreement="{GSOMIA}"]')
        expect(row).to_have_attribute("data-status", "in-force")
        # The note first, from the agreement's page.
        row.get_by_role("link").click()
        expect(page.locator("h1")).to_contain_text("Korea–Japan General Security")
        page.get_by_role("link", name="Record a diplomatic note").click()
        check_axe(page)
        page.get_by_label("Id", exact=False).first.fill(NOTE)
        page.get_by_label("Date").fill("2019-08-23")
        page.get_by_label("Kind of note").select_option("termination")
        page.get_by_label("From (party code)").fill("KOR")
        page.get_by_label("To (party code)").fill("JPN")
        expect(page.get_by_label("Agreement")).to_have_value(GSOMIA)
        page.get_by_label("Summary").fill("Korea notifies Japan that it will not extend the GSOMIA")
        page.get_by_role("button", name="Record the note").click()
        expect(page.locator("#recorded")).to_be_visible()
        # Then the notice itself.
        page.get_by_role("link", name="Record an event").click()
        check_axe(page)
        page.get_by_label("What happened").select_option("termination-notified")
        page.get_by_label("Date", exact=True).fill("2019-08-23")
        page.get_by_label("Takes effect on").fill("2019-11-23")
        page.get_by_label("Diplomatic notes it rests on").fill(NOTE)
        page.get_by_label("Summary").fill("ROK decided on 22 August not to extend")
        page.get_by_role("button", name="Record the event").click()
        expect(page).to_have_url(re.compile(rf"/ui/agreements/{GSOMIA}\?at=2019-08-23"))
        expect(page.locator("#recorded")).to_be_visible()
        expect(page.locator("#agreement-status")).to_have_attribute(
            "class", re.compile("status-notice-given")
        )
        notice = page.locator('li[data-kind="termination-notified"]')
        expect(notice).to_contain_text("2019")
        expect(notice).to_contain_text(f"Note {NOTE}")
        check_axe(page)
        # The list on a date in the notice period shows it; on 2019-12-01 it has terminated.
        page.goto(live.url + "/ui/agreements?at=2019-09-01&party=JPN&kind=information-security")
        expect(page.locator(f'tr[data-agreement="{GSOMIA}"]')).to_have_attribute(
            "data-status", "notice-given"
        )
        page.goto(live.url + "/ui/agreements?at=2019-09-01&status=notice-given")
        expect(page.locator("tbody tr")).to_have_count(1)
        page.goto(live.url + "/ui/agreements?at=2019-12-01&party=JPN")
        expect(page.locator(f'tr[data-agreement="{GSOMIA}"]')).to_have_attribute(
            "data-status", "terminated"
        )
    finally:
        context.close()
    # What the notice just recorded does to an item released to Japan under the GSOMIA: its
    # page, on a day of the notice period, opens with the alert naming the notice (an analyst's
    # view: the legal officer needs to know no item).
    context, page = sign_in(browser, live, ANALYST, viewport)
    try:
        page.goto(live.url + "/ui/items?level=KOR+II")
        page.locator("main a[href*='/ui/items/indicator--']").first.click()
        page.goto(page.url.split("?")[0] + "?at=2019-09-02")
        line = page.locator(f'#alerts li[data-agreement="{GSOMIA}"][data-outcome="ending"]')
        expect(line).to_contain_text("in force until")
        expect(line.locator("time[datetime='2019-11-23']")).to_have_count(1)
        expect(line.locator("time[datetime='2019-08-23']")).to_have_count(1)
        check_axe(page)
    finally:
        context.close()
    notes, events = stored(live)
    assert NOTE in notes and events == 8  # seven up to entry into force, and the notice
    # The audit trail names the person, not a subsystem.
    changes = [r for r in audit_records(live, "registry-change") if "yoon" == r.actor]
    assert len(changes) == before + 2, [r.actor for r in audit_records(live, "registry-change")]


def test_a_bad_form_shows_every_problem_at_once_and_stores_nothing(
    browser: Any, live: LiveNode
) -> None:
    before = stored(live)
    context, page = sign_in(browser, live, "yoon", PHONE)
    try:
        page.goto(live.url + f"/ui/agreements/{GSOMIA}/events/new")
        no_horizontal_scroll(page)
        page.get_by_label("What happened").select_option("termination-notified")
        page.get_by_label("Date", exact=True).fill("")
        page.locator("#effective").evaluate("e => { e.type = 'text'; e.value = '2019-13-01'; }")
        page.get_by_label("Diplomatic notes it rests on").fill("no-such-note")
        page.get_by_role("button", name="Record the event").click()
        expect(page.locator("#form-problems")).to_contain_text("3 problems")
        expect(page.locator("#date-error")).to_have_text("This field is required.")
        expect(page.locator("#effective-error")).to_contain_text("is not a date")
        expect(page.locator("#notes-error")).to_contain_text("'no-such-note' is not a known note")
        expect(page.get_by_label("Diplomatic notes it rests on")).to_have_attribute(
            "aria-invalid", "true"
        )
        no_horizontal_scroll(page)
        check_axe(page)
        # A note with a bad code and an unknown party: both next to their fields.
        page.goto(live.url + "/ui/notes/new")
        page.locator("#id").fill("bad id!")
        page.get_by_label("Date").fill("2019-08-23")
        page.get_by_label("From (party code)").fill("KOR")
        page.get_by_label("To (party code)").fill("XXX")
        page.get_by_role("button", name="Record the note").click()
        expect(page.locator("#id-error")).to_be_visible()
        expect(page.locator("#recipient-error")).to_contain_text("'XXX' is not a known party")
        check_axe(page)
        page.goto(live.url + "/ui/consents/new")
        check_axe(page)
        no_horizontal_scroll(page)
        page.goto(live.url + "/ui/agreements")
        check_axe(page)
        no_horizontal_scroll(page)
    finally:
        context.close()
    assert stored(live) == before


@pytest.mark.parametrize("who", ["oh", "han", "park", "moon"])
def test_other_roles_cannot_record(browser: Any, live: LiveNode, who: str) -> None:
    before = stored(live)
    context, page = sign_in(browser, live, who, LAPTOP)
    try:
        page.goto(live.url + f"/ui/agreements/{GSOMIA}")
        expect(page.get_by_role("link", name="Record an event")).to_have_count(0)
        token = page.evaluate("() => document.querySelector('input[name=csrf]').value")
        response = page.goto(live.url + f"/ui/agreements/{GSOMIA}/events/new")
        assert response is not None and response.status == 403
        # A forged POST with the session's own token is refused too.
        for path in (f"/agreements/{GSOMIA}/events/new", "/notes/new", "/consents/new"):
            r = page.request.post(
                live.url + "/ui" + path,
                form={
                    "csrf": token,
                    "kind": "suspended",
                    "date": "2020-01-01",
                    "precision": "day",
                    "id": "forged-note",
                    "sender": "KOR",
                    "recipient": "JPN",
                    "originator": "KOR",
                    "holder": "USA",
                    "recipients": "JPN",
                    "valid_from": "2020-01-01",
                },
            )
            assert r.status == 403, (path, r.status)
    finally:
        context.close()
    assert stored(live) == before


def test_partners_foreign_users_and_strangers_cannot_record(live: LiveNode) -> None:
    before = stored(live)
    event = {"date": "2020-01-01", "kind": "suspended"}
    note = {"id": "forged-note", "date": "2020-01-01", "sender": "KOR", "recipient": "JPN"}
    with httpx.Client(base_url=live.url, timeout=30, follow_redirects=False) as c:
        # No credentials: the web redirects a GET to sign in and refuses a POST; the API 401s.
        assert c.get(f"/ui/agreements/{GSOMIA}/events/new").status_code == 303
        assert c.post("/ui/notes/new", data={"id": "x"}).status_code == 403
        api = f"/api/v1/agreements/{GSOMIA}/events"
        assert c.post(api, json=event).status_code == 401
        for who in ("jpn-node", "tanaka", "oh", "han", "park", "moon"):
            h = {"Authorization": basic(who, PEOPLE[who][4])}
            assert c.post(api, json=event, headers=h).status_code == 403, who
            assert c.post("/api/v1/notes", json=note, headers=h).status_code == 403, who
        # The partner and the foreign user cannot sign in to the web interface at all.
        for who in ("jpn-node", "tanaka"):
            page = c.get("/ui/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token
            r = c.post(
                "/ui/login",
                data={"csrf": token.group(1), "name": who, "secret": PEOPLE[who][4], "next": ""},
            )
            assert r.status_code != 303 or not r.headers["location"].endswith("/ui/network")
    assert stored(live) == before


def test_the_api_records_under_the_credential(live: LiveNode) -> None:
    note = {
        "id": "kor-jpn-note-api",
        "date": "2020-01-02",
        "sender": "KOR",
        "recipient": "JPN",
        "agreement": GSOMIA,
    }
    h = {"Authorization": basic("yoon", PEOPLE["yoon"][4])}
    with httpx.Client(base_url=live.url, timeout=30) as c:
        r = c.post("/api/v1/notes", json=note, headers=h)
        assert r.status_code == 201, r.text
    latest = audit_records(live, "registry-change")[-1]
    assert latest.actor == "yoon"
    assert "kor-jpn-note-api" in latest.body


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366x768", "390x844"])
def test_a_whatif_about_an_acsa_answers_with_orders(
    browser: Any, live: LiveNode, viewport: dict[str, int]
) -> None:
    context, page = sign_in(browser, live, "yoon", viewport)
    try:
        page.goto(live.url + "/ui/whatif")
        page.get_by_label("Kind").select_option("logistics-support")
        page.get_by_label("Parties", exact=True).fill("KOR JPN")
        page.get_by_label("In force from").fill("2020-01-01")
        page.get_by_label("On", exact=True).fill("2024-06-03")
        page.get_by_role("button", name="Show what would change").click()
        row = page.locator('tr[data-parties="JPN-KOR"]')
        expect(row).to_have_attribute("data-change", "possible")
        expect(row).to_contain_text("become possible")
        expect(page.locator("#no-release-change")).to_be_visible()
        check_axe(page)
        # A custom hypothesis with three mistakes: all three at once, in the form's words.
        page.get_by_label("Kind").select_option("information-security")
        page.get_by_label("Parties", exact=True).fill("KOR CHN XXX")
        page.get_by_label("Level equivalence rows").fill("KOR=II CHN=SECRET")
        page.locator("#ag_force").evaluate("e => { e.type = 'text'; e.value = '2020-02-30'; }")
        page.get_by_role("button", name="Show what would change").click()
        expect(page.locator("#whatif-error")).to_contain_text("The hypothesis has 3 problems")
        text = page.locator("#whatif-error").inner_text()
        assert "agreements[0]" not in text, text
        assert "entry into force: '2020-02-30' is not a date" in text, text
        assert "Parties: 'XXX' is not a known party" in text, text
        assert "Level equivalence rows, row 1 (CHN): 'SECRET' is not a level of CHN" in text, text
        check_axe(page)
    finally:
        context.close()
