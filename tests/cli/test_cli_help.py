"""`--help` of every command shows the forms an operator types (accord.cli.help_forms).

Before: Typer 0.29 showed Python types — `--noforn <bool>`, `--topic <list[str]>`, `--level <str>`,
`publish [OPTIONS] {file}` — and serve's defaults only in prose ("Worker processes (default 1)").
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main
from typer.core import TyperArgument, TyperGroup, TyperOption

from accord.cli.app import app
from accord.cli.main import main

# Python type forms Typer writes, and `{name}`, its form of a required argument.
PYTHON_FORMS = re.compile(r"<(?:bool|str|int|float|path|list\[|tuple|datetime)[^>]*>|\{[a-z_]+\}")


def _commands() -> list[tuple[list[str], Any]]:
    """(path, click command) of `accord` and of every command and group under it."""
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                walk([*path, name], sub)

    walk([], typer.main.get_command(app))
    return found


COMMANDS = _commands()


def _help(path: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    code = main([*path, "--help"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _rows(text: str) -> dict[str, str]:
    """The rows of the help panels, by option (`--at`) or argument (`FILE`), continuations joined."""
    rows: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"│\s+(?:\*\s+)?(--[\w-]+|[A-Z][A-Z_]*)\s", line)
        if m:
            current = m.group(1)
            rows[current] = line
        elif current is not None and line.startswith("│"):
            rows[current] += " " + line
        else:
            current = None
    return rows


def _shows_a_default(param: Any) -> bool:
    """Whether a parameter has a default to show: a value, or one stated as text."""
    if isinstance(param.show_default, str):
        return True
    if param.default is None or param.expose_value is False:
        return False
    if isinstance(param, TyperOption) and param.is_flag and not param.secondary_opts:
        return bool(param.default)  # a bare flag is off unless given
    return True


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "accord" for p, _ in COMMANDS]
)
def test_help_shows_real_forms_and_every_default(
    path: list[str],
    command: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one row per parameter
    text = _help(path, capsys)
    assert not PYTHON_FORMS.findall(text), text
    rows = _rows(text)
    for param in command.params:
        if isinstance(param, TyperOption):
            key = param.opts[0]
            row = rows[key]
            if param.is_flag:
                # A flag takes no value: nothing between its name(s) and its help.
                rest = row.split(key, 1)[1]
                for secondary in param.secondary_opts:
                    rest = rest.replace(secondary, "", 1)
                assert rest.lstrip().startswith((param.help or "")[:20]), row
            else:
                assert param.metavar and param.metavar in row, row
        else:
            assert isinstance(param, TyperArgument)
            key = param.name.upper()
            row = rows[key]
            usage = f"[{key}]" if not param.required else key
            assert re.search(rf"Usage: accord\b.* {re.escape(usage)}(\s|$)", text, re.M), text
        # A default is stated once, as `[default: …]`, never only in the help's prose.
        assert "default" not in (param.help or "").lower(), (key, param.help)
        if _shows_a_default(param):
            assert "[default: " in row, row


def test_serve_shows_the_settings_its_options_override(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    rows = _rows(_help(["serve"], capsys))
    assert (
        "INTEGER" in rows["--workers"] and "[default: ACCORD_WORKERS, else 1]" in rows["--workers"]
    )
    assert "[default: ACCORD_PORT, else 8000]" in rows["--port"]
    assert "[default: ACCORD_HOST, else 127.0.0.1]" in rows["--host"]


def test_publish_help_reads_as_typed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    text = _help(["publish"], capsys)
    assert "Usage: accord publish [OPTIONS] FILE" in text
    rows = _rows(text)
    assert re.match(r"│\s+--topic\s+TOPIC\s+Topic", rows["--topic"])
    assert re.match(r"│\s+--rel-to\s+PARTY\s+REL TO", rows["--rel-to"])
    assert re.match(r"│\s+--noforn\s+Never", rows["--noforn"])
    assert "[default: today]" in rows["--at"] and "DATE" in rows["--at"]


def test_a_missing_argument_is_named_as_in_the_usage_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    assert main(["parties", "show"]) == 2
    assert "Missing argument 'CODE'" in capsys.readouterr().err
