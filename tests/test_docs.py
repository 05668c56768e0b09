"""The docs cannot go stale silently: every setting and every top-level command is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.cli.app import app
from accord.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
DOCS = "\n".join(
    p.read_text("utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: object) -> None:
    assert setting.env in DOCS  # type: ignore[attr-defined]


def test_every_command_is_documented() -> None:
    import typer.main

    names = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    missing = [n for n in names if f"accord {n}" not in DOCS]
    assert not missing, missing


#: A document name as the code and the docs cite it: `PRODUCT.md §3`, `docs/api.md`,
#: `taxii-stix.md §1.6`, `docs/reference/domain.md`.
_CITED = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")
#: Citations of documents outside accord, by what they are (MISP's book, in docs/sources.md).
_OUTSIDE = {"sharing/README.md", "using-the-system/README.md", "best-practices/README.md"}


def _texts() -> Iterator[tuple[Path, str]]:
    for pattern in (
        "src/**/*.py",
        "src/**/*.yaml",
        "tests/**/*.py",
        "bench/**/*.py",
        "*.md",
        "docs/**/*.md",
    ):
        for path in sorted(ROOT.glob(pattern)):
            yield path, path.read_text("utf-8")


def test_every_cited_document_is_in_the_repository() -> None:
    """A reader can follow every citation: each document the code, the tests, the scenario or
    the docs name (`<name>.md`) is a file of this repository (by its path, or its name under docs/)."""
    names = {p.name for p in ROOT.glob("docs/**/*.md")} | {p.name for p in ROOT.glob("*.md")}
    missing = set()
    for path, text in _texts():
        for cited in _CITED.findall(text):
            if cited in _OUTSIDE or (ROOT / cited).exists() or (path.parent / cited).exists():
                continue
            if "/" not in cited and cited in names:
                continue
            missing.add(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, sorted(missing)
