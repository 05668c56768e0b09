"""Publishing: the one service every surface stores items through (PRODUCT.md §7).

TAXII Add Objects, `accord publish`, the web publish page, federation pull and a new node's sample
items all call `store_objects`: the writer's authority decides where each object goes
(`accord.exchange.authority`, inside `ingest.add_objects`), and the receipt and refusals are
recorded in the audit trail with the writer as actor, in the same transaction as the objects.
`draft` is the step before it that the CLI, the web page and the API preview share: which release
marking each object will carry, grouped by marking, ready for a release preview.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from accord.errors import InputError
from accord.exchange import foreign
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection
from accord.exchange.ingest import Outcome, Prepared, PublishCheck, add_objects
from accord.exchange.marking_rows import MarkingIndex
from accord.exchange.releases import record_ingest
from accord.exchange.signatures import Vouched
from accord.exchange.stix import check_object
from accord.policy.marking import Marking
from accord.store import Store


@dataclass
class Draft:
    """Objects ready to publish: every object carries one release marking (marking-definitions
    first), `groups` maps each marking id to its marking and the ids of the objects under it, and
    `problems` names what would stop a publish."""

    objects: list[Any] = field(default_factory=list)
    groups: dict[str, tuple[Marking, list[str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unmarked: list[str] = field(default_factory=list)  # ids of objects with no release marking


def draft(
    index: MarkingIndex,
    posted: Sequence[Any],
    default: Marking | None,
    visible: frozenset[int] | None = None,
) -> Draft:
    """Returns `posted` with `default` given to every object that names no release marking (the
    marking's definition added first), grouped by release marking. An object naming a stored or
    an inline release marking keeps it. Without a default, an object with none is `unmarked`.
    With `visible` (a user's view), a stored marking outside it counts as none: the draft must
    not show a user a marking it may not read, nor tell it that one exists."""
    rows = index.rows if visible is None else {k: v for k, v in index.rows.items() if v in visible}
    # The release markings the envelope defines; its other definitions (TLP, statements) are
    # kept beside them (accord.exchange.foreign).
    inline: dict[str, Marking] = {}
    for o in posted:
        if isinstance(o, dict) and o.get("type") == "marking-definition" and "id" in o:
            try:
                m = mk.from_definition(o)
            except InputError:
                m = None  # malformed: storing reports it
            if m is not None:
                inline[str(o["id"])] = m
    out = Draft()
    for obj in posted:
        if not isinstance(obj, dict):
            out.problems.append("every object must be a JSON object")
            out.objects.append(obj)  # storing reports it as a failure of its own
            continue
        if obj.get("type") == "marking-definition" and (
            obj.get("id") in inline or foreign.tlp_name(str(obj.get("id"))) is not None
        ):
            out.objects.append(obj)
            continue
        why = check_object(obj)
        if why is not None:
            out.problems.append(f"{str(obj.get('id', '(no id)'))[:160]}: {why}")
        given = obj.get("object_marking_refs")
        refs = [r for r in given if r in rows or r in inline] if isinstance(given, list) else []
        # An ACS 3.0 marking beside accord's own restates it; accord's decides (ingest).
        accord_refs = [r for r in refs if r == mk.marking_id(_marking(r, rows, index, inline))]
        own: Marking | None = None
        if refs:
            ref = accord_refs[0] if len(accord_refs) == 1 else refs[0]
            own = _marking(ref, rows, index, inline)
        if own is None:
            if default is None:
                out.unmarked.append(str(obj.get("id", "(no id)"))[:160])
                continue
            own = default
            obj = {**obj, "object_marking_refs": [*(given or []), mk.marking_id(default)]}
        out.groups.setdefault(mk.marking_id(own), (own, []))[1].append(str(obj.get("id")))
        out.objects.append(obj)
    if default is not None:
        ref = mk.marking_id(default)
        if ref in out.groups and ref not in inline:
            out.objects.insert(0, mk.marking_definition(default))
    if not out.groups and not out.problems and not out.unmarked:
        out.problems.append("nothing to publish: no object other than marking-definitions")
    return out


def _marking(
    ref: str, rows: dict[str, int], index: MarkingIndex, inline: dict[str, Marking]
) -> Marking:
    return index.by_row[rows[ref]] if ref in rows else inline[ref]


def store_objects(
    store: Store,
    collection: Collection,
    posted: Sequence[Any] | Prepared,
    writer: Writer,
    may_publish: PublishCheck,
    then: Callable[[sa.Connection, list[Outcome]], None] | None = None,
    markings_top: int | None = None,
    raw: bytes | None = None,
    vouched: Vouched | None = None,
) -> list[Outcome]:
    """Stores an envelope as `writer` (`ingest.add_objects`) and records its receipt and
    refusals in the audit trail, with the writer as actor, in the same transaction; `then` runs
    there too (a TAXII status resource, a federation cursor). `raw`, the envelope's body when
    there is one, names it in the refusal record (its size and SHA-256). Returns one outcome per
    object. `vouched`: the provenance an exchange verified on earlier pages
    (`signatures.Verifier`)."""

    def record(conn: sa.Connection, outcomes: list[Outcome]) -> None:
        record_ingest(conn, writer, collection.id, outcomes, raw)
        if then is not None:
            then(conn, outcomes)

    return add_objects(
        store,
        collection,
        posted,
        writer,
        may_publish,
        then=record,
        markings_top=markings_top,
        vouched=vouched,
    )
