"""The audit trail: the chain's verification, the latest records, and "who has my item?".

`/audit` verifies the hash chain from the first record (`accord.audit.log.verify`) and lists the
latest records, newest first (`?kind=` keeps one kind). What the signed-in user sees of each record
is decided by the audit trail's one redaction rule (`accord.audit.redaction`), the same as on the
management API: ids of items and markings outside the user's view are withheld alike whether or
not anything has that id. `/audit/disclosures?item=ID` lists the releases of an item the user may
see, under markings in its view (404 for any other id, as if it did not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from starlette.responses import Response

from accord.audit import log as audit
from accord.audit import redaction
from accord.store.audit_schema import audit_log
from accord.web.items import find_item
from accord.web.pages import Ctx, page

RECENT = 50
HIDDEN = redaction.HIDDEN
HIDDEN_MARKING = redaction.HIDDEN_MARKING


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


@page
def audit_page(ctx: Ctx) -> Response:
    """The chain's verdict and the latest records (optionally of one `kind`), as the user may
    see them (`accord.audit.redaction`)."""
    kind = ctx.param("kind")
    verdict = audit.verify(ctx.node.store)
    q = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(RECENT)
    if kind:
        q = q.where(audit_log.c.kind == kind)
    with ctx.node.store.read() as conn:
        rows = [r._mapping for r in conn.execute(q)]
    bodies = [orjson.loads(r["body"]) for r in rows]
    ids = redaction.ids_in([*bodies, *(str(r["subject"]) for r in rows)])
    sight = redaction.sight(ctx.node.store, ctx.node.view(ctx.user), ids)
    records = []
    for r, body in zip(rows, bodies, strict=True):
        subject, shown = redaction.redact_record(str(r["kind"]), str(r["subject"]), body, sight)
        records.append(
            Record(
                int(r["seq"]),
                datetime.fromtimestamp(int(r["at"]) / 1_000_000, UTC),
                str(r["kind"]),
                str(r["actor"]),
                subject,
                orjson.dumps(shown, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(),
                str(r["hash"]),
            )
        )
    return ctx.render(
        "audit.html",
        section="audit",
        verdict=verdict,
        records=records,
        kinds=audit.KINDS,
        kind=kind,
    )


@page
def disclosures_page(ctx: Ctx) -> Response:
    """Every release of `?item=` (an item the user may see) under a marking in the user's view,
    oldest first."""
    item_id = ctx.param("item")
    item = find_item(ctx, item_id) if item_id else None
    rows = redaction.disclosures(ctx.node.store, ctx.node.view(ctx.user), item_id) if item else []
    for r in rows:
        r["when"] = datetime.fromtimestamp(int(r["at"]) / 1_000_000, UTC)
    return ctx.render("disclosures.html", section="audit", item=item, item_id=item_id, rows=rows)
