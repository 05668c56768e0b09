"""A partner's items as a MISP feed: events, `manifest.json` and `hashes.csv` (docs/misp.md).

The items are those a partner receives over TAXII today, as it receives them (partner forms of
markings: `accord.misp.partner`); misp-stix converts them to MISP events. How items become events:

- each report or grouping is one event with the objects it refers to (directly or through their
  references) that carry the same release marking; the event's uuid is the report's, so an event
  imported from MISP goes back to MISP under its own uuid;
- every other item is in the event of its release marking, one event per marking, whose uuid is
  derived from the marking's id.

So an event carries exactly one release marking, written on it as tags (`accord.misp.tags`): the
accord taxonomy, and one TLP tag, the stricter of the marking's (`tags.tlp_for`) and any TLP the
items carry themselves. Every event, object and attribute has distribution 0 ("your organisation
only"): a subscribing MISP must not pass classified information on by itself. An event's uuid,
content and timestamp depend only on the items, so a MISP that polls the feed again sees the same
events and updates one only when its items change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from accord.errors import Unprocessable
from accord.exchange import markings as mk
from accord.exchange.queries import Row
from accord.misp import tags
from accord.policy.marking import Marking

if TYPE_CHECKING:  # misp-stix and pymisp take a second to import: only when a feed is built
    from pymisp import MISPEvent, MISPOrganisation

#: The namespace of the uuids accord derives (events of a marking, organisations of a party).
NAMESPACE = uuid.UUID("6c0e1f4a-9d43-5e6b-8b8e-1d6f3e2a7c55")
#: The distribution every feed event, object and attribute carries: "your organisation only".
DISTRIBUTION = 0
_CONTAINERS = ("report", "grouping")
_ADDED_BACK = ("Threat-Report", 'misp:tool="MISP-STIX-Converter"', 'misp:tool="misp2stix2"')
_DEFINITION = "marking-definition"

# misp-stix says on its logger that a MISP tool label is only a hint; that is what it is here.
logging.getLogger("misp_stix_converter").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Source:
    """One stored object version as the partner receives it: the collection it is read from,
    its row (for the release record), its JSON and its release marking (the partner form)."""

    collection: str
    row: Row
    body: dict[str, Any]
    marking: Marking


@dataclass
class FeedEvent:
    """One MISP event of the feed: its uuid, the feed file's JSON (`{"Event": …}`), its manifest
    entry, the MD5 hashes of its attribute values and the object versions it carries."""

    uuid: str
    body: dict[str, Any]
    manifest: dict[str, Any]
    hashes: list[str]
    sources: list[Source] = field(default_factory=list)


@dataclass
class Feed:
    """A MISP feed: its events by uuid (sorted)."""

    events: dict[str, FeedEvent] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """Returns `manifest.json`: each event's uuid → its summary."""
        return {u: e.manifest for u, e in self.events.items()}

    def hashes_csv(self) -> str:
        """Returns `hashes.csv`: one `md5(value),event_uuid` line per attribute value."""
        return "".join(f"{h},{u}\n" for u, e in self.events.items() for h in e.hashes)

    def sources(self) -> list[Source]:
        """Returns every object version the feed carries, once each."""
        seen: dict[tuple[str, int], Source] = {}
        for e in self.events.values():
            for s in e.sources:
                seen.setdefault((s.collection, s.row.seq), s)
        return list(seen.values())


def _refs(body: dict[str, Any]) -> Iterable[str]:
    """The ids an object refers to (every `*_ref` and `*_refs` but its markings)."""
    for key, value in body.items():
        if key in ("object_marking_refs", "granular_markings"):
            continue
        if key.endswith("_ref") and isinstance(value, str):
            yield value
        elif key.endswith("_refs") and isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _closure(start: dict[str, Any], members: dict[str, Source], marking: Marking) -> list[str]:
    """Returns the ids of the objects `start` reaches through references, among `members`,
    that carry `marking` (`start` first, then in the order found)."""
    found = [start["id"]]
    seen = {start["id"]}
    i = 0
    while i < len(found):
        for ref in _refs(members[found[i]].body):
            s = members.get(ref)
            if s is not None and ref not in seen and s.marking == marking:
                seen.add(ref)
                found.append(ref)
        i += 1
    return found


def _without_release_refs(body: dict[str, Any], release: set[str]) -> dict[str, Any]:
    refs = body.get("object_marking_refs")
    if not isinstance(refs, list) or not any(r in release for r in refs):
        return body
    kept = [r for r in refs if r not in release]
    out = {k: v for k, v in body.items() if k != "object_marking_refs"}
    if kept:
        out["object_marking_refs"] = kept
    return out


def event_uuid_of_marking(m: Marking) -> str:
    """Returns the uuid of the event of the items under `m` outside any report."""
    return str(uuid.uuid5(NAMESPACE, mk.marking_id(m)))


def org_of(party: str) -> MISPOrganisation:
    """Returns the MISP organisation that stands for a party (a stable uuid derived from its code)."""
    from pymisp import MISPOrganisation

    org = MISPOrganisation()
    org.from_dict(name=party, uuid=str(uuid.uuid5(NAMESPACE, f"party:{party}")))
    return org


def build_feed(sources: Sequence[Source]) -> Feed:
    """Returns the MISP feed of `sources`, grouped into events as the module says. Raises
    Unprocessable naming the event misp-stix cannot convert."""
    objects = {s.body["id"]: s for s in sources if s.body.get("type") != _DEFINITION}
    definitions = {s.body["id"]: s.body for s in sources if s.body.get("type") == _DEFINITION}
    release = {mk.marking_id(s.marking) for s in sources}
    release |= {i for i, d in definitions.items() if _is_release(d)}
    groups: list[tuple[str, Marking, list[str], str | None]] = []  # uuid, marking, ids, container
    placed: set[str] = set()
    for oid in sorted(i for i, s in objects.items() if s.body.get("type") in _CONTAINERS):
        s = objects[oid]
        ids = _closure(s.body, objects, s.marking)
        placed.update(ids)
        groups.append((oid.partition("--")[2], s.marking, ids, oid))
    loose: dict[str, tuple[Marking, list[str]]] = {}
    for oid in sorted(objects):
        if oid not in placed:
            m = objects[oid].marking
            loose.setdefault(mk.marking_id(m), (m, []))[1].append(oid)
    for m, ids in loose.values():
        groups.append((event_uuid_of_marking(m), m, ids, None))
    feed = Feed()
    for event_uuid, m, ids, container in sorted(groups, key=lambda g: g[0]):
        members = [objects[i] for i in ids]
        feed.events[event_uuid] = _event(event_uuid, m, members, container, definitions, release)
    return feed


def _is_release(definition: dict[str, Any]) -> bool:
    try:
        return mk.from_definition(definition) is not None
    except Unprocessable:
        return True  # malformed, but in a release extension: never a MISP tag either


def _event(
    event_uuid: str,
    m: Marking,
    members: list[Source],
    container: str | None,
    definitions: dict[str, dict[str, Any]],
    release: set[str],
) -> FeedEvent:
    ids = {s.body["id"] for s in members}
    bodies = []
    for s in members:
        body = _without_release_refs(s.body, release)
        if body.get("id") == container:
            # A reference outside the event (another marking, not visible) is not followed.
            body = {**body, "object_refs": [r for r in body.get("object_refs", []) if r in ids]}
        bodies.append(body)
    used = {r for b in bodies for r in b.get("object_marking_refs", [])}
    bodies.extend(definitions[r] for r in sorted(used) if r in definitions)
    bundle = {"type": "bundle", "id": f"bundle--{event_uuid}", "objects": bodies}
    from misp_stix_converter.tools import (
        get_stix2_parser,
        is_stix2_from_misp,
        load_stix2_content,
    )

    try:
        loaded = load_stix2_content(orjson.loads(orjson.dumps(bundle)))
        from_misp = is_stix2_from_misp(getattr(loaded, "objects", []))
        parser_class, args = get_stix2_parser(
            from_misp, DISTRIBUTION, None, None, None, False, False, True,
            str(uuid.uuid5(NAMESPACE, f"party:{m.originator}")), DISTRIBUTION, None,
        )  # fmt: skip
        parser = parser_class()
        parser.load_stix_bundle(loaded)
        parser.parse_stix_bundle(**args)
        event: MISPEvent = parser.misp_event
    except Exception as exc:  # misp-stix raises many kinds; the event is named instead
        raise Unprocessable(f"misp-stix cannot convert event {event_uuid}: {exc}") from None
    _finish(event, event_uuid, m, members, container)
    body = event.to_feed(with_meta=True, with_distribution=True)
    inner = body["Event"]
    manifest = inner.pop("_manifest")[event_uuid]
    hashes = inner.pop("_hashes")
    return FeedEvent(event_uuid, body, manifest, hashes, members)


def _finish(
    event: MISPEvent, event_uuid: str, m: Marking, members: list[Source], container: str | None
) -> None:
    """Sets what makes the event stable and safe: uuid, organisation, dates and timestamps from
    the items, distribution 0 everywhere, and the marking's tags in place of any TLP tag."""
    if container is None:
        # Items join this event whenever they become visible, whatever their own times: the
        # newest arrival dates the event, so that a polling MISP fetches it again.
        stamp = datetime.fromtimestamp(max(s.row.date_added for s in members) // 1_000_000, UTC)
        event.info = f"accord: items under {m.label()}"
    else:
        # The newest version among the report and its objects (all under one marking, so all
        # visible together): converted back, the report keeps its own times.
        times = [t for t in (_modified(s.body) for s in members) if t is not None]
        stamp = max(times) if times else datetime.fromtimestamp(0, UTC)
    event.uuid = event_uuid
    creator = _creator(members, container)
    event.Orgc = org_of(m.originator) if creator is None else creator
    event.timestamp = stamp
    event.distribution = DISTRIBUTION
    event.published = True
    event.set_date(_first_day(members) or stamp.date())
    for key, default in (("analysis", 2), ("threat_level_id", 4)):
        if getattr(event, key, None) is None:
            setattr(event, key, default)
    # Tags misp-stix adds back when the event is converted again, and the producer, which the
    # organisation (Orgc) already names.
    event.tags = [
        t
        for t in event.tags
        if t.name not in _ADDED_BACK and not t.name.startswith('misp-galaxy:producer="')
    ]
    carried = [t.name for t in event.tags]
    tlp = tags.strictest([*carried, tags.tlp_for(m)])
    event.tags = [t for t in event.tags if tags.normal_tlp(t.name) is None]
    event.tags = [t for t in event.tags if not tags.is_accord_tag(t.name)]
    for name in [*([tlp] if tlp else []), *tags.marking_tags(m)]:
        event.add_tag(name)
    for layer in [*event.attributes, *event.objects, *event.event_reports]:
        layer.distribution = DISTRIBUTION
        if getattr(layer, "timestamp", None) is None:
            layer.timestamp = stamp
    for obj in event.objects:
        for attribute in obj.attributes:
            attribute.distribution = DISTRIBUTION
            if getattr(attribute, "timestamp", None) is None:
                attribute.timestamp = stamp


def _modified(body: dict[str, Any]) -> datetime | None:
    text = body.get("modified") or body.get("created")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _creator(members: list[Source], container: str | None) -> MISPOrganisation | None:
    """Returns the organisation the report names as its creator (an identity among the event's
    objects), so that the event converts back to the same identity; None when there is none."""
    bodies = {s.body["id"]: s.body for s in members}
    start = bodies.get(container or "")
    ref = start.get("created_by_ref") if start else None
    identity = bodies.get(ref) if isinstance(ref, str) else None
    if identity is None or not isinstance(identity.get("name"), str):
        return None
    from pymisp import MISPOrganisation

    org = MISPOrganisation()
    org.from_dict(name=identity["name"], uuid=str(identity["id"]).partition("--")[2])
    return org


def _first_day(members: list[Source]) -> date | None:
    days = [str(s.body["created"])[:10] for s in members if isinstance(s.body.get("created"), str)]
    try:
        return date.fromisoformat(min(days)) if days else None
    except ValueError:
        return None


def event_json(e: FeedEvent) -> bytes:
    """Returns the feed file of one event: `{"Event": …}` as JSON."""
    return orjson.dumps(e.body, option=orjson.OPT_SORT_KEYS, default=str)


def manifest_json(feed: Feed) -> bytes:
    return orjson.dumps(feed.manifest(), option=orjson.OPT_SORT_KEYS, default=str)


def write_feed(feed: Feed, out: Path) -> list[Path]:
    """Writes the feed into the directory `out` (created when missing): `manifest.json`,
    `hashes.csv` and `<event uuid>.json` per event; removes the event files of an earlier run
    that the feed no longer has. Returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for e in feed.events.values():
        path = out / f"{e.uuid}.json"
        path.write_bytes(event_json(e))
        written.append(path)
    for old in out.glob("*.json"):
        stem = old.stem
        if old.name != "manifest.json" and stem not in feed.events and _is_uuid(stem):
            old.unlink()
    (out / "hashes.csv").write_text(feed.hashes_csv(), "utf-8")
    (out / "manifest.json").write_bytes(manifest_json(feed))
    return [*written, out / "hashes.csv", out / "manifest.json"]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
