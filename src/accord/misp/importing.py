"""MISP events (MISP's JSON export) read as STIX 2.1 objects to publish (docs/misp.md).

A file holds one event (`{"Event": …}`), several (a list of them, or MISP's REST answer
`{"response": [...]}`), or a MISP feed's event file; a directory holds such files (`*.json`,
its `manifest.json` aside). misp-stix converts each event to STIX 2.1 (a report with the objects
the event's attributes and objects become). accord reads two kinds of tags first:

- the accord taxonomy tags on the event give its release marking (`accord.misp.tags`); they are
  taken off before conversion, so they do not become labels;
- TLP tags are left to misp-stix, which turns them into STIX TLP marking references on the
  objects; `tlp:white` (TLP 1.0) is read as `tlp:clear` (TLP 2.0).

Nothing is stored here: the caller publishes the objects (`accord.exchange.publishing`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from accord.errors import InputError
from accord.misp import tags
from accord.policy.marking import Marking

if TYPE_CHECKING:  # misp-stix and pymisp take a second to import: only when a file is read
    from pymisp import MISPAttribute, MISPEvent


@dataclass
class Event:
    """One MISP event read from `path`: its uuid and title, the release marking its accord tags
    give (None: none), and the STIX objects misp-stix made of it."""

    path: Path
    uuid: str
    info: str
    marking: Marking | None
    objects: list[dict[str, Any]]


def event_files(path: Path) -> list[Path]:
    """Returns the files `path` names: itself, or a directory's `*.json` files (its
    `manifest.json` aside), sorted. InputError when there is no such file or no event file."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.name != "manifest.json")
        if not files:
            raise InputError(f"{path}: no MISP event files (*.json) in this directory")
        return files
    if not path.is_file():
        raise InputError(f"{path}: no such file or directory")
    return [path]


def _event_dicts(path: Path, data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("response"), list):
        data = data["response"]
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        event = item.get("Event") if isinstance(item, dict) else None
        if not isinstance(event, dict):
            raise InputError(f'{path}: expected MISP events ({{"Event": {{…}}}}), one or a list')
        out.append(event)
    if not out:
        raise InputError(f"{path}: no MISP event in this file")
    return out


def read_events(path: Path) -> list[Event]:
    """Returns the events of one file, converted by misp-stix. InputError naming the file (and
    the event) when it is not JSON, not MISP events, carries malformed accord tags, or cannot
    be converted."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    return [_convert(path, e) for e in _event_dicts(path, data)]


def _convert(path: Path, raw: dict[str, Any]) -> Event:
    from misp_stix_converter import MISPtoSTIX21Parser
    from pymisp import MISPEvent

    name = f"{path}: event {str(raw.get('uuid', '(no uuid)'))[:40]}"
    if not raw.get("uuid") or not raw.get("info"):
        # pymisp would make up a uuid: the same event imported twice would be two events.
        raise InputError(f"{name}: a MISP event needs a uuid and an info")
    event = MISPEvent()
    try:
        event.load({"Event": json.loads(json.dumps(raw))})
    except Exception as exc:  # pymisp raises many kinds on malformed events
        raise InputError(f"{name}: not a MISP event: {exc}") from None
    marking = tags.parse_marking([t.name for t in event.tags], name)
    event.tags = [t for t in event.tags if not tags.is_accord_tag(t.name)]
    attributes = [*event.attributes, *(a for o in event.objects for a in o.attributes)]
    layers: list[MISPEvent | MISPAttribute] = [event, *attributes]
    for layer in layers:
        for t in layer.tags:
            if layer is not event and tags.is_accord_tag(t.name):
                raise InputError(f"{name}: accord tags belong on the event, not {t.name[:60]!r}")
            clear = tags.TLP_ALIASES.get(t.name.strip().lower())
            if clear is not None:
                t.name = clear
    try:
        parser = MISPtoSTIX21Parser()
        parser.parse_misp_event(event)
        objects = [orjson.loads(o.serialize()) for o in parser.stix_objects]
    except Exception as exc:  # misp-stix raises many kinds; the file and event are named
        raise InputError(f"{name}: misp-stix cannot convert it: {exc}") from None
    if not objects:
        raise InputError(f"{name}: misp-stix made no STIX object of it")
    return Event(path, str(event.uuid), str(event.info), marking, objects)
