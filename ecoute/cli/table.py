"""The command table's vocabulary: commands, groups and their parameters declared as data.

Each command names its action as "module.function"; the module is imported only when the command runs,
so `ecoute --help` reads the table and nothing else.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.models import ParameterInfo

REQUIRED: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One option or argument: the action's keyword, its type, its default and typer's description."""

    name: str
    kind: Any
    default: Any
    info: ParameterInfo


@dataclass(frozen=True)
class Command:
    name: str
    action: str  # "package.module.function", called with one keyword per parameter
    help: str
    arguments: tuple[Param, ...]


@dataclass(frozen=True)
class Group:
    name: str
    help: str
    commands: tuple[Command, ...]


def option(name: str, kind: Any, default: Any = REQUIRED, *, flags: Sequence[str] = (), **info: Any) -> Param:
    """An option; without flags its name is `--name` (with `--no-name` for a bool), as typer derives it."""
    return Param(name, kind, default, typer.Option(*flags, **info))


def argument(name: str, kind: Any, default: Any = REQUIRED, **info: Any) -> Param:
    return Param(name, kind, default, typer.Argument(**info))


def command(name: str, action: str, help: str, *arguments: Param) -> Command:
    """A command: its name, its action ("module.function"), its help, then its parameters in order."""
    return Command(name, action, help, arguments)


def group(name: str, help: str, *commands: Command) -> Group:
    return Group(name, help, commands)


def _callback(entry: Command) -> Callable[..., Any]:
    """A function typer reads the parameters and help of, which imports the action only when called."""

    def invoke(**values: Any) -> Any:
        module, _, function = entry.action.rpartition(".")
        return getattr(importlib.import_module(module), function)(**values)

    parameters = [
        inspect.Parameter(
            p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=Annotated[p.kind, p.info]
        )
        for p in entry.arguments
    ]
    invoke.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    invoke.__annotations__ = {p.name: p.annotation for p in parameters}
    invoke.__doc__ = entry.help
    invoke.__name__ = invoke.__qualname__ = entry.name.replace("-", "_")
    return invoke


def build(help: str, table: Sequence[Command | Group]) -> typer.Typer:
    """The typer application the table describes, commands and groups in the table's order."""
    # Help texts are plain text: "[/<id>]" is a path, not console markup.
    app = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
    for entry in table:
        if isinstance(entry, Group):
            sub = typer.Typer(help=entry.help, rich_markup_mode=None)
            for inner in entry.commands:
                sub.command(inner.name)(_callback(inner))
            app.add_typer(sub, name=entry.name)
        else:
            app.command(entry.name)(_callback(entry))
    return app
