"""The templates of the web interface: one Jinja2 environment, compiled once, serving every
language.

The gettext callables read the request's language (`accord.i18n.using`), so one compiled template
serves English, Korean and Japanese; newstyle gettext escapes each translation and fills its
`%(name)s` placeholders. Filters give dates and numbers in the locale's form; globals give the
words for codes (`accord.labels`) and party names in the reader's language.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from accord import i18n, labels
from accord.labels import NAME_LANGS

templates = Environment(
    loader=PackageLoader("accord.web", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
templates.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
)


def _tojson(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


templates.filters["pretty_json"] = _tojson
templates.filters["urlquote"] = lambda s: quote(str(s), safe="")
templates.filters["digits"] = i18n.number_text
templates.filters["date"] = i18n.date_text
templates.filters["longdate"] = lambda d: i18n.date_text(d, "long")
templates.filters["datetime"] = i18n.datetime_text
templates.globals.update(labels.TEMPLATE_GLOBALS)
templates.globals["party_label"] = i18n.party_name
templates.globals["name_lang"] = lambda code: NAME_LANGS.get(str(code).split(" ")[0], "")
