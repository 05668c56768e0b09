"""docs/architecture.md's table of packages is the code's: every package and top-level module
of `src/accord/` has a row, and its "imports" column is what the code imports (accord.*,
relative imports excluded, migrations excluded)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "accord"
ROW = re.compile(r"^\| `accord\.(\w+)` \| [^|]+ \| ([^|]+) \|$")


def _part(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def imports() -> dict[str, set[str]]:
    """Returns each part of accord and the other parts it imports."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or path.name == "__main__.py":
            continue
        part = _part(path)
        found.setdefault(part, set())
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                mod = node.module.split(".")
                if mod[0] == "accord":
                    names = [mod[1]] if len(mod) > 1 else [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names if a.name.startswith("accord.")]
            found[part].update(n for n in names if n != part)
    found.pop("__init__", None)
    return found


def documented() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for line in (ROOT / "docs" / "architecture.md").read_text("utf-8").splitlines():
        m = ROW.match(line)
        if m:
            deps = m.group(2).strip()
            table[m.group(1)] = set() if deps == "—" else {d.strip() for d in deps.split(",")}
    return table


def test_every_part_is_on_the_map() -> None:
    assert set(imports()) == set(documented())


def test_the_map_says_what_each_part_imports() -> None:
    code, doc = imports(), documented()
    wrong = {p: (sorted(code[p]), sorted(doc.get(p, set()))) for p in code if code[p] != doc.get(p)}
    assert not wrong, wrong


def test_the_core_imports_no_surface() -> None:
    """registry and policy know nothing of TAXII, the API, the web pages or the CLI."""
    code = imports()
    surfaces = {"taxii", "api", "web", "cli", "app", "server", "federation"}
    for core in ("registry", "policy", "store", "errors", "clock", "i18n", "labels"):
        assert not (code[core] & surfaces), (core, code[core] & surfaces)


def test_no_two_parts_import_each_other() -> None:
    """The parts form layers: no import cycle between packages, however long (a cycle is a knot
    that makes one part impossible to change, test or read without the other)."""
    graph = imports()

    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in graph.get(todo.pop(), set()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    knots = sorted((a, b) for a in graph for b in graph[a] if a in reaches(b))
    assert not knots, knots


def test_the_map_is_in_layer_order() -> None:
    """Each row imports only rows above it, as the map's text says."""
    order = [
        ROW.match(line).group(1)  # type: ignore[union-attr]
        for line in (ROOT / "docs" / "architecture.md").read_text("utf-8").splitlines()
        if ROW.match(line)
    ]
    code = imports()
    late = {p: sorted(d for d in code[p] if order.index(d) > order.index(p)) for p in order}
    assert not any(late.values()), {p: d for p, d in late.items() if d}
