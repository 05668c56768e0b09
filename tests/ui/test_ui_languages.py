"""Every page in English, Korean and Japanese, in Debian's Chromium: the language comes from the
browser's `Accept-Language` or the user's choice (kept in the session), `<html lang>` names it, no
interface text is left in English, and no character is drawn as a missing-glyph box.

"Left in English" is measured on what the reader sees: every text node outside `translate="no"`
content (STIX objects, agreement titles, registry notes: data, shown as it was written) and
outside elements in another language (`lang="ko"` level names on a Japanese page), where two or
more lowercase English words stand together. Codes (`dprk-missile`, `R2 LEVEL_MAPPED`, `KOR II`)
are not words and do not count.

The missing-glyph check draws each distinct character of the page on a canvas in the page's own
font and compares it with the drawing of a code point no font has (U+10FFFD): a character drawn
the same way is a box. A second browser, given a font configuration without CJK fonts, proves
the check finds the boxes it is meant to find.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from taxii_live import SECRETS, LiveNode
from ui_support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1366, "height": 768}
LOCALES = {"en": "en-US", "ko": "ko-KR", "ja": "ja-JP"}

#: Words that are names or codes in every language (the product, standards, agreements' short
#: names, markings), so their pairs are not "English left over".
NAMES = {
    "accord", "taxii", "stix", "gsomia", "acsa", "mlsa", "tisa", "noforn", "orcon", "nato",
    "json", "utc", "csv", "rel", "id", "https", "http", "ui", "api", "sha",
}  # fmt: skip

ENGLISH = """(names) => {
  const lang = document.documentElement.lang;
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const skip = (el) => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      if (['SCRIPT', 'STYLE', 'PRE', 'CODE', 'SAMP', 'KBD'].includes(e.tagName)) return true;
      if (e.getAttribute('translate') === 'no') return true;
      if (e.hasAttribute('lang') && e.getAttribute('lang') !== lang) return true;
      if (e.hidden || (e.closest('details:not([open]) > :not(summary)') && false)) return true;
    }
    return false;
  };
  const attrs = [];
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (skip(el)) continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const v = el.getAttribute(a); if (v) attrs.push(v);
    }
  }
  const texts = [];
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (!n.textContent.trim() || skip(n.parentElement)) continue;
    texts.push(n.textContent);
  }
  for (const t of [...texts, ...attrs]) {
    const words = t.split(/\\s+/).map(w => w.replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, ''))
      .filter(w => /^[a-z]{2,}$/.test(w) && !names.includes(w.toLowerCase()));
    if (words.length >= 2) out.push(words.join(" ") + " | " + t.trim().slice(0, 200));
  }
  return [...new Set(out)];
}"""

BOXES = """() => {
  const text = document.body.innerText + ' ' + document.title;
  const chars = [...new Set([...text])].filter(c => c.codePointAt(0) > 127 && !/\\s/.test(c));
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  const g = canvas.getContext('2d', {willReadFrequently: true});
  g.font = '28px ' + getComputedStyle(document.body).fontFamily;
  const draw = (c) => {
    g.clearRect(0, 0, 48, 48); g.fillText(c, 6, 36);
    return g.getImageData(0, 0, 48, 48).data.join(',');
  };
  const box = draw('\\u{10FFFD}');
  return {checked: chars.length, boxes: chars.filter(c => draw(c) === box)};
}"""


def pages(live: LiveNode, item: str, order: str) -> dict[str, str]:
    """Every page of the interface, by a short name (the screenshot's)."""
    return {
        "network": "/ui/network",
        "network-2019": "/ui/network?at=2019-08-23&focus=KOR",
        "agreement": "/ui/agreements/kor-jpn-gsomia-2016?at=2019-11-22",
        "agreement-acsa": "/ui/agreements/kor-usa-mlsa-1988?at=2024-06-03",
        "items": "/ui/items",
        "item": f"/ui/items/{item}",
        "publish": "/ui/publish",
        "whatif": "/ui/whatif",
        "whatif-2011": "/ui/whatif?preset=kor-jpn-2011",
        "orders": "/ui/orders",
        "order": f"/ui/orders/{order}",
        "ledger": "/ui/ledger",
        "audit": "/ui/audit",
        "disclosures": f"/ui/audit/disclosures?item={item}",
        "not-found": "/ui/items/indicator--00000000-0000-4000-8000-000000000000",
        "item-notice": f"/ui/items/{item}?at=2019-09-01",
        "changes": "/ui/changes?since=2019-01-01",
    }


def sign_in(page: Page, live: LiveNode, who: str = "analyst") -> None:
    """Signs in through the form by its fields' ids (the labels are in the page's language)."""
    page.goto(live.url + "/ui/login")
    page.locator("#name").fill(who)
    page.locator("#secret").fill(SECRETS[who])
    page.locator("form.stack button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/ui/network$"))


@pytest.fixture(scope="module")
def targets(browser: Any, live: LiveNode) -> dict[str, str]:
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, live)
        page.goto(live.url + "/ui/items")
        item = page.locator("table.items tbody tr").first.get_attribute("data-item")
        page.goto(live.url + "/ui/orders")
        href = page.locator("table.orders tbody tr a").first.get_attribute("href")
    finally:
        context.close()
    assert item and href
    return pages(live, item, href.rsplit("/", 1)[1])


@pytest.fixture(scope="module", params=list(LOCALES))
def reader(request: Any, browser: Any, live: LiveNode) -> Iterator[tuple[str, Page]]:
    """A signed-in analyst whose browser asks for one language."""
    lang = request.param
    context = browser.new_context(viewport=VIEWPORT, locale=LOCALES[lang])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The sign-in page, before anyone is signed in, is in the browser's language too.
    page.goto(live.url + "/ui/login")
    assert page.locator("html").get_attribute("lang") == lang
    if lang != "en":
        assert page.evaluate(ENGLISH, sorted(NAMES)) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"sign-in-{lang}.png"))
    sign_in(page, live)
    yield lang, page
    context.close()
    assert errors == [], errors


KEY_PAGES = {"network-2019", "agreement", "item", "publish", "orders", "ledger"}


@pytest.mark.parametrize(
    "name",
    [
        "network", "network-2019", "agreement", "agreement-acsa", "items", "item", "publish",
        "whatif", "whatif-2011", "orders", "order", "ledger", "audit", "disclosures", "not-found",
        "item-notice", "changes",
    ],
)  # fmt: skip
def test_every_page_in_the_readers_language(
    reader: tuple[str, Page], targets: dict[str, str], live: LiveNode, name: str
) -> None:
    lang, page = reader
    response = page.goto(live.url + targets[name])
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    assert page.locator("html").get_attribute("lang") == lang
    if lang != "en":
        left = page.evaluate(ENGLISH, sorted(NAMES))
        assert left == [], f"{name} in {lang}: English left: {left}"
        found = page.evaluate(BOXES)
        assert found["checked"] > 10
        assert found["boxes"] == [], f"{name} in {lang}: drawn as boxes: {found['boxes']}"
    if name == "item-notice":  # the banner of a release resting on the GSOMIA under notice
        expect(page.locator("#alerts li[data-outcome=ending]")).to_have_count(1)
    if name in KEY_PAGES:
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}.png"), full_page=False)


def test_the_choice_is_kept_in_the_session(browser: Any, live: LiveNode) -> None:
    """A Japanese browser; the reader picks 한국어 on the sign-in page: Korean from then on,
    through sign-in and sign-out, whatever the browser asks for."""
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(live.url + "/ui/login")
        assert page.locator("html").get_attribute("lang") == "ja"
        page.locator('form.language-switch button[value="ko"]').click()
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.locator("h1")).to_contain_text("accord")
        sign_in(page, live)
        assert page.locator("html").get_attribute("lang") == "ko"
        page.goto(live.url + "/ui/orders")
        assert page.locator("html").get_attribute("lang") == "ko"
        page.locator('form.language-switch button[value="en"]').click()
        expect(page).to_have_url(re.compile(r"/ui/orders$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.locator('form.language-switch button[value="ja"]').click()
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        page.locator("form[action$='/logout'] button").click()
        expect(page).to_have_url(re.compile(r"/ui/login\?signed_out=1"))
        assert page.locator("html").get_attribute("lang") == "ja"
    finally:
        context.close()


def _no_cjk_fonts(tmp: Path) -> dict[str, str]:
    """Returns an environment whose fontconfig knows only DejaVu (no CJK font)."""
    conf = tmp / "fonts.conf"
    dirs = [d for d in ("/usr/share/fonts/truetype/dejavu",) if os.path.isdir(d)]
    assert dirs, "DejaVu fonts are needed to build a font configuration without CJK"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        + "".join(f"<dir>{d}</dir>" for d in dirs)
        + f"<cachedir>{tmp}/cache</cachedir></fontconfig>"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def test_the_box_check_finds_boxes_without_cjk_fonts(
    browser: Any, live: LiveNode, tmp_path: Path
) -> None:
    """The same check, in a Chromium that has no CJK font, reports the Korean text as boxes:
    the check can fail, so its passing above means something."""
    env = _no_cjk_fonts(tmp_path)
    listed = subprocess.run(["fc-list"], env=env, capture_output=True, text=True, check=False)
    assert "CJK" not in listed.stdout
    other = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
    try:
        page = other.new_context(locale="ko-KR").new_page()
        page.goto(live.url + "/ui/login")
        found = page.evaluate(BOXES)
    finally:
        other.close()
    assert len(found["boxes"]) > 10, found


def test_answers_to_forms_in_the_readers_language(reader: tuple[str, Page], live: LiveNode) -> None:
    """What the user gets back from a form — a publish preview with every party's decision and
    its explanation, a what-if answer, a refused form — is in the reader's language too."""
    lang, page = reader
    page.goto(live.url + "/ui/publish")
    page.locator("#name").fill("Coastal radar (language test)")
    page.locator("#level").select_option("II")
    page.locator('input[name="topic"][value="general-military"]').check()
    page.locator("#at").fill("2016-06-01")
    page.locator('button[name="action"][value="preview"]').click()
    expect(page.locator('#preview tr[data-party="JPN"]')).to_have_attribute("data-allowed", "false")
    answers = [page.evaluate(ENGLISH, sorted(NAMES))]
    page.goto(live.url + "/ui/whatif?preset=kor-jpn-2011&at=2015-06-01")
    expect(page.locator('tr[data-pair="KOR-JPN"]')).to_have_count(1)
    answers.append(page.evaluate(ENGLISH, sorted(NAMES)))
    page.goto(live.url + "/ui/network?at=2016-02-30")
    answers.append(page.evaluate(ENGLISH, sorted(NAMES)))
    if lang != "en":
        assert answers == [[], [], []], answers
        assert page.evaluate(BOXES)["boxes"] == []
