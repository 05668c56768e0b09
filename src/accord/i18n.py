"""The languages of the people's interface: English, Korean and Japanese.

Every text the web interface shows goes through one gettext message catalogue per language
(`accord/locale/LANG/LC_MESSAGES/accord.po`, Babel's PO format; English is the source language, so
it needs none). The catalogues are compiled in memory when first used, so the repository holds no
binary `.mo` files that could fall out of step with their source.

The language in use is a context variable, set for the duration of one web request (`using`);
everything else — the CLI, TAXII, the JSON API, stored records — runs with none set and gets the
English source text, so the audit trail and every machine-readable answer stay in one language.
`_` translates now; `N_` only marks a module-level constant for extraction, to be translated where
it is shown (`_(CONSTANT)`).

Dates and numbers take the locale's form from Babel's CLDR data; party names come from CLDR's
territory names where the party is a country, so no catalogue has to repeat them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where it is first needed (a tenth of a second): the CLI, TAXII and the API
# only ever speak English and never pay for it.

#: The languages served, English (the source and the fallback) first.
LANGUAGES: tuple[str, ...] = ("en", "ko", "ja")
DEFAULT = "en"
#: Each language's name in itself, for the language switcher.
NATIVE_NAMES = {"en": "English", "ko": "한국어", "ja": "日本語"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "accord"

_current: ContextVar[str] = ContextVar("accord_language", default=DEFAULT)


@cache
def translations(lang: str) -> NullTranslations:
    """Returns the compiled catalogue of `lang` (English, or an unknown language: the source
    text). Fuzzy entries are left out: an unchecked translation is worse than the English."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def language() -> str:
    """Returns the language of the current request (English outside one)."""
    return _current.get()


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Runs the block with `lang` as the current language (an unknown one means English)."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """Returns `message` in the current language."""
    lang = _current.get()
    if lang == DEFAULT:
        return message
    return translations(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Returns the singular or plural form for `n` in the current language."""
    lang = _current.get()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    return translations(lang).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Returns `message`, disambiguated by `context`, in the current language."""
    lang = _current.get()
    if lang == DEFAULT:
        return message
    return translations(lang).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    lang = _current.get()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    return translations(lang).npgettext(context, singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name of gettext_noop
    """Marks `message` for the catalogues without translating it (module-level constants)."""
    return message


# ---- choosing a language -------------------------------------------------------------------
#: An Accept-Language header longer than this is not read (bytes): the answer is English.
MAX_ACCEPT = 1024


def parse_accept_language(header: str | None) -> list[str]:
    """Returns the language tags of an `Accept-Language` header (RFC 9110 §12.5.4), most
    preferred first: quality 0 and malformed entries dropped, ties kept in header order."""
    if not header or len(header) > MAX_ACCEPT:
        return []
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[:32]):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or len(tag) > 35 or not all(c.isalnum() or c in "-*" for c in tag):
            continue
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if 0 < q <= 1:
            ranked.append((-q, i, tag.lower()))
    return [tag for _q, _i, tag in sorted(ranked)]


def negotiate(header: str | None) -> str:
    """Returns the served language the header prefers most (`ko-KR` → `ko`), else English."""
    for tag in parse_accept_language(header):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT


# ---- locale forms ----------------------------------------------------------------------------
@cache
def _locale(lang: str) -> Locale:
    from babel import Locale

    return Locale.parse(lang)


def date_text(d: date, form: str = "medium") -> str:
    """Returns `d` in the current language's form (`medium`: 2026/12/07, 2026. 12. 7., Dec 7,
    2026; `long`: 2026年12月7日, 2026년 12월 7일, December 7, 2026)."""
    from babel.dates import format_date

    return format_date(d, form, locale=_locale(_current.get()))


def day(d: date) -> str:
    """Returns a date inside a sentence: ISO 8601 in English (what the CLI, the API and the
    agreement texts' tables use), the locale's long form in another language."""
    if _current.get() == DEFAULT:
        return d.isoformat()
    return date_text(d, "long")


def listing(items: list[str] | tuple[str, ...], empty: str = "") -> str:
    """Returns items joined as the language lists codes (`, ` in English and Korean, `、` in
    Japanese), or `empty` for none."""
    if not items:
        return empty
    return ("、" if _current.get() == "ja" else ", ").join(items)


def datetime_text(moment: datetime) -> str:
    """Returns a moment in the current language's medium form, in UTC as stored."""
    from babel.dates import format_datetime

    return format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=_locale(_current.get()))


_PLAIN_NUMBER = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,12})?")


def number_text(value: object) -> str:
    """Returns a number with the locale's grouping (`19,600,000.50`); an amount given as text
    keeps its decimals and anything after a space (`1200.00 USD` → `1,200.00 USD`)."""
    raw = str(value)
    number, sep, rest = raw.partition(" ")
    if not _PLAIN_NUMBER.fullmatch(number):
        return raw  # not a plain decimal (or absurdly long): shown as it is, at no cost
    parsed = Decimal(number)
    from babel.numbers import format_decimal

    decimals = len(number.partition(".")[2]) if "." in number else 0
    text = format_decimal(
        parsed,
        format="#,##0" + ("." + "0" * decimals if decimals else ""),
        locale=_locale(_current.get()),
    )
    return text + sep + rest


#: ISO 3166 alpha-3 → alpha-2, for the countries the registry may name (CLDR keys territory
#: names by alpha-2).
ALPHA2 = {
    "ARE": "AE", "AUS": "AU", "AUT": "AT", "BEL": "BE", "BGR": "BG", "BRA": "BR", "CAN": "CA",
    "CHE": "CH", "CHL": "CL", "CHN": "CN", "COL": "CO", "CZE": "CZ", "DEU": "DE", "DNK": "DK",
    "EGY": "EG", "ESP": "ES", "EST": "EE", "FIN": "FI", "FRA": "FR", "GBR": "GB", "GRC": "GR",
    "HUN": "HU", "IDN": "ID", "IND": "IN", "IRL": "IE", "ISR": "IL", "ITA": "IT", "JOR": "JO",
    "JPN": "JP", "KAZ": "KZ", "KHM": "KH", "KOR": "KR", "LTU": "LT", "LVA": "LV", "MEX": "MX",
    "MNG": "MN", "MYS": "MY", "NLD": "NL", "NOR": "NO", "NZL": "NZ", "PAK": "PK", "PER": "PE",
    "PHL": "PH", "POL": "PL", "PRK": "KP", "PRT": "PT", "QAT": "QA", "ROU": "RO", "RUS": "RU",
    "SAU": "SA", "SGP": "SG", "SVK": "SK", "SVN": "SI", "SWE": "SE", "THA": "TH", "TUR": "TR",
    "TWN": "TW", "UKR": "UA", "USA": "US", "UZB": "UZ", "VNM": "VN", "ZAF": "ZA",
}  # fmt: skip


#: The registry's organisations, whose names CLDR does not know.
ORGANISATIONS = (N_("North Atlantic Treaty Organization"), N_("United Nations Command"))


def party_name(code: str, registry_name: str) -> str:
    """Returns a party's name in the current language: CLDR's name of the country, or for an
    organisation (NATO, the UN Command) the catalogue's; the registry's own name in English."""
    lang = _current.get()
    if lang == DEFAULT:
        return registry_name
    alpha2 = ALPHA2.get(code)
    if alpha2 is not None:
        found = _locale(lang).territories.get(alpha2)
        if found:
            return str(found)
    return gettext(registry_name)
