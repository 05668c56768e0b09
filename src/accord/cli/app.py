"""The Typer application and what every command shares: settings, the store, output helpers.

Command modules (`registry_cmds`, `policy_cmds`, …) attach their commands to `app` or to one of the
sub-applications here; `accord.cli.main.run` is the console entry point and the one place where
errors become exit codes.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.console import Console

from accord import clock
from accord.cli.help_forms import AccordGroup
from accord.errors import InputError
from accord.settings import Settings, load_settings

if TYPE_CHECKING:
    from accord.node import Node
    from accord.registry.model import Registry
    from accord.store import Store

app = typer.Typer(
    name="accord",
    cls=AccordGroup,  # every command's --help in the forms an operator types (help_forms)
    help="Share classified information and logistics support strictly under signed agreements.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
parties_app = typer.Typer(
    help="The parties and their classification schemes.", no_args_is_help=True
)
agreements_app = typer.Typer(help="Agreements and their lifecycles.", no_args_is_help=True)
notes_app = typer.Typer(help="Diplomatic notes.", no_args_is_help=True)
consents_app = typer.Typer(help="Originators' consents (R6).", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"accord {version('accord')}")
        raise typer.Exit(0)


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Share classified information and logistics support strictly under signed agreements."""


app.add_typer(parties_app, name="parties")
app.add_typer(agreements_app, name="agreements")
app.add_typer(notes_app, name="notes")
app.add_typer(consents_app, name="consents")

console = Console(highlight=False, soft_wrap=True)

#: `--purpose`'s default: `accord.policy.marking.DEFAULT_PURPOSE`, written out so that building the
#: commands does not load the policy engine (tests/cli/test_cli_startup.py holds the two equal).
DEFAULT_PURPOSE = "defence"


class Invocation:
    """What one command works with: the settings, the store (opened and migrated on first use)
    and, for commands that act as the node, the one `accord.node.Node` every surface receives."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._node: Node | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            from accord.store import open_store  # SQLAlchemy: only for commands that use the store

            self._store = open_store(str(self.settings.database_url))
        return self._store

    def node(self) -> Node:
        """Returns the node these settings describe, set up first on an empty store (the
        demonstration scenario, as `accord serve` does, without sample items or credentials)."""
        if self._node is None:
            from accord.node import Node, node_config
            from accord.server import prepare  # the first-run setup, without the web stack

            party, _ = prepare(self.store, self.settings, extras=False)
            self._node = Node(self.store, party, node_config(self.settings, party))
        return self._node

    def registry(self) -> Registry:
        from accord.registry import repository

        return repository.load(self.store)

    def party(self) -> str | None:
        """Returns this node's party: the `party` setting, else the one `accord init` recorded."""
        from accord.registry import repository

        override = self.settings.party
        return str(override) if override else repository.get_meta(self.store, "party")

    def today(self) -> date:
        """Returns the day commands decide on: the node's one calendar (`accord.clock`)."""
        return clock.today(self.settings.date)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


_invocation: list[Invocation] = []


def invocation() -> Invocation:
    """Returns this command's invocation (settings from env, file, default)."""
    if not _invocation:
        _invocation.append(Invocation(load_settings()))
    return _invocation[0]


def reset_invocation() -> None:
    """Forgets the invocation; the entry point calls this so each command reads settings afresh."""
    while _invocation:
        _invocation.pop().close()


def print_json(data: Any) -> None:
    """Writes `data` as indented JSON to stdout."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def parse_date(text: str | None, option: str = "--at") -> date:
    """Returns the date given as YYYY-MM-DD; when None, the node's today (`ACCORD_DATE` when set,
    else the UTC date: `accord.clock`). InputError names the option."""
    if text is None:
        return invocation().today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None
