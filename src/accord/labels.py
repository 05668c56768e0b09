"""The words people are shown for the registry's and the ledger's codes, in the reader's
language: topics, purposes, supply categories, agreement kinds and statuses, event kinds, order
statuses and settlement methods, and the national level names.

The codes themselves (`dprk-missile`, `in-force`, `KOR II`) stay what they are in the registry,
on TAXII and in the API; the pages show the word and keep the code in a `data-` attribute or a
tooltip where a reader may need it. A nation's own level name is never translated: it is shown in
its official wording (군사 II급비밀, 極秘, SECRET) with its language tagged, as the agreements'
equivalence tables name it.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from accord.i18n import N_, _
from accord.registry.lifecycle import Status
from accord.registry.model import AgreementKind, EventKind

TOPICS: Mapping[str, str] = {
    "dprk-nuclear": N_("North Korean nuclear programme"),
    "dprk-missile": N_("North Korean missiles"),
    "wmd": N_("weapons of mass destruction"),
    "general-military": N_("general military"),
    "maritime-security": N_("maritime security"),
    "counter-terrorism": N_("counter-terrorism"),
    "cyber": N_("cyber"),
}
PURPOSES: Mapping[str, str] = {
    "defence": N_("defence"),
    "intelligence": N_("intelligence"),
    "early-warning": N_("early warning"),
    "exercise": N_("exercise"),
    "peacekeeping": N_("peacekeeping"),
    "humanitarian-relief": N_("humanitarian relief"),
    "disaster-relief": N_("disaster relief"),
    "evacuation": N_("evacuation"),
    "contingency": N_("contingency"),
}
CATEGORIES: Mapping[str, str] = {
    "food": N_("food"),
    "water": N_("water"),
    "billeting": N_("billeting"),
    "transportation": N_("transportation"),
    "petroleum": N_("petroleum, oils and lubricants"),
    "clothing": N_("clothing"),
    "communications": N_("communications"),
    "medical": N_("medical services"),
    "base-support": N_("base support"),
    "storage": N_("storage"),
    "facilities": N_("use of facilities"),
    "training": N_("training services"),
    "spare-parts": N_("spare parts and components"),
    "repair": N_("repair and maintenance"),
    "port-services": N_("airport and seaport services"),
    "ammunition": N_("ammunition"),
    "weapons": N_("weapons"),
}
KINDS: Mapping[str, str] = {
    AgreementKind.INFORMATION_SECURITY: N_("information security (GSOMIA-type)"),
    AgreementKind.LOGISTICS_SUPPORT: N_("logistics support (ACSA / MLSA)"),
    AgreementKind.INFORMATION_ARRANGEMENT: N_("information arrangement (e.g. TISA)"),
}
STATUSES: Mapping[str, str] = {
    Status.NONE: N_("no event yet"),
    Status.NEGOTIATING: N_("negotiating"),
    Status.INITIALLED: N_("initialled"),
    Status.SIGNED: N_("signed, not in force"),
    Status.IN_FORCE: N_("in force"),
    Status.NOTICE_GIVEN: N_("in force, notice given"),
    Status.NOTICE_SUSPENDED: N_("in force, notice suspended"),
    Status.SUSPENDED: N_("suspended"),
    Status.TERMINATED: N_("terminated"),
    Status.EXPIRED: N_("expired"),
}
EVENTS: Mapping[str, str] = {
    EventKind.NEGOTIATING: N_("negotiations"),
    EventKind.INITIALLED: N_("initialled"),
    EventKind.SIGNED: N_("signed"),
    EventKind.ENTERED_INTO_FORCE: N_("entered into force"),
    EventKind.TERMINATION_NOTIFIED: N_("notice of termination"),
    EventKind.NOTICE_SUSPENDED: N_("notice suspended"),
    EventKind.NOTICE_WITHDRAWN: N_("notice withdrawn"),
    EventKind.SUSPENDED: N_("suspended"),
    EventKind.RESUMED: N_("resumed"),
    EventKind.TERMINATED: N_("terminated"),
    EventKind.EXPIRED: N_("expired"),
    EventKind.AMENDED: N_("amended"),
}
ORDER_STATUSES: Mapping[str, str] = {
    "requested": N_("requested"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "delivered": N_("delivered"),
    "invoiced": N_("invoiced"),
    "settled": N_("settled"),
    "closed": N_("closed"),
    "cancelled": N_("cancelled"),
}
ORDER_STEPS: Mapping[str, str] = {
    "create": N_("raised"),
    "amend": N_("amended"),
    "accept": N_("accepted"),
    "reject": N_("rejected"),
    "cancel": N_("cancelled"),
    "deliver": N_("delivered"),
    "invoice": N_("invoiced"),
    "settle": N_("settled"),
    "attach": N_("document attached"),
    "close": N_("closed"),
}
METHODS: Mapping[str, str] = {
    "cash": N_("cash"),
    "replacement-in-kind": N_("replacement in kind"),
    "equal-value-exchange": N_("equal-value exchange"),
}
#: Levels a scheme may name in English generic words; shown in the reader's language. A
#: nation's own official wording (군사 II급비밀, 極秘, SECRET, NATO SECRET) is kept as it is.
GENERIC_LEVELS: Mapping[str, str] = {
    "Unclassified": N_("Unclassified"),
    "UNCLASSIFIED": N_("Unclassified"),
    "Top Secret": N_("Top Secret"),
    "Secret": N_("Secret"),
    "Confidential": N_("Confidential"),
    "Restricted": N_("Restricted"),
}


def _word(table: Mapping[str, str], code: object) -> str:
    text = table.get(str(code))
    return _(text) if text is not None else str(code)


def topic(code: object) -> str:
    """Returns a topic in the reader's language (an unknown code as it is)."""
    return _word(TOPICS, code)


def purpose(code: object) -> str:
    return _word(PURPOSES, code)


def category(code: object) -> str:
    return _word(CATEGORIES, code)


def kind(code: object) -> str:
    return _word(KINDS, code)


def status(code: object) -> str:
    return _word(STATUSES, code)


def event(code: object) -> str:
    return _word(EVENTS, code)


def order_status(code: object) -> str:
    return _word(ORDER_STATUSES, code)


def order_step(code: object) -> str:
    return _word(ORDER_STEPS, code)


def method(code: object) -> str:
    return _word(METHODS, code)


#: The language of each party's national level names, for `lang` attributes.
NAME_LANGS = {"KOR": "ko", "JPN": "ja", "CHN": "zh", "RUS": "ru"}


def level_name(party: str, name: str) -> Markup:
    """Returns a level's name as HTML: a nation's official wording with its language tagged
    (`<span lang="ko">군사 II급비밀</span>`), a generic English name in the reader's language."""
    generic = GENERIC_LEVELS.get(name)
    if generic is not None:
        return escape(_(generic))
    lang = NAME_LANGS.get(party.split(" ")[0])
    if lang:
        return Markup('<span lang="{}">{}</span>').format(lang, name)
    return escape(name)


#: What the templates call: `{{ topic(t) }}`, `{{ status(st) }}`, `{{ level_name(p, n) }}`.
TEMPLATE_GLOBALS = {
    "topic": topic,
    "purpose": purpose,
    "category": category,
    "kind_label": kind,
    "status_label": status,
    "event_label": event,
    "order_status": order_status,
    "order_step": order_step,
    "method_label": method,
    "level_name": level_name,
}
