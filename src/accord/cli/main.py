"""The console entry point: runs the Typer app and turns every error into one line and an exit code.

Exit codes: 0 success (a denied release decision is a success: the command answered); 1 a refusal
by a rule or a failure of the store; 2 bad usage or bad input. A user mistake never prints a
traceback.
"""

from __future__ import annotations

import sys

import typer
import typer._click as click

# Typer 0.2x vendors its own click; its exception classes are the ones raised here.
from typer._click import exceptions as _click  # noqa: E402

# Each module registers its commands on `app` when imported.
from accord.cli import (  # noqa: F401
    audit_cmds,
    federation_cmds,
    misp_cmds,
    node_cmds,
    orders_cmds,
    policy_cmds,
    registry_cmds,
    trust_cmds,
)
from accord.cli.app import app, reset_invocation
from accord.errors import AccordError

# `accord --help` lists commands in the order a new user needs them, not in import order.
_ORDER = ("init", "demo", "serve", "publish", "check", "whatif", "changes", "sync", "import",
          "export")  # fmt: skip
_GROUPS = ("parties", "agreements", "notes", "consents", "credential", "peer", "notice",
           "orders", "ledger", "misp", "key", "audit")  # fmt: skip
app.registered_commands.sort(
    key=lambda c: _ORDER.index(c.name) if c.name in _ORDER else len(_ORDER)
)
app.registered_groups.sort(
    key=lambda g: _GROUPS.index(g.name) if g.name in _GROUPS else len(_GROUPS)
)

_command: list[click.Command] = []


def command() -> click.Command:
    """Returns the click command Typer builds from `app`, built once per process (about 80 ms:
    every parameter's annotations are read): a process that runs many commands, such as the
    test suite or a script calling `main`, pays for it once."""
    if not _command:
        _command.append(typer.main.get_command(app))
    return _command[0]


def run(argv: list[str] | None = None) -> int:
    """Runs `accord` with `argv` (default sys.argv[1:]); returns the exit code (and exits with it
    when called as the console script)."""
    code = main(argv)
    if argv is None:
        sys.exit(code)
    return code


def main(argv: list[str] | None = None) -> int:
    """Runs the command and returns its exit code without exiting the process."""
    reset_invocation()
    try:
        result = command().main(args=argv, prog_name="accord", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except AccordError as exc:
        sys.stderr.write(f"accord: error: {exc}\n")
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("accord: aborted\n")
        return 1
    except _click.NoArgsIsHelpError as exc:
        exc.show()
        return 2
    except typer.exceptions.TyperException as exc:
        sys.stderr.write(f"accord: error: {exc.format_message()}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("accord: interrupted\n")
        return 130
    finally:
        reset_invocation()


if __name__ == "__main__":
    run()
