"""How `--help` writes parameters: in the forms an operator types, not as Python types.

Typer 0.29 shows each parameter by its Python annotation — `--noforn <bool>`, `--topic <list[str]>`,
`--level <str>`, an argument as `file <path>` — and a required argument as `{file}` in the usage
line. `AccordGroup`, the class of `accord`'s top-level click group (`accord.cli.app`), rewrites every
parameter of every command once, when Typer builds the click command tree (`accord --help`, any
command, `typer.main.get_command(app)`):

- a flag shows no value: `--noforn`, `--push / --no-push`;
- an option that takes a value shows its metavar: the one it declares (`typer.Option(metavar=…)`),
  else what it takes when the option's name says so (`--at DATE`, `--party PARTY`,
  `--topic TOPIC`), else its type as click names it (`TEXT`, `INTEGER`, `PATH`);
- an argument shows its name in capitals: `FILE`, `CODE`, `[PEER]` when it may be left out;
- a default given as text (`show_default="today"`) reads `[default: today]`, without the
  parentheses Typer adds.

tests/cli/test_cli_help.py runs `--help` of every command and fails on any Python type form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args, get_origin

from typer._click.core import Command, Context
from typer.core import TyperArgument, TyperGroup, TyperOption

# What an option takes, by its long name, where that says more than its type: one table for every
# command, so that `--at` reads `DATE` wherever it appears.
VALUE_NAMES: dict[str, str] = {
    "--at": "DATE",
    "--date": "DATE",
    "--party": "PARTY",
    "--to": "PARTY",
    "--originator": "PARTY",
    "--holder": "PARTY",
    "--rel-to": "PARTY",
    "--requester": "PARTY",
    "--supplier": "PARTY",
    "--topic": "TOPIC",
    "--level": "LEVEL",
    "--clearance": "LEVEL",
    "--output": "FILE",
    "--file": "FILE",
    "--certfile": "FILE",
    "--keyfile": "FILE",
}

# Click's names for the types accord's parameters have.
_TYPE_NAMES: dict[type, str] = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}


def _type_name(param: TyperOption | TyperArgument) -> str:
    desc = param.type_descriptor
    if desc.is_choice:
        return "[" + "|".join(str(c) for c in desc.choices or ()) + "]"
    if desc.is_path:
        return "PATH"
    annotation: Any = desc.annotation
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    if annotation is datetime:
        return "DATETIME"
    return _TYPE_NAMES.get(annotation, "VALUE")


class _Option(TyperOption):
    """A Typer option shown as click shows it: flags bare, values by a metavar."""

    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or _type_name(self)

    def _get_default_string(
        self,
        *,
        ctx: Context,
        show_default_is_str: bool,
        default_value: Any,
    ) -> str:
        if show_default_is_str:  # the default as `show_default` words it
            return str(self.show_default)
        return super()._get_default_string(
            ctx=ctx, show_default_is_str=show_default_is_str, default_value=default_value
        )


class _Argument(TyperArgument):
    """A Typer argument shown by its name in capitals: `FILE`, `[PEER]`, `FILE...`."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None  # the name says what it is; Typer would add `<path>`, `<str>`

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        if self.nargs != 1:
            name += "..."
        return name

    def _get_default_string(
        self,
        *,
        ctx: Context,
        show_default_is_str: bool,
        default_value: Any,
    ) -> str:
        if show_default_is_str:  # the default as `show_default` words it
            return str(self.show_default)
        return super()._get_default_string(
            ctx=ctx, show_default_is_str=show_default_is_str, default_value=default_value
        )


def _rewrite_param(param: object) -> None:
    # The parameters are Typer's own objects (typer.main builds them; no hook chooses their
    # class): each becomes the subclass above, which adds behaviour and no state.
    if type(param) is TyperOption:
        param.__class__ = _Option
        if param.metavar is None and not (param.is_flag or param.count):
            long_names = [o for o in param.opts if o.startswith("--")]
            named = next((VALUE_NAMES[o] for o in long_names if o in VALUE_NAMES), None)
            param.metavar = named or _type_name(param)
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
        if param.metavar is None and param.name:
            param.metavar = param.name.upper()


def rewrite_help(command: Command, parent: Context | None = None) -> None:
    """Rewrites the parameters of `command` and of every command under it, `--help` included."""
    # The context click makes for `--help` (help option names, settings inherited from `parent`).
    ctx = Context(command, info_name=command.name, parent=parent, **command.context_settings)
    help_option = command.get_help_option(ctx)  # made once per command, cached, then reused
    for param in [*command.params, help_option]:
        _rewrite_param(param)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            rewrite_help(sub, ctx)


class AccordGroup(TyperGroup):
    """`accord`'s top-level group: Typer's, with every command's help in real option forms."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        rewrite_help(self)
