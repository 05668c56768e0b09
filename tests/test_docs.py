"""The docs cannot go stale silently: every setting and every top-level command is documented."""

from __future__ import annotations

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
