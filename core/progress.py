"""How long work says how far it got, without knowing whether or how that is shown.

The work calls `progress(step, done, total)` as it advances: `step` names what is counted (a new name
starts a new count), `done` how many so far, `total` out of how many (None when unknown). The CLI draws
them on stderr; every other caller passes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Progress = Callable[[str, int, int | None], None]

Item = TypeVar("Item")


def counted(
    items: Iterable[Item], progress: Progress | None, step: str, total: int | None = None
) -> Iterator[Item]:
    """The items, telling `progress` 0 first, then each time one has been handled (after the loop body)."""
    if progress is not None:
        progress(step, 0, total)
    for done, item in enumerate(items, start=1):
        yield item
        if progress is not None:
            progress(step, done, total)
