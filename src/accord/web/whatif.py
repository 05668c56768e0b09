"""The what-if page: a hypothetical agreement or consent, and what it would change on a date.

The form describes registry additions (never stored); `World.with_additions` checks and merges them
in memory, and `accord.policy.whatif.diff` compares what flows in the real and the hypothetical
world over one marking per party × level × topic (spec §3, "What-if"; the same as `accord whatif`).
The preset fills the form with the Korea–Japan GSOMIA the Dong-A Ilbo asked about in January 2011
(`examples/whatif-kor-jpn-2011.yaml`) and answers it at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.responses import Response

from accord.errors import ImportRejected, InputError
from accord.i18n import N_, _, ngettext
from accord.logistics.whatif import support_diff
from accord.policy.marking import DEFAULT_PURPOSE, Marking
from accord.policy.whatif import WorldDiff, diff, marking_universe
from accord.policy.world import World
from accord.registry import files
from accord.registry.model import (
    INFO_PURPOSES,
    TOPICS,
    Agreement,
    AgreementKind,
    Consent,
    Event,
    EventKind,
    Registry,
    Scope,
)
from accord.web.pages import Ctx, page
from accord.web.publish import split_codes

#: The preset: the hypothetical agreement of examples/whatif-kor-jpn-2011.yaml as form values
#: (tests/ui/test_ui_whatif.py checks that both describe the same agreement).
PRESETS: dict[str, dict[str, Any]] = {
    "kor-jpn-2011": {
        "label": N_("Korea–Japan GSOMIA, January 2011"),
        "add_agreement": True,
        "ag_id": "kor-jpn-gsomia-2011-hypothetical",
        "ag_title": "Korea–Japan GSOMIA concluded in January 2011 (hypothetical)",
        "ag_kind": "information-security",
        "ag_parties": "KOR JPN",
        "ag_hub": "",
        "ag_all_topics": True,
        "ag_topics": [],
        "ag_rows": "KOR=II JPN=GOKUHI\nKOR=III JPN=HI\nKOR=U JPN=U",
        "ag_signed": "2011-01-06",
        "ag_force": "2011-01-06",
        "add_consent": False,
        "at": "2015-06-01",
        "dates": ["2012-06-29", "2015-06-01", "2017-01-01"],
    }
}

_BLANK: dict[str, Any] = {
    "add_agreement": True,
    "ag_id": "whatif-agreement",
    "ag_title": "Hypothetical agreement",
    "ag_kind": "information-security",
    "ag_parties": "",
    "ag_hub": "",
    "ag_all_topics": True,
    "ag_topics": [],
    "ag_rows": "",
    "ag_signed": "",
    "ag_force": "",
    "add_consent": False,
    "c_id": "whatif-consent",
    "c_originator": "",
    "c_holder": "",
    "c_recipients": "",
    "c_all_topics": True,
    "c_topics": [],
    "c_max_level": "",
    "c_from": "",
    "c_until": "",
    "at": "",
    "purpose": DEFAULT_PURPOSE,
    "only": "",
}


def parse_rows(text: str) -> tuple[dict[str, str], ...]:
    """Returns equivalence rows from lines such as `KOR=II JPN=GOKUHI` (`:` works too)."""
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        cells = line.replace(",", " ").split()
        if not cells:
            continue
        row: dict[str, str] = {}
        for cell in cells:
            party, sep, level = cell.replace(":", "=").partition("=")
            if not sep or not party or not level:
                raise InputError(
                    _("level row %(row)s: %(cell)s is not PARTY=LEVEL (e.g. KOR=II)")
                    % {"row": n, "cell": repr(cell)}
                )
            row[party.strip().upper()] = level.strip().upper()
        rows.append(row)
    return tuple(rows)


def _day(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            _("%(field)s: %(value)s is not a date (YYYY-MM-DD)")
            % {"field": what, "value": repr(value)}
        ) from None


def _collect(problems: list[str], make: Any, *args: Any) -> Any:
    """Returns `make(*args)`, or None after noting its InputError among `problems`."""
    try:
        return make(*args)
    except InputError as exc:
        problems.append(str(exc))
        return None


#: The date a hypothetical agreement stands in with when its own dates are wrong, so that its
#: other fields are still checked (the stand-in is never compared).
_STAND_IN = date(2000, 1, 1)


def hypothesis(values: dict[str, Any], world: World | None = None) -> Registry:
    """Returns the registry additions the form values describe; ImportRejected lists every
    problem of the form at once, each in plain words naming its field (`plain`). With `world`,
    a form with a wrong date or level row still has its other fields checked against it."""
    agreements: list[Agreement] = []
    consents: list[Consent] = []
    problems: list[str] = []
    if values["add_agreement"]:
        events = []
        signed = _collect(problems, _day, values["ag_signed"], _("signed on"))
        force = _collect(problems, _day, values["ag_force"], _("entry into force"))
        rows = _collect(problems, parse_rows, values["ag_rows"])
        if signed:
            events.append(Event(date=signed, kind=EventKind.SIGNED))
        if force:
            events.append(Event(date=force, kind=EventKind.ENTERED_INTO_FORCE))
        if not events and not problems:
            problems.append(_("give the hypothetical agreement a signing or entry-into-force date"))
        if not events:
            events.append(Event(date=_STAND_IN, kind=EventKind.SIGNED))
        topics: Any = "all" if values["ag_all_topics"] else tuple(values["ag_topics"])
        _build(
            problems,
            "agreements[0]",
            agreements,
            lambda: Agreement(
                id=values["ag_id"] or "whatif-agreement",
                title=values["ag_title"] or "Hypothetical agreement",
                kind=values["ag_kind"],
                parties=tuple(split_codes(values["ag_parties"])),
                hub=values["ag_hub"].upper() or None,
                scope=Scope(topics=topics),
                equivalence=rows if rows is not None else (),
                events=tuple(events),
                illustrative=True,
            ),
        )
    if values["add_consent"]:
        start = _collect(problems, _day, values["c_from"], _("consent valid from"))
        until = _collect(problems, _day, values["c_until"], _("consent valid until"))
        if start is None and not values["c_from"]:
            problems.append(_("give the hypothetical consent a 'valid from' date"))
        _build(
            problems,
            "consents[0]",
            consents,
            lambda: Consent(
                id=values["c_id"] or "whatif-consent",
                originator=values["c_originator"].upper(),
                holder=values["c_holder"].upper(),
                recipients=tuple(split_codes(values["c_recipients"])),
                topics="all" if values["c_all_topics"] else tuple(values["c_topics"]),
                max_level=values["c_max_level"].upper() or None,
                valid_from=start or _STAND_IN,
                valid_until=until,
                illustrative=True,
            ),
        )
    if problems and world is not None and (agreements or consents):
        try:
            world.with_additions(Registry(agreements=tuple(agreements), consents=tuple(consents)))
        except ImportRejected as exc:
            problems.extend(exc.problems)
    if problems:
        raise ImportRejected([plain(p) for p in problems])
    if not agreements and not consents:
        raise InputError(_("add a hypothetical agreement, a consent, or both"))
    return Registry(agreements=tuple(agreements), consents=tuple(consents))


def _build(problems: list[str], where: str, into: list[Any], make: Any) -> None:
    """Appends the record `make` builds to `into`, or notes each of its validation problems at
    `where` (`agreements[0].parties[1]: 'x' is not a valid code here`)."""
    try:
        into.append(make())
    except ValidationError as exc:
        for e in exc.errors():
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            problems.append(f"{where}{path}: {files._message(dict(e))}")


#: The form's words for the fields of the hypothetical records (`plain`).
_FIELDS: dict[tuple[str, str], str] = {
    ("agreements", "id"): N_("Id"),
    ("agreements", "title"): N_("Title"),
    ("agreements", "kind"): N_("Kind"),
    ("agreements", "parties"): N_("Parties"),
    ("agreements", "hub"): N_("Hub"),
    ("agreements", "scope"): N_("Topics in scope"),
    ("agreements", "equivalence"): N_("Level equivalence rows"),
    ("agreements", "events"): N_("Dates"),
    ("agreements", "underlying"): N_("Parties"),
    ("consents", "id"): N_("Id"),
    ("consents", "originator"): N_("Originator"),
    ("consents", "holder"): N_("Holder"),
    ("consents", "recipients"): N_("Recipients"),
    ("consents", "topics"): N_("Topics covered"),
    ("consents", "max_level"): N_("Max level"),
    ("consents", "valid_from"): N_("Valid from"),
    ("consents", "valid_until"): N_("Valid until"),
    ("consents", "arrangement"): N_("Recipients"),
}
_PROBLEM = re.compile(
    r"^(?P<kind>agreements|consents)(?:\[\d+\])?(?:\.(?P<field>\w+))?(?:\[(?P<row>\d+)\])?"
    r"(?:\.(?P<sub>[\w-]+))?(?:\.[\w.\[\]-]*)?: (?P<what>.*)$"
)


def plain(problem: str) -> str:
    """Returns a problem of the hypothesis in the form's words: `agreements[0].equivalence[0].CHN:
    'SECRET' is not a level of CHN (…)` becomes `Level equivalence rows, row 1 (CHN): 'SECRET' is
    not a level of CHN (…)`; a problem already in plain words is returned as it is."""
    found = _PROBLEM.match(problem)
    if found is None:
        return problem
    kind, field, what = found.group("kind"), found.group("field") or "", found.group("what")
    if not field:
        word = _("The hypothetical agreement") if kind == "agreements" else _("The consent")
        return _("%(field)s: %(problem)s") % {"field": word, "problem": what}
    label = _(_FIELDS.get((kind, field), field))
    row, sub = found.group("row"), found.group("sub")
    if field == "equivalence" and row is not None:
        where = (
            _("%(field)s, row %(row)s (%(party)s)")
            % {"field": label, "row": int(row) + 1, "party": sub}
            if sub
            else _("%(field)s, row %(row)s") % {"field": label, "row": int(row) + 1}
        )
        return _("%(field)s: %(problem)s") % {"field": where, "problem": what}
    return _("%(field)s: %(problem)s") % {"field": label, "problem": what}


def summary(world: World, markings: Sequence[Marking]) -> Markup:
    """Returns `levels II, III; topics dprk-missile, dprk-nuclear (4 markings)` for a list, as
    HTML in the reader's language (`accord.policy.whatif.summarise` words it for the CLI); the
    level and topic codes stay codes, marked `translate="no"`."""
    if not markings:
        return Markup("")
    origin = markings[0].originator
    levels = sorted({m.level for m in markings}, key=lambda lv: -world.rank(origin, lv))
    topics = sorted({t for m in markings for t in m.topics})
    text = ngettext(
        "levels %(levels)s; topics %(topics)s (%(num)s marking)",
        "levels %(levels)s; topics %(topics)s (%(num)s markings)",
        len(markings),
    )
    return escape(text) % {"levels": _codes(levels), "topics": _codes(topics), "num": len(markings)}


def _codes(codes: Sequence[str]) -> Markup:
    return Markup('<span class="codes" translate="no">{}</span>').format(", ".join(codes))


def rejected(exc: ImportRejected) -> str:
    """Returns the heading of a rejected hypothesis's problems (each listed below it)."""
    return ngettext(
        "The hypothesis has %(num)s problem:",
        "The hypothesis has %(num)s problems:",
        len(exc.problems),
    ) % {"num": len(exc.problems)}


def _values(ctx: Ctx) -> dict[str, Any]:
    values = dict(_BLANK)
    for k, v in _BLANK.items():
        if isinstance(v, bool):
            values[k] = bool(ctx.param(k))
        elif isinstance(v, list):
            values[k] = ctx.params(k)
        else:
            values[k] = ctx.param(k)
    return values


#: Diffs already computed, per (store, registry version, hypothesis, date, purpose).
_answers: dict[tuple[object, ...], WorldDiff] = {}


def answer(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """Returns the diff and its presentation for the form values (raises InputError)."""
    at = _day(values["at"], _("date")) or ctx.node.today()
    purpose = values["purpose"] or DEFAULT_PURPOSE
    if purpose not in INFO_PURPOSES:
        raise InputError(
            _("purpose: %(value)s is not one of %(choices)s")
            % {"value": repr(purpose), "choices": ", ".join(INFO_PURPOSES)}
        )
    version, real = ctx.node.world()
    part = hypothesis(values, real)
    try:
        hypo = real.with_additions(part)
    except ImportRejected as exc:
        raise ImportRejected([plain(p) for p in exc.problems]) from None
    key = (ctx.node.store.url, version, part.model_dump_json(), at, purpose)
    result = _answers.get(key)
    if result is None:
        result = diff(real, hypo, marking_universe(hypo, purpose), at)
        if len(_answers) > 64:
            _answers.clear()
        _answers[key] = result
    only = values["only"].upper()
    if only:
        hypo.party(only)
    pairs = [p for p in result.pairs if not only or only in (p.holder, p.recipient)]
    rows = [
        {
            "holder": p.holder,
            "recipient": p.recipient,
            "gained": summary(hypo, p.gained),
            "lost": summary(hypo, p.lost),
            "unhubbed": summary(hypo, p.unhubbed),
            "hubbed": summary(hypo, p.hubbed),
            "counts": (len(p.gained), len(p.lost), len(p.unhubbed), len(p.hubbed)),
        }
        for p in pairs
    ]
    records = [a.id for a in part.agreements] + [c.id for c in part.consents]
    support = [
        s for s in support_diff(real.registry, hypo.registry, at) if not only or only in s.parties
    ]
    return {
        "support": support,
        "at": at,
        "purpose": purpose,
        "markings": result.markings,
        "rows": rows,
        "records": records,
        "only": only,
    }


@page
def whatif_page(ctx: Ctx) -> Response:
    """GET: the form (filled and answered with `?preset=`, optionally `&at=`). POST: the answer
    for the form's hypothesis."""
    preset = ctx.param("preset") if ctx.request.method == "GET" else ""
    chosen = PRESETS.get(preset)
    values = dict(_BLANK, only=ctx.node.party)
    if ctx.request.method == "POST":
        values = _values(ctx)
    elif chosen is not None:
        values.update({k: v for k, v in chosen.items() if k in _BLANK})
        if ctx.param("at"):
            values["at"] = ctx.param("at")
    common: dict[str, Any] = {
        "section": "whatif",
        "values": values,
        "presets": PRESETS,
        "preset": preset if chosen else "",
        "preset_dates": [date.fromisoformat(d) for d in chosen["dates"]] if chosen else [],
        "topics": TOPICS,
        "purposes": INFO_PURPOSES,
        "kinds": [k.value for k in AgreementKind],
    }
    if ctx.request.method == "GET" and chosen is None:
        return ctx.render("whatif.html", answer=None, error=None, problems=[], **common)
    try:
        result = answer(ctx, values)
    except ImportRejected as exc:
        return ctx.render(
            "whatif.html",
            status=400,
            answer=None,
            error=rejected(exc),
            problems=exc.problems,
            **common,
        )
    except InputError as exc:
        return ctx.render(
            "whatif.html", status=400, answer=None, error=str(exc), problems=[], **common
        )
    return ctx.render("whatif.html", answer=result, error=None, problems=[], **common)
