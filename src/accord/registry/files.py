"""Registry files in and out: YAML a legal officer edits by hand, and JSON.

`read_file(path)` parses and validates a file whole and returns a `Registry`; any problem raises
`ImportRejected` whose messages name the file, the line and the field, e.g.
`scenario.yaml:41: agreements[3].events[2].date: '2019-02-30' is not a date`. Every scalar is read as
text and typed by the model, so YAML's own guesses (`NO` → false, `1e3` → a float) never change a
code. `validate_against(world, incoming)` checks the references between records (parties, levels,
notes, arrangements) in the world as it would be after the import. Nothing is written until both
pass, so a rejected import leaves the store untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from accord.errors import ImportRejected, InputError
from accord.registry import lifecycle
from accord.registry.model import (
    CATEGORIES,
    INFO_PURPOSES,
    PURPOSES,
    TOPICS,
    Agreement,
    AgreementKind,
    EventKind,
    Registry,
)

Path_ = tuple[str | int, ...]
_TOP_KEYS = ("parties", "agreements", "notes", "consents", "facilities")
_KEYS = {
    "parties": "code",
    "agreements": "id",
    "notes": "id",
    "consents": "id",
    "facilities": "id",
}
_SETTLEMENTS = ("cash", "replacement-in-kind", "equal-value-exchange")


def fmt_path(path: Iterable[str | int]) -> str:
    """Returns `agreements[3].events[2].date` for ("agreements", 3, "events", 2, "date")."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


class _Lines:
    """Maps a path inside the document to the 1-based line where its value starts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: dict[Path_, int] = {}

    def line(self, path: Path_) -> int:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def where(self, path: Path_) -> str:
        return f"{self.name}:{self.line(path)}: {fmt_path(path)}"


#: libyaml's loader when PyYAML was built with it: nine times faster on the demonstration
#: scenario, with the same nodes and marks (a plain scalar's style is '' there, None in Python).
#: A document it refuses is parsed again by the pure-Python loader, whose messages name what
#: was expected ("expected ',' or ']', but got '<stream end>'").
_FAST: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _to_data(node: yaml.Node, path: Path_, lines: _Lines, problems: list[str]) -> Any:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(f"{lines.where(path)}: a key must be plain text")
                continue
            key = str(key_node.value)
            sub = (*path, key)
            if key in out:
                lines.lines[sub] = key_node.start_mark.line + 1
                problems.append(f"{lines.where(sub)}: the key {key!r} appears twice")
                continue
            out[key] = _to_data(value_node, sub, lines, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_data(n, (*path, i), lines, problems) for i, n in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == "tag:yaml.org,2002:null" and not node.style:
        return None
    return str(node.value)


def parse_text(text: str, name: str) -> tuple[Any, _Lines]:
    """Returns the document as plain data (scalars as text) and its line map; raises ImportRejected."""
    lines = _Lines(name)
    problems: list[str] = []
    try:
        try:
            node = yaml.compose(text, Loader=_FAST)
        except yaml.YAMLError:
            node = yaml.compose(text, Loader=yaml.SafeLoader)  # the clearer message
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = exc.problem or exc.context or "malformed"
        raise ImportRejected([f"{name}:{line}: not valid YAML or JSON: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ImportRejected([f"{name}:1: not valid YAML or JSON: {exc}"]) from None
    if node is None:
        raise ImportRejected([f"{name}:1: the file is empty"])
    data = _to_data(node, (), lines, problems)
    if problems:
        raise ImportRejected(problems)
    return data, lines


def _message(err: dict[str, Any]) -> str:
    typ = err["type"]
    value = err.get("input")
    shown = repr(value) if isinstance(value, str) else None
    if typ == "missing":
        return "is required but missing"
    if typ == "extra_forbidden":
        return "is not a field accord knows"
    if typ.startswith("date_") or typ == "date_type":
        return f"{shown} is not a date" if shown else "is not a date (YYYY-MM-DD)"
    if typ == "string_pattern_mismatch":
        return f"{shown} is not a valid code here"
    if typ in ("enum", "literal_error"):
        allowed = str(err["msg"]).removeprefix("Input should be ")
        return f"{shown or repr(value)} is not allowed: {allowed}"
    if typ in ("int_parsing", "int_type", "bool_parsing", "bool_type"):
        return (
            f"{shown or repr(value)} is not {'a whole number' if 'int' in typ else 'true or false'}"
        )
    if typ in ("tuple_type", "list_type"):
        return "should be a list"
    if typ in ("dict_type", "model_type", "model_attributes_type"):
        return "should be a mapping of fields"
    if typ == "string_type":
        return "should be text"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{shown}: {msg}" if shown else msg


def _resolve(loc: tuple[Any, ...], lines: _Lines) -> Path_:
    """Turns a pydantic error location into a document path, dropping union-member labels."""
    path: Path_ = ()
    for part in loc:
        cand = (*path, part)
        if cand in lines.lines:
            path = cand
        elif isinstance(part, str) and part not in ("[key]",) and not any(c in part for c in "[]'"):
            path = cand  # a missing field: name it even though it has no line of its own
    return path


def validate_data(data: Any, lines: _Lines) -> Registry:
    """Returns the Registry the data describes; raises ImportRejected naming every problem."""
    if not isinstance(data, dict):
        raise ImportRejected(
            [
                f"{lines.name}:1: the file must be a mapping with parties, agreements, notes, consents, facilities"
            ]
        )
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        problems: list[str] = []
        seen: set[str] = set()
        for err in exc.errors():
            path = _resolve(tuple(err["loc"]), lines)
            text = f"{lines.where(path)}: {_message(dict(err))}"
            if text not in seen:
                seen.add(text)
                problems.append(text)
        raise ImportRejected(problems) from None


def read_file(path: str | Path) -> tuple[Registry, _Lines]:
    """Returns the registry in a YAML or JSON file and its line map; raises ImportRejected/InputError."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, not a registry file") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRejected([f"{p.name}:{line}: the file is not valid UTF-8"]) from None
    data, lines = parse_text(text, p.name)
    return validate_data(data, lines), lines


def merge(world: Registry, incoming: Registry) -> Registry:
    """Returns the world as it would be after `incoming` is written (same key replaces)."""
    out: dict[str, list[BaseModel]] = {}
    for kind, key in _KEYS.items():
        records = {getattr(r, key): r for r in getattr(world, kind)}
        for r in getattr(incoming, kind):
            records[getattr(r, key)] = r
        out[kind] = [records[k] for k in sorted(records)]
    return Registry.model_validate(out)


def validate_against(world: Registry, incoming: Registry, lines: _Lines | None = None) -> None:
    """Checks that `incoming`, written over `world`, leaves every reference sound.

    Raises ImportRejected listing each problem at its place in the incoming file."""
    where = lines.where if lines is not None else (lambda p: fmt_path(p))
    problems: list[str] = []

    def bad(path: Path_, what: str) -> None:
        problems.append(f"{where(path)}: {what}")

    for kind, key in _KEYS.items():
        seen: dict[str, int] = {}
        for i, rec in enumerate(getattr(incoming, kind)):
            k = getattr(rec, key)
            if k in seen:
                bad((kind, i, key), f"{k!r} is listed twice (first as {kind}[{seen[k]}])")
            seen.setdefault(k, i)

    after = merge(world, incoming)
    parties = {p.code: p for p in after.parties}
    agreements = {a.id: a for a in after.agreements}
    notes = {n.id: n for n in after.notes}

    def party(path: Path_, code: str) -> bool:
        if code not in parties:
            bad(path, f"{code!r} is not a known party")
            return False
        return True

    for i, ag in enumerate(incoming.agreements):
        base: Path_ = ("agreements", i)
        _check_agreement(ag, base, parties, agreements, notes, party, bad)
    for i, note in enumerate(incoming.notes):
        base = ("notes", i)
        party((*base, "sender"), note.sender)
        party((*base, "recipient"), note.recipient)
        if note.agreement is not None and note.agreement not in agreements:
            bad((*base, "agreement"), f"{note.agreement!r} is not a known agreement")
    for i, c in enumerate(incoming.consents):
        base = ("consents", i)
        ok = party((*base, "originator"), c.originator)
        party((*base, "holder"), c.holder)
        for j, r in enumerate(c.recipients):
            party((*base, "recipients", j), r)
        if not c.recipients and c.arrangement is None:
            bad(base, "a consent names its recipients or an arrangement whose members receive")
        if c.arrangement is not None:
            arr = agreements.get(c.arrangement)
            if arr is None:
                bad((*base, "arrangement"), f"{c.arrangement!r} is not a known agreement")
        if (
            ok
            and c.max_level is not None
            and c.max_level not in parties[c.originator].level_codes()
        ):
            bad(
                (*base, "max_level"),
                f"{c.max_level!r} is not a level of {c.originator} "
                f"({', '.join(parties[c.originator].level_codes())})",
            )
        if c.topics != "all":
            for j, t in enumerate(c.topics):
                if t not in TOPICS:
                    bad((*base, "topics", j), f"{t!r} is not a known topic")
        if c.valid_until is not None and c.valid_until < c.valid_from:
            bad((*base, "valid_until"), "the consent ends before it begins")
        if c.note is not None and c.note not in notes:
            bad((*base, "note"), f"{c.note!r} is not a known note")
    for i, f in enumerate(incoming.facilities):
        party(("facilities", i, "host"), f.host)
        if f.operator is not None:
            party(("facilities", i, "operator"), f.operator)
    # A party whose scheme changes must not orphan a level that a stored agreement maps (the
    # agreements in the file itself were checked above).
    incoming_ids = {a.id for a in incoming.agreements}
    for i, p in enumerate(incoming.parties):
        codes = set(p.level_codes())
        for ag in after.agreements:
            if ag.id in incoming_ids:
                continue
            for row in ag.equivalence:
                lv = row.get(p.code)
                if lv is not None and lv not in codes:
                    bad(("parties", i, "levels"), f"drops level {lv!r} that {ag.id} still maps")
    if problems:
        raise ImportRejected(problems)


def _check_agreement(
    ag: Agreement,
    base: Path_,
    parties: dict[str, Any],
    agreements: dict[str, Agreement],
    notes: dict[str, Any],
    party: Any,
    bad: Any,
) -> None:
    known = [party((*base, "parties", j), code) for j, code in enumerate(ag.parties)]
    if ag.hub is not None:
        if ag.kind is not AgreementKind.INFORMATION_ARRANGEMENT:
            bad((*base, "hub"), "only an information-arrangement names a hub")
        elif ag.hub not in ag.parties:
            bad((*base, "hub"), f"the hub {ag.hub!r} is not one of the agreement's parties")
    for j, u in enumerate(ag.underlying):
        if u not in agreements:
            bad((*base, "underlying", j), f"{u!r} is not a known agreement")
        elif u == ag.id:
            bad((*base, "underlying", j), "an agreement cannot rest on itself")
    if ag.scope.topics != "all":
        for j, t in enumerate(ag.scope.topics):
            if t not in TOPICS:
                bad((*base, "scope", "topics", j), f"{t!r} is not a known topic")
    allowed_purposes = PURPOSES if ag.kind is AgreementKind.LOGISTICS_SUPPORT else INFO_PURPOSES
    if ag.scope.purposes != "all":
        for j, pu in enumerate(ag.scope.purposes):
            if pu not in allowed_purposes:
                bad((*base, "scope", "purposes", j), f"{pu!r} is not a known purpose")
    for j, cat in enumerate(ag.scope.categories):
        if cat == "weapons":
            bad((*base, "scope", "categories", j), "weapons are never covered (R11)")
        elif cat not in CATEGORIES:
            bad((*base, "scope", "categories", j), f"{cat!r} is not a known category")
    if ag.scope.categories and ag.kind is not AgreementKind.LOGISTICS_SUPPORT:
        bad((*base, "scope", "categories"), "only a logistics-support agreement has categories")
    if ag.scope.ammunition.allowed and "ammunition" not in ag.scope.categories:
        bad((*base, "scope", "ammunition"), "ammunition is allowed but not among the categories")
    if ag.scope.ammunition.purposes != "all":
        for j, pu in enumerate(ag.scope.ammunition.purposes):
            if pu not in PURPOSES:
                bad((*base, "scope", "ammunition", "purposes", j), f"{pu!r} is not a purpose")
    for k in ag.settlement_days:
        if k not in _SETTLEMENTS:
            bad((*base, "settlement_days", k), f"{k!r} is not a settlement method")
    seen_levels: dict[tuple[str, str], int] = {}
    for r, row in enumerate(ag.equivalence):
        if len(row) < 2:
            bad((*base, "equivalence", r), "a row maps at least two parties' levels")
        for code, lv in row.items():
            path = (*base, "equivalence", r, code)
            if code not in ag.parties:
                bad(path, f"{code!r} is not a party to this agreement")
            elif code in parties and lv not in parties[code].level_codes():
                bad(
                    path,
                    f"{lv!r} is not a level of {code} ({', '.join(parties[code].level_codes())})",
                )
            elif (code, lv) in seen_levels:
                bad(path, f"{code} {lv} already has a row (row {seen_levels[(code, lv)]})")
            seen_levels.setdefault((code, lv), r)
    forced: date | None = None
    for j, ev in enumerate(ag.events):
        path = (*base, "events", j)
        if j and ev.date < ag.events[j - 1].date:
            bad((*path, "date"), "events must be listed in date order")
        for n, note in enumerate(ev.notes):
            if note not in notes:
                bad((*path, "notes", n), f"{note!r} is not a known note")
        if ev.kind is EventKind.ENTERED_INTO_FORCE and forced is None:
            forced = ev.date
        if ev.kind is EventKind.TERMINATION_NOTIFIED:
            if forced is None:
                bad(path, "a termination notice before the agreement entered into force")
            if ev.effective is not None and ev.effective < ev.date:
                bad((*path, "effective"), "the notice takes effect before it was given")
        elif ev.effective is not None:
            bad((*path, "effective"), "only a termination notice has an effective date")
    if not all(known):
        return
    for dur in ("initial", "renewal", "notice"):
        value = getattr(ag.term, dur)
        if value is not None:
            try:
                lifecycle.add_duration(date(2000, 1, 1), value)
            except ValueError as exc:  # pragma: no cover - the model's pattern already checks
                bad((*base, "term", dur), str(exc))


def dump(registry: Registry, fmt: str = "yaml") -> str:
    """Returns the registry as YAML or JSON text that `read_file` reads back to the same records."""
    data = registry.model_dump(mode="json", exclude_defaults=True)
    data = {k: data.get(k, []) for k in _TOP_KEYS if data.get(k)}
    if fmt == "json":
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"
    if fmt == "yaml":
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    raise InputError(f"{fmt!r} is not an export format (yaml or json)")


def select(registry: Registry, kinds: Iterable[str]) -> Registry:
    """Returns only the named kinds of record (`parties`, `agreements`, `notes`, `consents`)."""
    wanted = set(kinds)
    unknown = wanted - set(_TOP_KEYS)
    if unknown:
        raise InputError(f"{sorted(unknown)[0]!r} is not a registry part ({', '.join(_TOP_KEYS)})")
    return Registry.model_validate({k: getattr(registry, k) for k in _TOP_KEYS if k in wanted})
