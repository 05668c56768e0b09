"""The publish form: STIX JSON (or a simple indicator), a release marking, a preview, a publish.

"Preview" shows, for the marking chosen, the release panel of `accord publish --dry-run` and
whether the user may publish under it (R9), and stores nothing. "Publish" stores the objects in
the node's items collection through `ingest.add_objects`, checked by
`receiving.user_may_publish` (the TAXII check for users) and recorded in the audit trail like a
TAXII post. Objects that already carry a release marking keep it; the others get the form's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.responses import Response

from accord.errors import InputError
from accord.exchange import publishing, reading
from accord.exchange.authority import Writer, require_publisher
from accord.exchange.marking_rows import marking_index
from accord.exchange.reading import Item, visible_items
from accord.exchange.receiving import user_may_publish
from accord.i18n import N_, _
from accord.policy.marking import DEFAULT_PURPOSE, Marking, parse_groups
from accord.registry.model import INFO_PURPOSES, TOPICS
from accord.web.items import Panel, reader, release_panel
from accord.web.pages import Ctx, page

INDICATOR_TYPES = (
    "malicious-activity",
    "anomalous-activity",
    "attribution",
    "compromised",
    "benign",
    "unknown",
)
#: The words shown for STIX 2.1's indicator types (the option's value stays the vocabulary code).
INDICATOR_TYPE_LABELS = {
    "malicious-activity": N_("malicious activity"),
    "anomalous-activity": N_("anomalous activity"),
    "attribution": N_("attribution"),
    "compromised": N_("compromised"),
    "benign": N_("benign"),
    "unknown": N_("unknown"),
}


@dataclass
class Group:
    """Objects sharing one release marking, its panel, and why the user may not publish it."""

    marking: Marking
    ids: list[str]
    panel: Panel
    refusal: str | None


@dataclass
class Plan:
    """What would be published: the objects (marking-definitions first), per-marking groups,
    and the problems found (a problem stops a publish)."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def split_codes(text: str) -> list[str]:
    """Returns the party codes in `JPN, USA` / `JPN USA` (upper-cased, de-duplicated)."""
    return list(dict.fromkeys(c.upper() for c in text.replace(",", " ").split() if c))


def form_marking(ctx: Ctx) -> Marking:
    """Returns the marking the form describes; InputError names a bad field."""
    level = ctx.param("level")
    if not level:
        raise InputError(_("choose a level"))
    rel = ctx.param("rel_to")
    m = Marking.of(
        ctx.node.party,
        level,
        ctx.params("topic"),
        ctx.param("purpose") or DEFAULT_PURPOSE,
        rel_to=split_codes(rel) if rel else None,
        noforn=bool(ctx.param("noforn")),
        orcon=bool(ctx.param("orcon")),
        groups=parse_groups([ctx.param("groups")]),
    )
    if not m.topics:
        raise InputError(_("choose at least one topic"))
    ctx.world().check_marking(m)
    return m


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def form_objects(ctx: Ctx) -> list[Any]:
    """Returns the posted objects: the pasted JSON (a bundle, an envelope, a list or one object),
    or else one indicator built from the simple form."""
    text = ctx.param("stix")
    if text:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(
                _("the STIX JSON is not valid JSON: %(error)s") % {"error": exc}
            ) from None
        if isinstance(data, list):
            return data
        if isinstance(data, dict) and isinstance(data.get("objects"), list):
            return list(data["objects"])
        if isinstance(data, dict) and "type" in data:
            return [data]
        raise InputError(_("expected a STIX bundle, a TAXII envelope, a list or one object"))
    name, pattern = ctx.param("name"), ctx.param("pattern")
    if not name or not pattern:
        raise InputError(_("paste STIX JSON, or give the indicator a name and a pattern"))
    kind = ctx.param("indicator_type") or "malicious-activity"
    now = _now()
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "name": name,
        "indicator_types": [kind],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": now,
    }
    if ctx.param("description"):
        obj["description"] = ctx.param("description")
    return [obj]


def plan(ctx: Ctx, marking: Marking, posted: list[Any], at: date) -> Plan:
    """Returns what publishing `posted` would store, grouped by release marking
    (`publishing.draft`), each group with its release panel on `at` and the R9 check of the
    user."""
    world = ctx.world()
    check = user_may_publish(world, ctx.node.party, ctx.person(), ctx.node.today())
    index = marking_index(ctx.node.store)
    d = publishing.draft(index, posted, marking, visible=ctx.node.view(ctx.user).rows)
    out = Plan(objects=d.objects, problems=d.problems)
    for m, ids in d.groups.values():
        out.groups.append(Group(m, ids, release_panel(world, ctx.node.party, m, at), check(m)))
    return out


def nobody_receives(ctx: Ctx, result: Plan) -> list[Marking]:
    """Returns the markings of `result` under which no other party may receive anything on the
    node's today — publishing under them keeps the item at this node (PRODUCT.md §1: the analyst
    sees before publishing who will be able to receive it)."""
    world, today = ctx.world(), ctx.node.today()
    return [
        g.marking
        for g in result.groups
        if release_panel(world, ctx.node.party, g.marking, today).allowed == 0
    ]


def duplicates(ctx: Ctx, posted: list[dict[str, Any]]) -> list[Item]:
    """Returns the items the user may see that the posted objects would repeat: same type, same
    name and same pattern under another id (what pressing Back, then Publish again, makes)."""
    r = reader(ctx)
    found: dict[str, Item] = {}
    for obj in posted:
        kind = str(obj.get("type", ""))
        if kind == "marking-definition":
            continue
        name = reading.display_name(obj)
        for item in visible_items(r, type_=kind, text=name, limit=50)[0]:
            same = item.name == name and item.body.get("pattern") == obj.get("pattern")
            if same and item.id != obj.get("id"):
                found.setdefault(item.id, item)
    return list(found.values())


def _form_values(ctx: Ctx) -> dict[str, Any]:
    keys = ("stix", "name", "pattern", "description", "indicator_type", "level", "purpose")
    values: dict[str, Any] = {k: ctx.param(k) for k in keys}
    values.update(
        rel_to=ctx.param("rel_to"),
        noforn=bool(ctx.param("noforn")),
        orcon=bool(ctx.param("orcon")),
        groups=ctx.param("groups"),
        topics=ctx.params("topic"),
        at=ctx.param("at"),
    )
    return values


@page
def publish_page(ctx: Ctx) -> Response:
    """GET: the empty form. POST `action=preview`: the release panel for the marking, nothing
    stored. POST `action=publish`: stores the objects and goes to the item (or lists outcomes).
    Only a user with a publishing role reaches the form (403 otherwise)."""
    require_publisher(ctx.user)
    levels = ctx.me().levels
    cleared = ctx.world().rank(ctx.node.party, ctx.user.clearance or "U")
    values: dict[str, Any]
    if ctx.request.method == "GET":
        values = {
            "stix": "",
            "name": "",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "description": "",
            "indicator_type": "malicious-activity",
            "level": levels[-2].code if len(levels) > 1 else levels[-1].code,
            "purpose": DEFAULT_PURPOSE,
            "rel_to": "",
            "noforn": False,
            "orcon": False,
            "groups": " ".join(sorted(ctx.user.groups)),
            "topics": [],
            "at": "",
        }
    else:
        values = _form_values(ctx)
    common: dict[str, Any] = {
        "section": "publish",
        "values": values,
        "levels": [lv for lv in levels if ctx.world().rank(ctx.node.party, lv.code) <= cleared],
        "topics": TOPICS,
        "purposes": INFO_PURPOSES,
        "indicator_types": INDICATOR_TYPES,
        "indicator_type_labels": INDICATOR_TYPE_LABELS,
        "nobody": [],
        "repeats": [],
    }
    if ctx.request.method == "GET":
        return ctx.render("publish.html", result=None, outcomes=None, error=None, **common)
    try:
        at = ctx.date_param()
        result = plan(ctx, form_marking(ctx), form_objects(ctx), at)
    except InputError as exc:
        return ctx.render(
            "publish.html", status=400, result=None, outcomes=None, error=str(exc), **common
        )
    if ctx.param("action") != "publish" or result.problems:
        status = 400 if result.problems and ctx.param("action") == "publish" else 200
        return ctx.render(
            "publish.html", status=status, result=result, outcomes=None, error=None, **common
        )
    nobody = [] if ctx.param("confirm_nobody") else nobody_receives(ctx, result)
    repeats = [] if ctx.param("confirm_duplicate") else duplicates(ctx, result.objects)
    if nobody or repeats:
        # Asked first, stored nothing: the form comes back with a box to tick for each warning.
        return ctx.render(
            "publish.html",
            status=409,
            result=result,
            outcomes=None,
            error=None,
            **{**common, "nobody": nobody, "repeats": repeats},
        )
    target = next(c for c in ctx.node.collections() if c.kind == "items")
    check = user_may_publish(ctx.world(), ctx.node.party, ctx.person(), ctx.node.today())
    outcomes = publishing.store_objects(
        ctx.node.store,
        target,
        result.objects,
        Writer.of(ctx.user, ctx.node.view(ctx.user).rows, ctx.node.party),
        check,
    )
    stored = [o for o in outcomes if o.ok and not o.id.startswith("marking-definition--")]
    failed = [o for o in outcomes if not o.ok]
    if len(stored) == 1 and not failed:
        return ctx.redirect(f"/items/{stored[0].id}?published=1")
    return ctx.render(
        "publish.html",
        status=200 if not failed else 422,
        result=result,
        outcomes=outcomes,
        error=None,
        **common,
    )
