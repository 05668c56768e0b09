"""The legal officer's forms: record a dated event of an agreement, a diplomatic note, a consent.

`/agreements/{id}/events/new`, `/notes/new?agreement=` and `/consents/new` are open to signed-in
users with the legal role only (`recording.require_recorder`, from the session, never from a form
field: 403 for everyone else, PRODUCT.md §1 and §7). A POST reads the form, checks every field
and every reference at once (`recording.check…`) and shows each problem next to its field, in
plain words; only a form with no problem is recorded, through `accord.registry.recording`, which
validates it against the whole registry and audits it under the signed-in user's name. Nothing
is ever partly stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from accord.errors import ImportRejected, NotFound
from accord.i18n import _
from accord.registry import recording
from accord.registry.model import TOPICS, Consent, Event, EventKind, Note, NoteKind, Registry
from accord.registry.recording import Problem, RecordConflict
from accord.web.agreements import NOTE_KINDS
from accord.web.pages import Ctx, page
from accord.web.publish import split_codes


class Form:
    """The posted values of one form and the problems found, by field (all of them, at once)."""

    def __init__(self, ctx: Ctx, names: tuple[str, ...]) -> None:
        self.values: dict[str, str] = {n: ctx.param(n) for n in names}
        self.errors: dict[str, list[str]] = {}

    def bad(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def required(self, field: str) -> str | None:
        value = self.values.get(field, "")
        if not value:
            self.bad(field, _("This field is required."))
            return None
        return value

    def day(self, field: str, required: bool = False) -> date | None:
        value = self.values.get(field, "")
        if not value:
            if required:
                self.bad(field, _("This field is required."))
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.bad(
                field, _("%(value)s is not a date: write it as YYYY-MM-DD.") % {"value": value[:40]}
            )
            return None

    def choice(self, field: str, choices: tuple[str, ...]) -> str | None:
        value = self.values.get(field, "")
        if not value:
            self.bad(field, _("Choose one."))
            return None
        if value not in choices:
            self.bad(field, _("%(value)s is not one of the choices.") % {"value": value[:40]})
            return None
        return value

    def add(self, found: list[Problem], fields: dict[str, str]) -> None:
        """Adds the core's problems, each at the form field it concerns (the first field when
        the problem is about the record as a whole); a field already wrong keeps its first
        message only."""
        first = fields.get("") or next(iter(fields.values()))
        for p in found:
            target = fields.get(p.field, first) if p.field else first
            if target in self.errors and p.field in fields and p.field != "":
                continue
            self.bad(target, p.message)


def _render(ctx: Ctx, template: str, form: Form, status: int = 200, **values: Any) -> Response:
    return ctx.render(
        template,
        status=status,
        section="agreements",
        values=form.values,
        errors=form.errors,
        error_count=sum(len(v) for v in form.errors.values()),
        **values,
    )


def _agreement(ctx: Ctx, ident: str) -> Any:
    ag = ctx.world().agreements.get(ident)
    if ag is None:
        raise NotFound(_("no agreement %(id)s in the registry") % {"id": repr(ident)})
    return ag


def _build(
    form: Form,
    make: Callable[[dict[str, Any]], Any],
    fields: dict[str, str],
    stand_in: dict[str, Any],
) -> Any:
    """Returns the record `make` builds from the form. A field the model refuses gets its
    problem, and its `stand_in` value for a second build, so that the references of the other
    fields are still checked (all problems at once); the form then has errors and the stand-in
    record is never stored. None when even that fails."""
    try:
        return make({})
    except ValidationError as exc:
        found = recording.validation_problems(exc)
        form.add(found, fields)
    try:
        return make({p.field: stand_in[p.field] for p in found if p.field in stand_in})
    except ValidationError:
        return None


def _record(form: Form, write: Callable[[], Any], fields: dict[str, str]) -> bool:
    """Writes the record; False (problems added to the form) when the core refuses it."""
    try:
        write()
    except ImportRejected as exc:
        form.add(recording.problems(exc), fields)
        return False
    except RecordConflict as exc:
        form.add([Problem(exc.field or "", str(exc))], fields)
        return False
    return True


EVENT_FIELDS = ("kind", "date", "precision", "effective", "notes", "summary")
_EVENT_MAP = {
    "": "kind",
    "kind": "kind",
    "date": "date",
    "precision": "precision",
    "effective": "effective",
    "notes": "notes",
    "summary": "summary",
}


@page
def event_page(ctx: Ctx) -> Response:
    """GET: the form to record a dated event of the agreement. POST: records it (all problems
    shown at once, nothing stored, when any field is wrong) and goes back to the agreement on the
    event's date."""
    recording.require_recorder(ctx.user, ctx.node.party)
    ident = str(ctx.request.path_params["agreement_id"])
    ag = _agreement(ctx, ident)
    form = Form(ctx, EVENT_FIELDS)
    common: dict[str, Any] = {
        "ag": ag,
        "kinds": [k.value for k in EventKind],
        "precisions": ("day", "month", "year", "by"),
        "notes": [n for n in ctx.world().registry.notes if n.agreement == ag.id],
    }
    if ctx.request.method == "GET":
        form.values.update(kind="termination-notified", precision="day")
        return _render(ctx, "record_event.html", form, **common)
    kind = form.choice("kind", tuple(k.value for k in EventKind))
    when = form.day("date", required=True)
    precision = form.choice("precision", ("day", "month", "year", "by"))
    effective = form.day("effective")
    notes = tuple(split_note_ids(form.values["notes"]))
    summary = form.values["summary"] or None
    # Every reference is checked even when a field above is wrong: the date stands in as the
    # node's today, the kind as "amended", so that all problems show at once.
    probe = _build(
        form,
        lambda o: Event(
            date=when or ctx.node.today(),
            kind=EventKind(kind) if kind else EventKind.AMENDED,
            effective=effective,
            notes=o.get("notes", notes),
            precision=precision or "day",  # type: ignore[arg-type]
            summary=summary,
        ),
        _EVENT_MAP,
        {"notes": ()},
    )
    if probe is not None:
        try:
            form.add(recording.check_event(ctx.node.store, ag.id, probe), _EVENT_MAP)
        except RecordConflict as exc:
            form.bad("kind", str(exc))
    if form.errors or probe is None:
        return _render(ctx, "record_event.html", form, status=422, **common)
    if not _record(
        form,
        lambda: recording.record_event(ctx.node.store, ag.id, probe, ctx.user.name),
        _EVENT_MAP,
    ):
        return _render(ctx, "record_event.html", form, status=422, **common)
    return ctx.redirect(f"/agreements/{ag.id}?at={probe.date.isoformat()}&recorded=event")


def split_note_ids(text: str) -> list[str]:
    """Returns the note ids in `a, b` / `a b` (order kept, de-duplicated)."""
    return list(dict.fromkeys(t for t in text.replace(",", " ").split() if t))


NOTE_FIELDS = ("id", "date", "sender", "recipient", "kind", "agreement", "summary")
_NOTE_MAP = {"": "id", **{f: f for f in NOTE_FIELDS}}


@page
def note_page(ctx: Ctx) -> Response:
    """GET: the form to record a diplomatic note (`?agreement=` fills in the agreement). POST:
    records it, or shows every problem at once; then goes to the agreement (or the list)."""
    recording.require_recorder(ctx.user, ctx.node.party)
    form = Form(ctx, NOTE_FIELDS)
    common: dict[str, Any] = {
        "kinds": [k.value for k in NoteKind],
        "kind_words": NOTE_KINDS,
        "agreements": sorted(ctx.world().agreements),
    }
    if ctx.request.method == "GET":
        form.values.update(agreement=ctx.param("agreement"), kind="other")
        return _render(ctx, "record_note.html", form, **common)
    ident = form.required("id")
    when = form.day("date", required=True)
    sender = form.required("sender")
    recipient = form.required("recipient")
    kind = form.choice("kind", tuple(k.value for k in NoteKind))
    agreement = form.values["agreement"] or None
    probe = _build(
        form,
        lambda o: Note(
            id=o.get("id", ident or "placeholder"),
            date=when or ctx.node.today(),
            sender=o.get("sender", (sender or ctx.node.party).upper()),
            recipient=o.get("recipient", (recipient or ctx.node.party).upper()),
            kind=NoteKind(kind) if kind else NoteKind.OTHER,
            agreement=o.get("agreement", agreement),
            summary=form.values["summary"],
        ),
        _NOTE_MAP,
        {
            "id": "placeholder",
            "sender": ctx.node.party,
            "recipient": ctx.node.party,
            "agreement": None,
        },
    )
    if probe is not None:
        form.add(recording.check(ctx.node.store, Registry(notes=(probe,))), _NOTE_MAP)
    if form.errors or probe is None:
        return _render(ctx, "record_note.html", form, status=422, **common)
    if not _record(
        form, lambda: recording.record_note(ctx.node.store, probe, ctx.user.name), _NOTE_MAP
    ):
        return _render(ctx, "record_note.html", form, status=422, **common)
    if probe.agreement:
        return ctx.redirect(f"/agreements/{probe.agreement}?at={probe.date}&recorded=note")
    return ctx.redirect("/agreements?recorded=note")


CONSENT_FIELDS = (
    "id",
    "originator",
    "holder",
    "recipients",
    "arrangement",
    "topics",
    "max_level",
    "valid_from",
    "valid_until",
    "note",
    "summary",
)
_CONSENT_MAP = {"": "recipients", **{f: f for f in CONSENT_FIELDS}}


@page
def consent_page(ctx: Ctx) -> Response:
    """GET: the form to record an originator's consent (R6; `?arrangement=` fills it in). POST:
    records it, or shows every problem at once."""
    recording.require_recorder(ctx.user, ctx.node.party)
    form = Form(ctx, CONSENT_FIELDS)
    common: dict[str, Any] = {
        "topics": TOPICS,
        "agreements": sorted(ctx.world().agreements),
    }
    if ctx.request.method == "GET":
        form.values.update(arrangement=ctx.param("arrangement"), originator=ctx.node.party)
        return _render(ctx, "record_consent.html", form, **common)
    ident = form.required("id")
    originator = form.required("originator")
    holder = form.required("holder")
    start = form.day("valid_from", required=True)
    until = form.day("valid_until")
    topics = split_note_ids(form.values["topics"].lower())
    probe = _build(
        form,
        lambda o: Consent(
            id=o.get("id", ident or "placeholder"),
            originator=o.get("originator", (originator or ctx.node.party).upper()),
            holder=o.get("holder", (holder or ctx.node.party).upper()),
            recipients=o.get("recipients", tuple(split_codes(form.values["recipients"]))),
            arrangement=o.get("arrangement", form.values["arrangement"] or None),
            topics=o.get("topics", tuple(topics) if topics else "all"),
            max_level=o.get("max_level", form.values["max_level"].upper() or None),
            valid_from=start or ctx.node.today(),
            valid_until=until,
            note=o.get("note", form.values["note"] or None),
            summary=form.values["summary"],
        ),
        _CONSENT_MAP,
        {
            "id": "placeholder",
            "originator": ctx.node.party,
            "holder": ctx.node.party,
            "recipients": (),
            "arrangement": None,
            "topics": "all",
            "max_level": None,
            "note": None,
        },
    )
    if probe is not None:
        form.add(recording.check(ctx.node.store, Registry(consents=(probe,))), _CONSENT_MAP)
    if form.errors or probe is None:
        return _render(ctx, "record_consent.html", form, status=422, **common)
    if not _record(
        form,
        lambda: recording.record_consent(ctx.node.store, probe, ctx.user.name),
        _CONSENT_MAP,
    ):
        return _render(ctx, "record_consent.html", form, status=422, **common)
    if probe.arrangement:
        return ctx.redirect(f"/agreements/{probe.arrangement}?recorded=consent")
    return ctx.redirect("/agreements?recorded=consent")
