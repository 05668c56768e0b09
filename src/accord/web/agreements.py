"""The agreement page: parties, scope, equivalence table, lifecycle and the next renewal deadline.

`/agreements/{id}?at=DATE` shows the agreement as it stands on the date (default today): its status
then, every event of its life with the status right after it and the diplomatic notes it rests on
(plus the steps no event records: a notice taking effect, a term running out), and the last day on
which a party can still stop the next automatic renewal.

Everything is written in the reader's language (`accord.i18n`): statuses, kinds and event kinds
with `labels`, dates in the locale's form (an uncertain date as the record gives it, `phrase`),
durations, legal forms, note kinds and article references here. The registry's own prose (titles,
summaries, notes) is English, as the registry records it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from babel.dates import format_skeleton
from starlette.responses import Response

from accord import i18n, labels
from accord.errors import NotFound
from accord.i18n import N_, _, ngettext
from accord.registry.lifecycle import Step, next_renewal_deadline, status, timeline
from accord.registry.model import Agreement, Event, Level, Note
from accord.registry.precision import proven
from accord.registry.recording import RECORDER_ROLE
from accord.web.pages import Ctx, page

LEGAL_FORMS = {
    "agreement": N_("agreement"),
    "arrangement": N_("arrangement"),
    "mou": N_("memorandum of understanding"),
}
NOTE_KINDS = {
    "termination": N_("termination"),
    "suspension-of-notice": N_("suspension of notice"),
    "withdrawal": N_("withdrawal"),
    "entry-into-force": N_("entry into force"),
    "other": N_("other"),
}
#: What the articles an agreement lists are about (`articles:` in the registry).
ARTICLE_SUBJECTS = {
    "access": N_("access"),
    "compromise": N_("loss or compromise"),
    "contractors": N_("contractors"),
    "disputes": N_("disputes"),
    "equivalence": N_("level equivalence"),
    "hub": N_("hub"),
    "legal-status": N_("legal status"),
    "purpose": N_("purpose"),
    "scope": N_("scope"),
    "term": N_("term and termination"),
    "third-party": N_("release to third parties"),
    "transmission": N_("transmission"),
    "underlying": N_("underlying agreements"),
    "use": N_("use"),
}
#: Why a date is uncertain, per precision (the tooltip of the "uncertain date" tag).
UNCERTAIN = {
    "by": N_(
        "The public record gives this date only as a latest date; decisions read it on the day "
        "the record proves."
    ),
    "month": N_(
        "The public record gives this date only to the month; decisions read it on the day the "
        "record proves."
    ),
    "year": N_(
        "The public record gives this date only to the year; decisions read it on the day the "
        "record proves."
    ),
}
_ARTICLE = re.compile(r"^(Art|para)\. (\S+)$")


@dataclass(frozen=True)
class Cell:
    """One level in the equivalence table: its code and its national name."""

    code: str
    name: str


@dataclass(frozen=True)
class Moment:
    """One step of the lifecycle with its notes and whether it is past on the page's date."""

    step: Step
    notes: tuple[Note, ...]
    past: bool
    when: str = ""  # the date as a reader should take it (`phrase`)
    doubt: str = ""  # why the date is uncertain (empty: known to the day)


def phrase(event: Event) -> str:
    """Returns the event's date as a reader should take it, in the reader's language (the web's
    `accord.registry.precision.phrase`): `Nov 23, 2016`, `by Dec 31, 2016`, `March 2009 (day not
    public)`, `2017 (month and day not public)`."""
    day = event.date
    if event.precision == "by":
        return _("by %(date)s") % {"date": i18n.date_text(day)}
    if event.precision == "month":
        month = format_skeleton("yMMMM", day, locale=i18n.language())
        return _("%(month)s (day not public)") % {"month": month}
    if event.precision == "year":
        year = format_skeleton("y", day, locale=i18n.language())
        return _("%(year)s (month and day not public)") % {"year": year}
    return i18n.date_text(day)


def duration(code: str | None) -> str | None:
    """Returns a registry duration (`10y`, `6m`, `90d`) in words, or None for none."""
    if not code:
        return None
    n, unit = int(code[:-1]), code[-1]
    if unit == "y":
        return ngettext("%(num)s year", "%(num)s years", n) % {"num": n}
    if unit == "m":
        return ngettext("%(num)s month", "%(num)s months", n) % {"num": n}
    return ngettext("%(num)s day", "%(num)s days", n) % {"num": n}


def article(ref: str) -> str:
    """Returns an article reference (`Art. 4`, `para. 3`) in the reader's language."""
    found = _ARTICLE.match(ref)
    if found is None:
        return ref
    if found.group(1) == "Art":
        return _("Art. %(n)s") % {"n": found.group(2)}
    return _("para. %(n)s") % {"n": found.group(2)}


def _words(word: Callable[[object], str], codes: Iterable[str]) -> str:
    """Returns the codes' words in the reader's language, listed as it lists them."""
    return i18n.listing([word(c) for c in codes])


def _word(table: dict[str, str], code: str) -> str:
    text = table.get(code)
    return _(text) if text is not None else code


def equivalence(ctx: Ctx, ag: Agreement) -> list[list[Cell | None]]:
    """Returns the table's rows: one cell per party of the agreement (None: no level there)."""
    world = ctx.world()
    names: dict[tuple[str, str], str] = {}
    for code in ag.parties:
        party = world.parties.get(code)
        levels: tuple[Level, ...] = party.levels if party else ()
        for lv in levels:
            names[(code, lv.code)] = lv.name
    out: list[list[Cell | None]] = []
    for row in ag.equivalence:
        cells: list[Cell | None] = []
        for code in ag.parties:
            lv_code = row.get(code)
            cells.append(None if lv_code is None else Cell(lv_code, names.get((code, lv_code), "")))
        out.append(cells)
    return out


@page
def agreement_page(ctx: Ctx) -> Response:
    """One agreement on `?at=` (default today)."""
    ident = str(ctx.request.path_params["agreement_id"])
    world = ctx.world()
    ag = world.agreements.get(ident)
    if ag is None:
        raise NotFound(_("no agreement %(id)s in the registry") % {"id": repr(ident)})
    at = ctx.date_param()
    notes = {n.id: n for n in world.registry.notes}
    moments = [
        Moment(
            s,
            tuple(notes[n] for n in s.event.notes if n in notes),
            proven(s.event) <= at,
            phrase(s.event),
            _(UNCERTAIN[s.event.precision]) if s.event.precision in UNCERTAIN else "",
        )
        for s in timeline(ag)
    ]
    related = [
        n
        for n in world.registry.notes
        if n.agreement == ag.id and all(n not in m.notes for m in moments)
    ]
    st = status(ag, at)
    scope = ag.scope
    ammunition = scope.ammunition
    return ctx.render(
        "agreement.html",
        section="agreements",
        ag=ag,
        at=at,
        state=st.value,
        legal_form=_word(LEGAL_FORMS, ag.legal_form.value),
        topics=None if scope.topics == "all" else _words(labels.topic, scope.topics),
        purposes=None if scope.purposes == "all" else _words(labels.purpose, scope.purposes),
        categories=_words(labels.category, scope.categories),
        ammunition_purposes=None
        if ammunition.purposes == "all"
        else _words(labels.purpose, ammunition.purposes),
        term={k: duration(getattr(ag.term, k)) for k in ("initial", "renewal", "notice")},
        note_kind=lambda kind: _word(NOTE_KINDS, str(kind)),
        articles=[
            (k, _word(ARTICLE_SUBJECTS, k), article(v)) for k, v in sorted(ag.articles.items())
        ],
        parties=[world.parties[p] if p in world.parties else None for p in ag.parties],
        party_codes=list(ag.parties),
        table=equivalence(ctx, ag),
        moments=moments,
        related=related,
        deadline=next_renewal_deadline(ag, at),
        underlying=[world.agreements.get(u) for u in ag.underlying],
        underlying_ids=list(ag.underlying),
        consents=[c for c in world.registry.consents if c.arrangement == ag.id],
        recorder=RECORDER_ROLE in ctx.user.roles,
        recorded=ctx.param("recorded"),
    )
