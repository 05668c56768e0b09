"""The audit trail: the chain's verification, the latest records, and "who has my item?".

`/audit` verifies the hash chain from the last signed checkpoint
(`accord.audit.checkpoints.verify_recent`) and lists the records a page at a time, newest first
(`?kind=` keeps one kind, `?before=SEQ` pages back). Records name the objects they are about;
an object the signed-in user may not see (R9) is never named: its id is replaced by a placeholder,
and so is the id of a marking outside the user's view. `/audit/disclosures?item=ID` lists every
release of an item the user may see (404 for any other, as if it did not exist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from starlette.responses import Response

from accord.audit import checkpoints
from accord.audit import log as audit
from accord.errors import InputError
from accord.exchange import repository as repo
from accord.store.audit_schema import audit_log
from accord.store.exchange_schema import objects
from accord.web.items import find_item
from accord.web.pages import Ctx, page

HIDDEN = "(withheld: an item you may not see)"
HIDDEN_MARKING = "(withheld: a marking you may not see)"
_STIX_ID = re.compile(
    r"\b[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


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


def hidden_ids(ctx: Ctx, texts: list[str]) -> set[str]:
    """Returns the STIX ids in `texts` the user may not see: stored objects none of whose
    versions carries a marking in the user's view, and markings outside it."""
    ids = {m.group(0) for t in texts for m in _STIX_ID.finditer(t)}
    if not ids:
        return set()
    view = ctx.node.view(ctx.user)
    index = repo.marking_index(ctx.node.store)
    hidden = {
        i
        for i in ids
        if i.startswith("marking-definition--")
        and i in index.rows
        and index.rows[i] not in view.rows
    }
    wanted = sorted(i for i in ids if not i.startswith("marking-definition--"))
    seen: dict[str, bool] = {}
    with ctx.node.store.read() as conn:
        for k in range(0, len(wanted), 500):
            chunk = wanted[k : k + 500]
            for sid, mrow in conn.execute(
                sa.select(objects.c.stix_id, objects.c.marking).where(objects.c.stix_id.in_(chunk))
            ):
                seen[sid] = seen.get(sid, False) or mrow in view.rows
    hidden.update(sid for sid, ok in seen.items() if not ok)
    return hidden


def redact(text: str, hidden: set[str]) -> str:
    """Returns `text` with every hidden id replaced by a placeholder."""
    if not hidden:
        return text

    def swap(m: re.Match[str]) -> str:
        i = m.group(0)
        if i not in hidden:
            return i
        return HIDDEN_MARKING if i.startswith("marking-definition--") else HIDDEN

    return _STIX_ID.sub(swap, text)


def _before(ctx: Ctx) -> int | None:
    text = ctx.param("before")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InputError(f"before: {text[:40]!r} is not a record number")
    return int(text)


@page
def audit_page(ctx: Ctx) -> Response:
    """The chain's verdict since the last signed checkpoint (`checkpoints.verify_recent`) and one
    page of records, newest first (optionally of one `kind`; `?before=SEQ` pages back by record
    number). A visit costs the records appended since the last checkpoint and one page, never
    the whole log (docs/security.md, "Bounded cost of hostile input")."""
    kind = ctx.param("kind")
    before = _before(ctx)
    limits = ctx.node.config.limits
    recent = checkpoints.verify_recent(ctx.node.store, limits.audit_checkpoint_every)
    size = limits.audit_page_size
    q = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(size + 1)
    if kind:
        q = q.where(audit_log.c.kind == kind)
    if before is not None:
        q = q.where(audit_log.c.seq < before)
    with ctx.node.store.read() as conn:
        rows = [r._mapping for r in conn.execute(q)]
    older = int(rows[size - 1]["seq"]) if len(rows) > size else None
    rows = rows[:size]
    texts = [
        orjson.dumps(
            orjson.loads(r["body"]), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        ).decode()
        for r in rows
    ]
    hidden = hidden_ids(ctx, [*texts, *(str(r["subject"]) for r in rows)])
    records = [
        Record(
            int(r["seq"]),
            datetime.fromtimestamp(int(r["at"]) / 1_000_000, UTC),
            str(r["kind"]),
            str(r["actor"]),
            redact(str(r["subject"]), hidden),
            redact(text, hidden),
            str(r["hash"]),
        )
        for r, text in zip(rows, texts, strict=True)
    ]
    return ctx.render(
        "audit.html",
        section="audit",
        verdict=recent.verdict,
        since=recent.since,
        records=records,
        kinds=audit.KINDS,
        kind=kind,
        before=before,
        older=older,
    )


@page
def disclosures_page(ctx: Ctx) -> Response:
    """Every release of `?item=` (an item the user may see), oldest first."""
    item_id = ctx.param("item")
    item = find_item(ctx, item_id) if item_id else None
    rows = audit.disclosures(ctx.node.store, item_id) if item else []
    # Only versions under a marking the user may see (another version may carry another one).
    view = ctx.node.view(ctx.user)
    index = repo.marking_index(ctx.node.store)
    rows = [r for r in rows if index.rows.get(str(r["marking"])) in view.rows]
    for r in rows:
        r["when"] = datetime.fromtimestamp(int(r["at"]) / 1_000_000, UTC)
    return ctx.render("disclosures.html", section="audit", item=item, item_id=item_id, rows=rows)
