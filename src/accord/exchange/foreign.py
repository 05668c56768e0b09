"""Markings that are not accord's: TLP 1.0 and 2.0, statements, and the table that maps them to
release markings for content from tools that mint none.

A node decides releases on accord release markings only (PRODUCT.md §7). Other markings on an
object are kept on it, beside the release marking (a copyright statement must travel with the
content, STIX 2.1 §7.2.1.3), but they never release anything by themselves:

- **TLP** definitions are predefined objects (STIX 2.1 §7.2.1.4 for TLP 1.0; the TLP 2.0
  extension `extension-definition--60a3c5c5-…` pins its five id/name pairs). Posted inline they
  are recognised, not stored: every reader knows them. A posted definition under a TLP id with
  other content is refused.
- **Statements** and every other definition without a release marking are stored as ordinary
  objects, under a release marking like any item (`accord.exchange.ingest`).

Content from a peer that is not an accord node carries TLP, statement or ACS markings and no
accord one. A `MarkingMap` says which release marking each foreign marking becomes
(`accord peer add --map "TLP:GREEN=USA U general-military"`, or the settings file's
`[foreign_markings]` table); `apply` adds that marking beside the foreign ones, and content that is
unmarked, or marked only with markings the table does not name, is refused and reported, never
released by default. ACS 3.0 markings map without a table (`accord.exchange.markings`).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.errors import InputError
from accord.exchange import markings as mk
from accord.policy.marking import Marking

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

#: TLP 1.0 (STIX 2.1 §7.2.1.4): id → name.
TLP1: dict[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "TLP:WHITE",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "TLP:GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "TLP:AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "TLP:RED",
}
#: TLP 2.0 (the extension's schema pins these pairs): id → name.
TLP2: dict[str, str] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "TLP:CLEAR",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "TLP:GREEN",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "TLP:AMBER",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "TLP:AMBER+STRICT",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "TLP:RED",
}
TLP_NAMES = frozenset({*TLP1.values(), *TLP2.values()})
# TLP 2.0 renamed WHITE to CLEAR: a table naming either maps both.
_SYNONYMS = {"TLP:WHITE": "TLP:CLEAR", "TLP:CLEAR": "TLP:WHITE"}


def tlp_name(ref: str) -> str | None:
    """Returns the TLP name of a predefined TLP marking-definition id, None for any other id."""
    return TLP1.get(ref) or TLP2.get(ref)


def tlp_definition(ref: str) -> dict[str, Any] | None:
    """Returns the predefined TLP marking-definition with id `ref` (as STIX 2.1 §7.2.1.4 and the
    TLP 2.0 extension define it), None for any other id."""
    if ref in TLP1:
        colour = TLP1[ref].removeprefix("TLP:").lower()
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": ref,
            "created": "2017-01-20T00:00:00.000Z",
            "definition_type": "tlp",
            "name": TLP1[ref],
            "definition": {"tlp": colour},
        }
    if ref in TLP2:
        return {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": ref,
            "created": "2022-10-01T00:00:00.000Z",
            "name": TLP2[ref],
            "extensions": {
                TLP2_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": TLP2[ref].removeprefix("TLP:").lower(),
                }
            },
        }
    return None


def predefined(obj: dict[str, Any]) -> str | None:
    """Returns None when `obj` is a predefined TLP marking-definition as its standard defines it
    (nothing to store: every reader knows it), else why a definition under a TLP id is not."""
    ref = str(obj.get("id", ""))
    if ref in TLP1:
        colour = TLP1[ref].removeprefix("TLP:").lower()
        definition = obj.get("definition")
        if obj.get("definition_type") == "tlp" and isinstance(definition, dict):
            if definition.get("tlp") == colour:
                return None
        return f"{ref} is the predefined {TLP1[ref]} (TLP 1.0): its definition may not differ"
    colour = TLP2[ref].removeprefix("TLP:").lower()
    exts = obj.get("extensions")
    ext = exts.get(TLP2_EXTENSION) if isinstance(exts, dict) else None
    if isinstance(ext, dict) and ext.get("tlp_2_0") == colour:
        return None
    return f"{ref} is the predefined {TLP2[ref]} (TLP 2.0): its definition may not differ"


def names_of(ref: str, definition: Mapping[str, Any] | None) -> list[str]:
    """Returns the names a marking reference may be mapped by, most specific first: its id, its
    definition's `name` when there is one, its TLP name (and the TLP 1.0/2.0 synonym of WHITE
    and CLEAR)."""
    names = [ref]
    if definition is not None and isinstance(definition.get("name"), str):
        names.append(definition["name"])
    tlp = tlp_name(ref)
    if tlp is not None:
        names.append(tlp)
        if tlp in _SYNONYMS:
            names.append(_SYNONYMS[tlp])
    return names


def _key(name: str) -> str:
    return name.strip().casefold()


def parse_entry(text: str) -> tuple[str, Marking]:
    """Returns (foreign name, release marking) from one table entry,
    `FOREIGN=ORIGINATOR LEVEL TOPIC[,TOPIC…]` (e.g. `TLP:GREEN=USA U general-military`); the
    marking still has to be checked against the registry (`World.check_marking`). Raises
    InputError naming what is missing."""
    foreign, sep, target = text.partition("=")
    if not sep or not foreign.strip():
        raise InputError(
            f"--map {text!r}: expected FOREIGN=ORIGINATOR LEVEL TOPIC "
            "(e.g. 'TLP:GREEN=USA U general-military')"
        )
    return foreign.strip(), parse_target(target, f"--map {text!r}")


def parse_target(target: str, where: str) -> Marking:
    """Returns the release marking `ORIGINATOR LEVEL TOPIC[,TOPIC…]` names (topics separated by
    spaces or commas); InputError, prefixed with `where`, when a part is missing."""
    parts = target.replace(",", " ").split()
    if len(parts) < 3:
        raise InputError(
            f"{where}: the accord marking needs an originator, a level and at least one topic "
            "(e.g. 'USA U general-military')"
        )
    return Marking.of(parts[0].upper(), parts[1], [t.lower() for t in parts[2:]])


@dataclass(frozen=True)
class MarkingMap:
    """Foreign marking names (ids, definition names, TLP names; case-insensitive) → the release
    marking content under them becomes."""

    entries: tuple[tuple[str, Marking], ...] = ()
    _by_key: dict[str, Marking] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name, m in self.entries:
            self._by_key[_key(name)] = m

    @staticmethod
    def of(entries: Sequence[tuple[str, Marking]]) -> MarkingMap:
        return MarkingMap(tuple(entries))

    def over(self, base: MarkingMap) -> MarkingMap:
        """Returns this table with `base`'s entries for the names it does not name (a peer's own
        entries over the settings file's)."""
        mine = {_key(n) for n, _ in self.entries}
        return MarkingMap(
            self.entries + tuple((n, m) for n, m in base.entries if _key(n) not in mine)
        )

    def lookup(self, names: Sequence[str]) -> Marking | None:
        for n in names:
            m = self._by_key.get(_key(n))
            if m is not None:
                return m
        return None

    def to_json(self) -> dict[str, str]:
        return {
            n: f"{m.originator} {m.level} {','.join(sorted(m.topics))}" for n, m in self.entries
        }

    @staticmethod
    def from_json(data: Mapping[str, str], where: str) -> MarkingMap:
        return MarkingMap.of([(n, parse_target(t, f"{where} {n!r}")) for n, t in data.items()])


@dataclass
class Mapped:
    """A page of foreign content after `apply`: the objects to store (each with its release
    marking, the definitions of the markings added first) and, by position in `objects`, why
    each refused one is refused."""

    objects: list[Any]
    refused: dict[int, str]


def _is_release(obj: Mapping[str, Any]) -> bool:
    exts = obj.get("extensions")
    return isinstance(exts, dict) and (mk.ACCORD_EXTENSION in exts or mk.ACS_EXTENSION in exts)


def apply(objects: Sequence[Any], table: MarkingMap, stored: Container[str] = ()) -> Mapped:
    """Returns one envelope of foreign content mapped (`Mapper.page`), a definition that no
    mapped object of it names refused."""
    mapper = Mapper(table, stored)
    out = mapper.page(objects)
    rest = mapper.leftovers()
    base = len(out.objects)
    return Mapped(
        out.objects + rest.objects,
        {**out.refused, **{base + i: why for i, why in rest.refused.items()}},
    )


_ORPHAN = "a marking-definition that no mapped object of the page names"


class Mapper:
    """Maps the pages of one pull from a tool that mints no accord markings.

    Each object gets the release marking the table gives its markings, added beside them; an
    object that names a release marking (accord's or ACS 3.0, defined in the page or stored here:
    `stored`) keeps it. A statement or other non-TLP definition takes the marking of the first
    object that names it (it travels with that content), in its page or a later one. Refused: an
    object with no marking, one whose markings the table does not name, and one whose markings
    map to different release markings (which would be a guess)."""

    def __init__(self, table: MarkingMap, stored: Container[str] = ()) -> None:
        self.table, self.stored = table, stored
        self.definitions: dict[str, Mapping[str, Any]] = {}  # every definition seen, by id
        self.release: set[str] = set()  # the release markings defined in the pages
        self.pending: dict[str, dict[str, Any]] = {}  # definitions waiting for a mapped user
        self.given: set[str] = set()  # definitions already given a marking
        self.added: set[str] = set()  # release marking definitions already sent to ingest

    def page(self, objects: Sequence[Any]) -> Mapped:
        """Returns one page mapped: the definitions of the release markings it needs first
        (each once per pull), then its objects; `refused` by position."""
        for o in objects:
            if isinstance(o, dict) and o.get("type") == "marking-definition":
                oid = o.get("id")
                if isinstance(oid, str):
                    self.definitions[oid] = o
                    if _is_release(o):
                        self.release.add(oid)
        head: list[dict[str, Any]] = []
        out: list[Any] = []
        refused: dict[int, str] = {}
        waiting: set[int] = set()  # positions of definitions without a marking yet
        given: dict[str, Marking] = {}
        for o in objects:
            if not isinstance(o, dict):
                out.append(o)
                continue
            oid = o.get("id")
            if o.get("type") == "marking-definition" and (
                _is_release(o) or (isinstance(oid, str) and tlp_name(oid) is not None)
            ):
                out.append(o)
                continue
            raw = o.get("object_marking_refs")
            refs = [r for r in raw if isinstance(r, str)] if isinstance(raw, list) else []
            if any(r in self.release or r in self.stored for r in refs):
                out.append(o)
                continue
            if o.get("type") == "marking-definition" and not refs:
                waiting.add(len(out))  # its marking comes from the objects naming it
                out.append(o)
                continue
            found: dict[str, Marking] = {}
            for r in refs:
                m = self.table.lookup(names_of(r, self.definitions.get(r)))
                if m is not None:
                    found[mk.marking_id(m)] = m
            if len(found) != 1:
                refused[len(out)] = _why_unmapped(refs, self.definitions, found)
                out.append(o)
                continue
            ref, m = next(iter(found.items()))
            if ref not in self.added and ref not in self.stored:
                self.added.add(ref)
                head.append(mk.marking_definition(m))
            for r in refs:
                given.setdefault(r, m)
                if r in self.pending and r not in self.given:  # named on a later page
                    self.given.add(r)
                    head.append({**self.pending.pop(r), "object_marking_refs": [ref]})
            out.append({**o, "object_marking_refs": [*refs, ref]})
        kept: list[Any] = []
        moved: dict[int, str] = {}
        for i, o in enumerate(out):
            if i in waiting:
                oid = str(o.get("id"))
                m = given.get(oid)
                if m is None:
                    self.pending.setdefault(oid, o)  # a later page may name it
                    continue
                self.given.add(oid)
                o = {**o, "object_marking_refs": [mk.marking_id(m)]}
            if i in refused:
                moved[len(head) + len(kept)] = refused[i]
            kept.append(o)
        return Mapped(head + kept, moved)

    def leftovers(self) -> Mapped:
        """Returns the definitions no mapped object named during the pull, each refused."""
        rest = list(self.pending.values())
        self.pending.clear()
        return Mapped(rest, {i: _ORPHAN for i in range(len(rest))})


def _why_unmapped(
    refs: Sequence[str], definitions: Mapping[str, Mapping[str, Any]], found: Mapping[str, Marking]
) -> str:
    if not refs:
        return "unmarked content from a peer that is not an accord node is not released"
    if found:
        labels = ", ".join(sorted(m.label() for m in found.values()))
        return f"its markings map to different release markings ({labels}): refused, not guessed"
    names = ", ".join(names_of(r, definitions.get(r))[-1] for r in refs)
    return f"no release marking: the peer's marking table names none of its markings ({names})"
