"""The catalogues cover every message, placeholders survive translation, and the language is
chosen from `Accept-Language` as RFC 9110 §12.5.4 describes (accord.i18n)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from accord import i18n
from accord.registry.files import read_file
from accord.registry.service import scenario_path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted() -> dict[str, str | None]:
    """Returns every message the code marks (msgid → plural msgid or None), read from the
    sources the way `scripts/i18n` reads them (babel.cfg)."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    method_map = [
        ("src/accord/**.py", "python"),
        ("src/accord/web/templates/**.html", "jinja2"),
    ]
    options_map = {
        "src/accord/web/templates/**.html": {
            "extensions": "jinja2.ext.i18n",
            "trim_blocks": "True",
            "lstrip_blocks": "True",
        }
    }
    found: dict[str, str | None] = {}
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if context is not None:
            message = message if isinstance(message, tuple) else (message,)
        if isinstance(message, tuple):
            found[message[0]] = message[1] if len(message) > 1 else None
        else:
            found[message] = None
    return found


MESSAGES = _extracted()


def _catalogue(lang: str) -> dict[str, object]:
    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {
        (m.id[0] if isinstance(m.id, tuple) else m.id): m
        for m in catalog
        if m.id and not m.fuzzy  # a fuzzy entry is left out when the catalogue is compiled
    }


def test_the_code_marks_messages() -> None:
    assert len(MESSAGES) > 300, len(MESSAGES)
    assert "Sign in" in MESSAGES


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_every_message_has_a_translation(lang: str) -> None:
    """A text marked in a template or in the code with no translation in the catalogue fails
    here (run `scripts/i18n`, then translate the new entries)."""
    catalogue = _catalogue(lang)
    missing = []
    for msgid in MESSAGES:
        entry = catalogue.get(msgid)
        strings = entry.string if entry is not None else ""  # type: ignore[attr-defined]
        if isinstance(strings, tuple | list):
            strings = strings[0] if strings else ""
        if not strings:
            missing.append(msgid)
    assert not missing, f"{len(missing)} messages without a {lang} translation: {missing[:20]}"


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_placeholders_survive_translation(lang: str) -> None:
    bad = []
    for msgid, entry in _catalogue(lang).items():
        strings = entry.string  # type: ignore[attr-defined]
        for text in strings if isinstance(strings, tuple | list) else [strings]:
            if text and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
                bad.append((msgid, text))
    assert not bad, bad[:10]


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_translations_are_not_english(lang: str) -> None:
    """A translation that is the English text again (longer than a code) is a missed entry."""
    same = [
        msgid
        for msgid, entry in _catalogue(lang).items()
        if entry.string == msgid  # type: ignore[attr-defined]
        and len(re.findall(r"[a-z]{3,}", msgid)) >= 2
    ]
    assert not same, same[:20]


def test_english_is_the_source_text() -> None:
    assert i18n.gettext("Sign in") == "Sign in"
    with i18n.using("ko"):
        assert i18n.gettext("Sign in") != "Sign in"
        assert i18n.language() == "ko"
    with i18n.using("xx"):
        assert i18n.language() == "en"
    assert i18n.language() == "en"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        ("ja", "ja"),
        ("fr-FR, de;q=0.9", "en"),
        ("en;q=0.5, ja;q=0.6", "ja"),
        ("ko;q=0, ja;q=0.1", "ja"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("ko;q=abc, ja", "ja"),
        ("ja;q=2", "en"),
        ("x" * 2000, "en"),
    ],
)
def test_accept_language(header: str | None, lang: str) -> None:
    assert i18n.negotiate(header) == lang


@given(st.text(max_size=300))
def test_any_accept_language_header_gets_a_served_language(header: str) -> None:
    assert i18n.negotiate(header) in i18n.LANGUAGES
    tags = i18n.parse_accept_language(header)
    assert len(tags) <= 32
    assert all(t == t.lower() and t for t in tags)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["en", "ko", "ja", "fr", "ko-KR", "ja-JP", "de"]),
            st.integers(min_value=0, max_value=1000),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_highest_quality_served_language_wins(prefs: list[tuple[str, int]]) -> None:
    header = ", ".join(f"{tag};q={q / 1000:.3f}" for tag, q in prefs)
    served = [(q, -i, tag.split("-")[0]) for i, (tag, q) in enumerate(prefs) if q > 0]
    served = [s for s in served if s[2] in i18n.LANGUAGES]
    expected = max(served)[2] if served else "en"
    assert i18n.negotiate(header) == expected


@pytest.mark.parametrize(
    ("lang", "medium", "long"),
    [
        ("en", "Dec 7, 2026", "December 7, 2026"),
        ("ko", "2026. 12. 7.", "2026년 12월 7일"),
        ("ja", "2026/12/07", "2026年12月7日"),
    ],
)
def test_dates_take_the_locale_form(lang: str, medium: str, long: str) -> None:
    with i18n.using(lang):
        assert i18n.date_text(date(2026, 12, 7)) == medium
        assert i18n.date_text(date(2026, 12, 7), "long") == long
        assert i18n.day(date(2026, 12, 7)) == (long if lang != "en" else "2026-12-07")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("19600000", "19,600,000"),
        ("-69700.00 USD", "-69,700.00 USD"),
        ("0.5", "0.5"),
        ("—", "—"),
        ("NaN", "NaN"),
        ("1e400", "1e400"),
    ],
)
def test_numbers_are_grouped(text: str, shown: str) -> None:
    for lang in i18n.LANGUAGES:
        with i18n.using(lang):
            assert i18n.number_text(text) == (shown if text != "1e400" else text)


def test_every_party_has_a_name_in_each_language() -> None:
    registry, _lines = read_file(scenario_path())
    for lang in ("ko", "ja"):
        with i18n.using(lang):
            for party in registry.parties:
                name = i18n.party_name(party.code, party.name)
                assert name, party.code
                # A country's name comes from CLDR, an organisation's from the catalogue.
                assert not re.search(r"[a-z]{3,}", name), (lang, party.code, name)
    with i18n.using("ko"):
        assert i18n.party_name("KOR", "Republic of Korea") == "대한민국"
        assert i18n.party_name("JPN", "Japan") == "일본"
    with i18n.using("ja"):
        assert i18n.party_name("USA", "United States") == "アメリカ合衆国"
    assert i18n.party_name("KOR", "Republic of Korea") == "Republic of Korea"
