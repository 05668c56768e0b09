"""What leaves the node: items as a partner receives them, without national-only metadata.

Need-to-know groups are the node's own compartments (GSOMIA Art. 7: access "under the receiver's
law"): their names tell a partner how the node organises its work and are of no use to it, so they
never leave the node (PRODUCT.md §7; docs/security.md, "National-only metadata"). A release marking
that names groups goes abroad in its **partner form**: the same marking without groups, under the
id derived from that content (`markings.marking_id`), so that the receiver can check the id against
the content as it does for every accord marking. Everything served to a partner — the objects of
a TAXII page (TAXII reads, federation push), their manifest entries and the marking-definitions a
push carries — passes through here.

Stored bodies are spliced, not re-serialised (docs/architecture.md, "Read as a partner"): an object
under a grouped marking has the marking's id replaced in its JSON text (ids are plain ASCII, so the
replacement is exact), and a stored marking-definition with groups is served in its place as its
partner form (by its national id it is absent, as any id the partner may not see; by the partner
form's id it is found). Objects under markings without groups, the vast majority, are passed
through as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from accord.exchange import markings as mk
from accord.exchange.marking_rows import MarkingIndex
from accord.exchange.queries import Row


@dataclass(frozen=True)
class Form:
    """A grouped marking's originator, national id (text and bytes) and partner form: id and
    definition (JSON bytes)."""

    originator: str
    national: bytes
    partner: bytes
    definition: bytes
    national_id: str = ""


_forms: dict[tuple[str, int], dict[int, Form]] = {}


def forms(scope: str, index: MarkingIndex) -> dict[int, Form]:
    """Returns the partner form of every stored marking that names groups, by marking row;
    cached per store (`scope`) and marking index version."""
    key = (scope, index.version)
    found = _forms.get(key)
    if found is None:
        found = {}
        for row, m in index.by_row.items():
            if not m.groups:
                continue
            plain = m.without_groups()
            found[row] = Form(
                m.originator,
                index.stix_ids[row].encode(),
                mk.marking_id(plain).encode(),
                orjson.dumps(mk.marking_definition(plain)),
                index.stix_ids[row],
            )
        if len(_forms) > 16:
            _forms.clear()
        _forms[key] = found
    return found


def partner_rows(rows: Sequence[Row], grouped: dict[int, Form], party: str) -> list[Row]:
    """Returns `rows` as the partner `party` receives them: an object under a grouped marking
    names the marking's partner form, and a stored grouped marking-definition is served as its
    partner form, once per page (several national markings may share one). The partner's own
    markings come back to it as it sent them: they are its own information, not this node's."""
    if not grouped:
        return list(rows)
    out: list[Row] = []
    sent: set[str] = set()  # the marking-definitions of this page, by the id served
    for r in rows:
        form = grouped.get(r.marking)
        if form is not None and form.originator != party:
            if r.stix_id.encode() == form.national:
                r = r._replace(stix_id=form.partner.decode(), body=form.definition)
            else:
                r = r._replace(body=r.body.replace(form.national, form.partner))
        if r.stix_id.startswith("marking-definition--"):
            if r.stix_id in sent:
                continue  # the same definition (content and id) is in this page already
            sent.add(r.stix_id)
        out.append(r)
    return out


_DEFINITION = "marking-definition--"


def partner_bodies(rows: Sequence[Row], grouped: dict[int, Form], party: str) -> list[bytes]:
    """Returns the JSON of `rows` as the partner `party` receives them (`partner_rows`, the bodies
    alone): the read path's page, at a fraction of a microsecond a row."""
    if not grouped:
        return [r.body for r in rows]
    get = grouped.get
    out: list[bytes] = []
    sent: set[str] = set()
    for r in rows:
        form = get(r.marking)
        sid = r.stix_id
        if form is not None and form.originator != party:
            if sid == form.national_id:
                partner = form.partner.decode()
                if partner not in sent:
                    sent.add(partner)
                    out.append(form.definition)
                continue
            out.append(r.body.replace(form.national, form.partner))
        elif sid.startswith(_DEFINITION):
            if sid not in sent:
                sent.add(sid)
                out.append(r.body)
        else:
            out.append(r.body)
    return out


def lookup(object_id: str, grouped: dict[int, Form], party: str) -> tuple[str, ...] | None:
    """Returns the stored ids a partner's request for `object_id` reads: for the id of a partner
    form, the national marking-definitions that share it; for a national one, none (to the
    partner it does not exist, as any id it may not see); None for every other id (itself)."""
    wanted = object_id.encode()
    national = tuple(
        f.national.decode()
        for f in grouped.values()
        if f.partner == wanted and f.originator != party
    )
    if national:
        return national
    if any(f.national == wanted and f.originator != party for f in grouped.values()):
        return ()
    return None


def partner_definitions(rows: set[int], index: MarkingIndex, stored: list[str]) -> list[str]:
    """Returns the marking-definitions (`stored`, JSON text of the marking rows `rows`) as a
    partner receives them: each grouped one replaced by its partner form."""
    grouped = {index.stix_ids[r] for r in rows if r in index.by_row and index.by_row[r].groups}
    if not grouped:
        return stored
    out: list[str] = []
    for text in stored:
        oid = orjson.loads(text).get("id")
        if oid in grouped:
            m = index.by_row[index.rows[oid]]
            out.append(orjson.dumps(mk.marking_definition(m.without_groups())).decode())
        else:
            out.append(text)
    return out
