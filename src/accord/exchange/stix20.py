"""STIX 2.0 content upgraded to STIX 2.1, on an explicit opt-in (`accord publish --stix20`, a peer
declared STIX 2.0), with every change listed.

accord stores STIX 2.1 only (`accord.exchange.stix.check_object`). Much public content is still
published in STIX 2.0 (MITRE ATT&CK in mitre/cti, for one), and STIX 2.1 changed little of it:
`upgrade` makes exactly those changes, one line each, and nothing else. What it changes (STIX 2.1
OASIS Standard, sections cited; STIX 2.0 Part 2 for what the 2.0 properties meant):

- `spec_version: "2.1"` on every SDO, SRO, marking-definition and custom object (§3.2: required
  on all of them; STIX 2.0 had no such property on objects). SCOs without it are already 2.1
  (§3.2: optional on SCOs) and STIX 2.0 had no top-level SCOs, so they pass unchanged.
- The STIX 2.0 `labels` of indicator, malware, report, threat-actor and tool was that type's
  required classification, from an open vocabulary (2.0: `indicator-label-ov`, …); STIX 2.1 moved
  it to `indicator_types` (§4.7), `malware_types` (§4.11), `report_types` (§4.15),
  `threat_actor_types` (§4.16) and `tool_types` (§4.17), open vocabularies of the same values, and
  kept `labels` for free tags (§3.2). The whole list moves, values unchanged: every 2.0 value was
  a classification, and an open vocabulary accepts any value.
- `indicator`: `pattern_type: "stix"` (§4.7: required; 2.0 patterns are STIX patterns) and
  `pattern_version: "2.0"` (§4.7: when absent, a STIX pattern's version would be read as the
  object's spec_version, 2.1, and the pattern was written in STIX 2.0 patterning).
- `malware`: `is_family: true` (§4.11: required). STIX 2.0 had no way to say family or
  instance, and its malware objects were written as families: named, classified by `labels`,
  described by what the family does (ATT&CK's software entries, for one); an instance is what
  2.0 expressed with observed-data and file hashes. An object that already says `is_family`
  keeps its value.
- The four TLP marking-definitions (§7.2.1.4) gain the `name` ("TLP:WHITE", …) STIX 2.1 gives
  them; every other marking-definition (a statement, a custom one) changes only its
  spec_version.

Unchanged: every other property, custom ones (`x_mitre_*`, …) included, and timestamps (STIX 2.0
timestamps are valid 2.1 ones). An `observed-data` keeps its 2.0 `objects` dictionary: deprecated
in 2.1 but valid (§4.14), and converting it to SCOs with `object_refs` would mint ids and
objects the producer never wrote.

What cannot be upgraded faithfully raises `InputError` naming the object and why, for the whole
call (a caller pulling a page from a peer refuses that page): a `labels` whose 2.1 property is
already present, an observable in `observed-data.objects` using a property STIX 2.1 renamed or
removed (`file.created`, `process.binary_ref`, …), and a type that STIX 2.1 introduced (grouping,
location, …) without `spec_version`, which is neither 2.0 nor 2.1. Anything else accord does not
accept (a malformed id, a missing timestamp) is left as it is, for the STIX 2.1 check to refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accord.errors import InputError
from accord.exchange import foreign
from accord.exchange.foreign import TLP1
from accord.exchange.stix import SCO_TYPES

#: The STIX 2.0 `labels` that STIX 2.1 moved to a type property of its own.
LABELS_MOVED = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "report": "report_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
}

#: Object types that STIX 2.1 introduced: one without `spec_version` is not STIX 2.0 content.
TYPES_NEW_IN_21 = frozenset(
    {
        "grouping", "infrastructure", "location", "malware-analysis", "note", "opinion",
        "language-content", "extension-definition",
    }
)  # fmt: skip

#: Properties of STIX 2.0 cyber observables (and their extensions) that STIX 2.1 renamed or
#: removed (STIX 2.1 §6): a 2.0 `observed-data.objects` using one cannot be kept as it is.
OBSERVABLE_GONE: dict[str, dict[str, str]] = {
    "directory": {"created": "ctime", "modified": "mtime", "accessed": "atime"},
    "file": {
        "created": "ctime",
        "modified": "mtime",
        "accessed": "atime",
        "is_encrypted": "",
        "encryption_algorithm": "",
        "decryption_key": "",
    },
    "network-traffic": {"encapsulates_by_ref": "encapsulated_by_ref"},
    "process": {"created": "created_time", "binary_ref": "image_ref", "name": "", "arguments": ""},
    "user-account": {"password_last_changed": "credential_last_changed"},
    "windows-registry-key": {"modified": "modified_time"},
}
EXTENSION_GONE: dict[str, dict[str, str]] = {
    "archive-ext": {"version": ""},
    "raster-image-ext": {"image_compression_algorithm": ""},
    "socket-ext": {"protocol_family": ""},
}


@dataclass
class Upgraded:
    """What `upgrade` gives back."""

    objects: list[Any]  # the objects as STIX 2.1 (new dicts; input never mutated)
    changes: list[str]  # one line per change: "<id>: <what changed>"


def is_stix20(obj: Any) -> bool:
    """True for STIX 2.0 content: a bundle whose `spec_version` is "2.0" (STIX 2.0 Part 1 §5),
    or an object other than an SCO with no `spec_version` (or "2.0"), since STIX 2.1 requires it
    on every SDO, SRO and marking-definition (§3.2)."""
    if not isinstance(obj, dict):
        return False
    typ, spec = obj.get("type"), obj.get("spec_version")
    if typ == "bundle":
        return spec == "2.0"
    if not isinstance(typ, str):
        return False
    if spec == "2.0":
        return True
    return spec is None and typ not in SCO_TYPES


def upgrade(objects: Sequence[Any]) -> Upgraded:
    """Returns `objects` as STIX 2.1 with one line per change (the module's docstring lists
    them); objects that are not STIX 2.0 (`is_stix20`) come back as they are, with no line.
    The input is never modified: each upgraded object is a new dict (its nested values shared
    with the input, never modified either). Raises InputError naming the first object that
    cannot be upgraded faithfully, and why."""
    out: list[Any] = []
    changes: list[str] = []
    for obj in objects:
        if not is_stix20(obj) or obj.get("type") == "bundle":
            out.append(obj)
            continue
        new, lines = _upgrade_one(obj)
        oid = str(obj.get("id", "(no id)"))[:160]
        changes.extend(f"{oid}: {line}" for line in lines)
        out.append(new)
    return Upgraded(out, changes)


def _upgrade_one(obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    typ: str = obj["type"]
    oid = str(obj.get("id", "(no id)"))[:160]
    if typ in TYPES_NEW_IN_21:
        raise InputError(
            f"{oid}: {typ} is a STIX 2.1 type without spec_version: neither STIX 2.0 nor 2.1"
        )
    new = dict(obj)
    lines: list[str] = []
    was = obj.get("spec_version")
    new["spec_version"] = "2.1"
    lines.append("spec_version 2.0 → 2.1" if was == "2.0" else 'spec_version "2.1" added')
    target = LABELS_MOVED.get(typ)
    if target is not None and "labels" in obj:
        if target in obj:
            raise InputError(
                f"{oid}: has both the STIX 2.0 labels and {target}: which one classifies "
                "it is not known"
            )
        new[target] = new.pop("labels")
        lines.append(f"labels moved to {target}")
    if typ == "indicator":
        if "pattern_type" not in obj:
            new["pattern_type"] = "stix"
            lines.append('pattern_type "stix" added')
            if "pattern_version" not in obj:
                new["pattern_version"] = "2.0"
                lines.append('pattern_version "2.0" added')
    elif typ == "malware":
        if "is_family" not in obj:
            new["is_family"] = True
            lines.append("is_family true added")
    elif typ == "marking-definition":
        # A TLP 1.0 definition (§7.2.1.4) gains the name STIX 2.1 gives it.
        tlp = TLP1.get(str(obj.get("id")))
        if tlp is not None and "name" not in obj and foreign.predefined(obj) is None:
            new["name"] = tlp
            lines.append(f'name "{tlp}" added')
    elif typ == "observed-data":
        why = _observables_why(obj.get("objects"))
        if why is not None:
            raise InputError(f"{oid}: {why}")
    return new, lines


def _observables_why(container: Any) -> str | None:
    """Why a STIX 2.0 observable container cannot stay as it is in 2.1, or None."""
    if not isinstance(container, dict):
        return None
    for key, sco in container.items():
        if not isinstance(sco, dict):
            continue
        for prop, now in OBSERVABLE_GONE.get(str(sco.get("type")), {}).items():
            if prop in sco:
                return _gone(f"objects[{key!r}]", str(sco.get("type")), prop, now)
        exts = sco.get("extensions")
        if isinstance(exts, dict):
            for name, ext in exts.items():
                if not isinstance(ext, dict):
                    continue
                for prop, now in EXTENSION_GONE.get(name, {}).items():
                    if prop in ext:
                        return _gone(f"objects[{key!r}]", name, prop, now)
    return None


def _gone(where: str, typ: str, prop: str, now: str) -> str:
    fate = f"renamed {now}" if now else "removed"
    return f"{where}: {typ} property {prop} was {fate} in STIX 2.1; upgrade it by hand"
