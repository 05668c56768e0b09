"""Release markings as MISP tags, and back (docs/misp.md, "Tags").

A release marking travels to MISP as the machine tags of the `accord` taxonomy, one fact a tag:

    accord:originator="KOR"   accord:level="II"     accord:topic="dprk-missile" (one per topic)
    accord:purpose="defence"  accord:rel-to="USA" (one per party; `accord:rel-to=""` for REL TO
    nobody)                   accord:noforn         accord:orcon

plus one TLP tag a MISP user reads at a glance, chosen from the marking (`tlp_for`). Need-to-know
groups are the node's own compartments and never become tags (`accord.exchange.abroad`).
`marking_tags` and `parse_marking` are inverse: every marking without groups comes back equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from accord.errors import InputError
from accord.policy.marking import DEFAULT_PURPOSE, Marking

NAMESPACE = "accord"

#: TLP 2.0 names from least to most restrictive; `tlp:white` (TLP 1.0) is read as `tlp:clear`.
TLP_ORDER = ("tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red")
TLP_ALIASES = {"tlp:white": "tlp:clear"}

#: The unclassified level every scheme ends with (accord.registry.model.Party).
UNCLASSIFIED = "U"

_VALUED = ("originator", "level", "topic", "purpose", "rel-to")
_FLAGS = ("noforn", "orcon")
_TAG = re.compile(r'^accord:([a-z-]+)(?:="([^"]*)")?$')


def tlp_for(m: Marking) -> str:
    """Returns the TLP tag of a release marking: `tlp:red` for any classified level (the
    recipient's people may not pass it on: it is held under the receiver's security law),
    `tlp:amber` for unclassified information with a REL TO list, NOFORN or ORCON (the receiving
    organisation only), `tlp:green` for unclassified information without restriction (the
    receiver's community, never public). accord never releases anything as `tlp:clear`: nothing
    given under an agreement is public."""
    if m.level != UNCLASSIFIED:
        return "tlp:red"
    if m.rel_to is not None or m.noforn or m.orcon:
        return "tlp:amber"
    return "tlp:green"


def strictest(tags: Iterable[str]) -> str | None:
    """Returns the most restrictive TLP tag among `tags` (TLP 1.0 white read as clear), None
    when there is none."""
    found = [normal_tlp(t) for t in tags]
    ranked = [TLP_ORDER.index(t) for t in found if t is not None]
    return TLP_ORDER[max(ranked)] if ranked else None


def normal_tlp(tag: str) -> str | None:
    """Returns `tag` as a TLP 2.0 tag (`tlp:white` → `tlp:clear`), None when it is no TLP tag."""
    name = tag.strip().lower()
    name = TLP_ALIASES.get(name, name)
    return name if name in TLP_ORDER else None


def _quoted(predicate: str, value: str) -> str:
    if '"' in value:
        raise InputError(f"accord:{predicate}: a value may not contain a double quote")
    return f'{NAMESPACE}:{predicate}="{value}"'


def marking_tags(m: Marking) -> list[str]:
    """Returns the accord taxonomy tags of `m` (groups never: they do not leave the node), in a
    stable order."""
    tags = [
        _quoted("originator", m.originator),
        _quoted("level", m.level),
        *(_quoted("topic", t) for t in sorted(m.topics)),
        _quoted("purpose", m.purpose),
    ]
    if m.rel_to is not None:
        tags.extend(_quoted("rel-to", p) for p in sorted(m.rel_to or [""]))
    if m.noforn:
        tags.append(f"{NAMESPACE}:noforn")
    if m.orcon:
        tags.append(f"{NAMESPACE}:orcon")
    return tags


def is_accord_tag(tag: str) -> bool:
    """Returns whether `tag` belongs to the accord taxonomy (`accord:…`)."""
    return tag.strip().lower().startswith(NAMESPACE + ":")


def parse_marking(tags: Iterable[str], where: str = "") -> Marking | None:
    """Returns the release marking the accord taxonomy tags among `tags` describe, None when
    there is none. Tags of other taxonomies are ignored. InputError (naming `where`) for a
    malformed accord tag, an unknown predicate, a repeated originator, level or purpose, or
    accord tags without an originator and a level."""
    prefix = f"{where}: " if where else ""
    values: dict[str, list[str]] = {k: [] for k in _VALUED}
    flags: set[str] = set()
    seen = False
    for raw in tags:
        tag = raw.strip()
        if not is_accord_tag(tag):
            continue
        seen = True
        found = _TAG.match(tag)
        if found is None:
            raise InputError(f'{prefix}{tag[:80]!r} is not an accord tag (accord:name="value")')
        predicate, value = found.group(1), found.group(2)
        if predicate in _FLAGS and value is None:
            flags.add(predicate)
        elif predicate in _VALUED and value is not None:
            values[predicate].append(value)
        else:
            raise InputError(f"{prefix}{tag[:80]!r}: unknown accord tag")
    if not seen:
        return None
    for single in ("originator", "level", "purpose"):
        if len(values[single]) > 1:
            raise InputError(f"{prefix}more than one accord:{single} tag")
    if not values["originator"] or not values["level"]:
        raise InputError(f"{prefix}accord tags need accord:originator and accord:level")
    rel = values["rel-to"]
    if "" in rel and len(rel) > 1:
        raise InputError(f'{prefix}accord:rel-to="" (REL TO nobody) stands alone')
    return Marking.of(
        values["originator"][0].strip().upper(),
        values["level"][0].strip(),
        [t.strip().lower() for t in values["topic"]],
        rel_to=None if not rel else [p.strip().upper() for p in rel if p],
        noforn="noforn" in flags,
        orcon="orcon" in flags,
        purpose=values["purpose"][0] if values["purpose"] else DEFAULT_PURPOSE,
    )
