"""What commands print: their lines, the one JSON document of `--json`, and progress bars on stderr.

Not a command group: imported by the command modules that need it, when they run.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import typer

from core.progress import Progress
from core.text import terminal_text

# Written as JSON's \uXXXX escape: lone surrogates (UTF-8 cannot carry them: stdout would raise), and the
# DEL, C1 and bidi controls a terminal acts on, which json.dumps leaves as they are (it escapes C0 itself).
NOT_AS_WRITTEN = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def say(line: str, err: bool = False, multiline: bool = False) -> None:
    """Print one human-readable line (on stderr with `err`). Every such line goes through here, since
    most carry outside text (posts, authors, CRM values, errors): control characters are shown as
    escapes (`terminal_text`), never sent to the terminal as they are."""
    typer.echo(terminal_text(line, multiline), err=err)


class TerminalLogFormat(logging.Formatter):
    """Log lines as `say` prints lines: a message on one line, a traceback on its lines, control
    characters from outside text (a post, a CRM's or a platform's answer) shown as escapes."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return terminal_text(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:  # noqa: N802
        return terminal_text(super().formatException(ei), multiline=True)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return terminal_text(super().formatStack(stack_info), multiline=True)


def print_json(document: Any) -> None:
    """The one JSON document a `--json` command prints on stdout: dates in ISO 8601, numbers as numbers."""
    typer.echo(json_text(document, indent=2))


def json_text(document: Any, indent: int | None = None) -> str:
    """`document` as JSON, text as written but for the characters of NOT_AS_WRITTEN, which JSON's `\\uXXXX`
    escape writes: the same document once read, and nothing a terminal would act on."""
    text = json.dumps(document, ensure_ascii=False, indent=indent, default=_iso)
    return NOT_AS_WRITTEN.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


def _iso(value: object) -> str:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


@contextmanager
def progress_bars(shown: bool = True) -> Iterator[Progress | None]:
    """A progress callback that draws one bar per step on stderr while the block runs, gone afterwards.

    None, and nothing drawn, unless `shown` and stderr is a terminal: pipes, files, tests and `--json`
    runs get no bar. Log lines written meanwhile appear above the bars.
    """
    if not shown or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    bars = Bars(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=False,  # stdout is the command's output, never the bars' console
        redirect_stderr=True,
    )
    steps: dict[str, Any] = {}

    def advance(step: str, done: int, total: int | None) -> None:
        if step not in steps:
            steps[step] = bars.add_task(step, total=total)
        bars.update(steps[step], completed=done, total=total)

    with bars, _logs_above():
        yield advance


@contextmanager
def _logs_above() -> Iterator[None]:
    """Point the log handlers that write to stderr at the bars' stderr, so a log line does not break them."""
    proxy = sys.stderr
    original = getattr(proxy, "rich_proxied_file", None)
    moved = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and original is not None and handler.stream is original
    ]
    for handler in moved:
        handler.setStream(proxy)
    try:
        yield
    finally:
        for handler in moved:
            handler.setStream(original)
