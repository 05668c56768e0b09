"""The auditor's release reports: what left the node, searched by item name, party and period.

`/audit/releases` answers "who received what, and when?" over the audit trail's release records
(PRODUCT.md §1: the auditor "proves what left the country, to whom, when"): filtered by the
item's name (`q`, among the items the auditor may see), by the receiving party (`party`) and by
a period (`from`, `to`, UTC dates, both included). `format=csv` downloads the same rows, `format=print` gives a
printable page of the same report. Only users holding the auditor role reach it (403 otherwise),
as on the management API (`GET /api/v1/audit/...`).

What an auditor sees is decided by the audit trail's one redaction rule
(`accord.exchange.redaction.releases`, the same code as "who has my item?"): a release is listed
only when the auditor's clearance and need-to-know groups cover both the item and the marking it
was released under, so neither the page nor the CSV shows anything about an item outside its view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.responses import Response

from accord import i18n
from accord.errors import Forbidden
from accord.exchange import redaction
from accord.exchange.reading import visible_items
from accord.i18n import _
from accord.web.csvout import csv_response
from accord.web.items import reader
from accord.web.pages import Ctx, page, query_string

AUDITOR = "auditor"
#: At most this many releases are listed; a narrower period or party shows the rest.
REPORT_LIMIT = 2000
#: At most this many items match a name search.
NAME_MATCHES = 500

CSV_HEADER = (
    "when_utc", "party", "party_name", "item_id", "item_name", "item_type", "version",
    "marked_there_as", "basis", "route", "channel", "principal", "transmissions", "record",
    "receipt_at_utc", "receipt_verified",
)  # fmt: skip


@dataclass(frozen=True)
class Query:
    """A report's criteria as given, and the problems found in them (field → message)."""

    q: str
    party: str
    start: date | None
    end: date | None
    problems: dict[str, str]

    @property
    def given(self) -> bool:
        return bool(self.q or self.party or self.start or self.end)


def require_auditor(ctx: Ctx) -> None:
    """Raises Forbidden unless the signed-in user holds the auditor role (from the session's
    credential, never from a form field)."""
    if AUDITOR not in ctx.user.roles:
        raise Forbidden(_("Release reports are for users with the auditor role."))


def _date(ctx: Ctx, name: str, problems: dict[str, str]) -> date | None:
    text = ctx.param(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems[name] = _("%(value)s is not a date: write it as YYYY-MM-DD.") % {
            "value": repr(text[:40])
        }
        return None


def read_query(ctx: Ctx) -> Query:
    """Returns the report's criteria with every problem in them at once."""
    problems: dict[str, str] = {}
    party = ctx.param("party").upper()
    if party and party not in ctx.world().parties:
        problems["party"] = _("%(value)s is not a party of the registry.") % {
            "value": repr(party[:40])
        }
    start, end = _date(ctx, "from", problems), _date(ctx, "to", problems)
    if start and end and end < start:
        problems["to"] = _("The end of the period is before its start.")
    return Query(ctx.param("q")[:200], party, start, end, problems)


def _micros(d: date) -> int:
    return int(datetime.combine(d, time(), UTC).timestamp() * 1_000_000)


def _when(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def report_rows(ctx: Ctx, query: Query) -> tuple[list[dict[str, Any]], bool]:
    """Returns the releases matching `query` as the signed-in user may see them, oldest first,
    each with the item's name and type and the party's name, and whether more matched."""
    r = reader(ctx)
    ids: tuple[str, ...] | None = None
    if query.q:
        named, _more = visible_items(r, text=query.q, limit=NAME_MATCHES)
        ids = tuple(sorted({i.id for i in named}))
    rows, more = redaction.releases(
        ctx.node.store,
        ctx.node.view(ctx.user),
        party=query.party or None,
        since=_micros(query.start) if query.start else None,
        until=_micros(query.end + timedelta(days=1)) if query.end else None,
        item_ids=ids,
        limit=REPORT_LIMIT,
    )
    shown = {i.id: i for i in visible_items(r, ids=tuple(sorted({x["item"] for x in rows})))[0]}
    # Signed provenance notes travel with the items but are not items a person reads (the
    # items list leaves them out too): a note no listing resolves is one of them.
    rows = [x for x in rows if x["item"] in shown or not str(x["item"]).startswith("note--")]
    world = ctx.world()
    for x in rows:
        item = shown.get(x["item"])
        x["name"] = item.name if item else x["item"]
        x["type"] = item.type if item else str(x["item"]).split("--")[0]
        x["when"] = _when(int(x["at"]))
        p = world.parties.get(str(x["party"]))
        x["party_name"] = i18n.party_name(p.code, p.name) if p else str(x["party"])
        got = x.get("receipt")
        x["receipt_when"] = None if got is None else _when(int(got["at"]))
    return rows, more


def _csv(query: Query, rows: list[dict[str, Any]]) -> Response:
    name = "releases" + "".join(f"-{v}" for v in (query.party, query.start, query.end) if v)
    return csv_response(
        f"{name}.csv",
        CSV_HEADER,
        (
            (
                x["when"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                x["party"],
                x["party_name"],
                x["item"],
                x["name"],
                x["type"],
                x["version"],
                x["level"] or "",
                " ".join(x["basis"]),
                " > ".join(x["route"]),
                x["channel"],
                x["principal"],
                x["transmissions"],
                x["seq"],
                x["receipt_when"].strftime("%Y-%m-%dT%H:%M:%SZ") if x["receipt_when"] else "",
                "" if x["receipt"] is None else ("yes" if x["receipt"]["verified"] else "no"),
            )  # fmt: skip
            for x in rows
        ),
    )


@page
def releases_page(ctx: Ctx) -> Response:
    """The report form and, once criteria are given, the releases they select: on the page, as
    CSV (`format=csv`) or as a printable page (`format=print`). Problems in the criteria are
    shown next to their fields, all at once (400), and nothing is searched."""
    require_auditor(ctx)
    query = read_query(ctx)
    fmt = ctx.param("format")
    world = ctx.world()
    parties = sorted(
        ((c, i18n.party_name(c, p.name)) for c, p in world.parties.items() if c != ctx.node.party),
        key=lambda cp: cp[1],
    )
    rows: list[dict[str, Any]] = []
    more = False
    if query.given and not query.problems:
        rows, more = report_rows(ctx, query)
        if fmt == "csv":
            return _csv(query, rows)
    raw = {k: ctx.param(k) for k in ("q", "party", "from", "to")}
    report_party = dict(parties).get(query.party, query.party)
    return ctx.render(
        "report_print.html" if fmt == "print" and not query.problems else "releases.html",
        status=400 if query.problems else 200,
        section="audit",
        query=query,
        parties=parties,
        report_party=report_party,
        rows=rows,
        more=more,
        items=len({x["item"] for x in rows}),
        unreceipted=sum(1 for x in rows if x["receipt"] is None),
        limit=REPORT_LIMIT,
        generated=datetime.now(UTC),
        raw=raw,
        qs=query_string(raw),
    )
