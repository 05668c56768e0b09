"""The audit trail: the chain's verification, the latest records, and "who has my item?".

`/audit` verifies the hash chain from the last signed checkpoint
(`accord.audit.checkpoints.verify_recent`) and lists the records a page at a time, newest first
(`?kind=` keeps one kind, `?before=SEQ` pages back). What the signed-in user sees of each record
is decided by the audit trail's one redaction rule (`accord.exchange.redaction`), the same as on the
management API: ids of items and markings outside the user's view are withheld alike whether or
not anything has that id. `/audit/disclosures?item=ID` lists the releases of an item the user may
see, under markings in its view (404 for any other id, as if it did not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from starlette.responses import Response

from accord.audit import checkpoints
from accord.audit import log as audit
from accord.errors import InputError
from accord.exchange import redaction
from accord.exchange.reading import Item, visible_items
from accord.i18n import N_, _
from accord.web.items import find_item, reader
from accord.web.pages import Ctx, page

HIDDEN = redaction.HIDDEN
HIDDEN_MARKING = redaction.HIDDEN_MARKING

#: The words shown for the audit trail's record kinds (the kind itself stays the code).
KIND_LABELS = {
    "release": N_("release"),
    "receipt": N_("receipt"),
    "refusal": N_("refusal"),
    "registry-change": N_("registry change"),
    "consent": N_("consent"),
    "credential": N_("credential"),
    "reclassification": N_("reclassification"),
    "destruction": N_("destruction"),
    "compromise": N_("compromise"),
    "sync": N_("sync"),
    "polyinstance": N_("polyinstance"),
    "restore": N_("restore"),
    "order-step": N_("order step"),
}


def kind_label(kind: str) -> str:
    """Returns an audit record kind in the reader's language (an unknown kind as it is)."""
    text = KIND_LABELS.get(kind)
    return _(text) if text is not None else kind


@dataclass(frozen=True)
class Record:
    """One audit record as shown: sequence, time, kind, actor, subject and body (redacted)."""

    seq: int
    at: datetime
    kind: str
    actor: str
    subject: str
    body: str
    hash: str


def _before(ctx: Ctx) -> int | None:
    text = ctx.param("before")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InputError(_("before: %(value)s is not a record number") % {"value": repr(text[:40])})
    return int(text)


@page
def audit_page(ctx: Ctx) -> Response:
    """The chain's verdict since the last signed checkpoint (`checkpoints.verify_recent`) and one
    page of records, newest first (optionally of one `kind`; `?before=SEQ` pages back by record
    number), as the user may see them (`accord.exchange.redaction`). A visit costs the records
    appended since the last checkpoint and one page, never the whole log (docs/security.md,
    "Bounded cost of hostile input")."""
    kind = ctx.param("kind")
    before = _before(ctx)
    limits = ctx.node.config.limits
    recent = checkpoints.verify_recent(ctx.node.store, limits.audit_checkpoint_every)
    size = limits.audit_page_size
    shown, more = redaction.records(
        ctx.node.store, ctx.node.view(ctx.user), size, before=before, kind=kind, newest_first=True
    )
    older = shown[-1].seq if more and shown else None
    records = [
        Record(
            r.seq,
            datetime.fromtimestamp(r.at / 1_000_000, UTC),
            r.kind,
            r.actor,
            r.subject,
            orjson.dumps(r.body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(),
            r.hash,
        )
        for r in shown
    ]
    return ctx.render(
        "audit.html",
        section="audit",
        verdict=recent.verdict,
        since=recent.since,
        records=records,
        kinds=audit.KINDS,
        kind_words={k: kind_label(k) for k in audit.KINDS},
        kind=kind,
        before=before,
        older=older,
    )


#: At most this many items are offered when the disclosures are asked by name.
NAME_CHOICES = 20


@page
def disclosures_page(ctx: Ctx) -> Response:
    """Every release of `?item=` (an item the user may see) under a marking in the user's view,
    oldest first. `item` may be a STIX id or words of the item's name, description or pattern:
    words matching one item the user may see show its releases; matching several, the page
    offers them to choose from (never an item the user may not see)."""
    item_id = ctx.param("item")
    item: Item | None = None
    choices: list[Item] = []
    more = False
    if item_id and redaction.STIX_ID.fullmatch(item_id):
        item = find_item(ctx, item_id)  # NotFound (404) for an id the user may not see
    elif item_id:
        choices, more = visible_items(reader(ctx), text=item_id[:200], limit=NAME_CHOICES)
        if len(choices) == 1 and not more:
            item, choices = choices[0], []
    rows = redaction.disclosures(ctx.node.store, ctx.node.view(ctx.user), item.id) if item else []
    for r in rows:
        r["when"] = datetime.fromtimestamp(int(r["at"]) / 1_000_000, UTC)
        got = r.get("receipt")
        r["receipt_when"] = (
            None if got is None else datetime.fromtimestamp(int(got["at"]) / 1_000_000, UTC)
        )
    return ctx.render(
        "disclosures.html",
        section="audit",
        item=item,
        item_id=ctx.param("item"),
        rows=rows,
        choices=choices,
        more=more,
    )
