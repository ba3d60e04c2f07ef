"""Stale-while-revalidate: a value may be shown up to TTL_SECONDS old, then is refreshed in the background.

One process-wide store for every session. An entry is found by the *shape* of a request (what is asked,
with a time window reduced to its length), so "the last 30 days" asked a minute later finds the entry of a
minute ago; the entry remembers the bounds it was computed for. How stale an entry is counts both its age
and how far its bounds are from the ones asked for:

- fresh (at most TTL_SECONDS): returned as it is;
- stale (at most MAX_STALE_SECONDS): returned at once, and one background thread per entry computes it
  again for the new bounds; a refresh that fails is logged and the old entry stays (the next call retries);
- older, or no entry: computed now, while the caller waits.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")

TTL_SECONDS = 60.0
MAX_STALE_SECONDS = 600.0
"""Older than this, a value is not safe to show even for a moment: it is computed while the caller waits."""
MAX_ENTRIES = 256
PER_SHAPE = 4
"""Entries kept per shape: two people reading different months of the same length each keep theirs."""

clock: Callable[[], float] = time.time
"""Seconds since the epoch; tests replace it to move time on."""


@dataclass
class Entry:
    """A value and what it was computed for: bounds of its window and when."""

    value: Any
    since: datetime | None
    until: datetime | None
    computed_at: float
    refresh: threading.Thread | None = field(default=None, repr=False)

    def staleness(self, since: datetime | None, until: datetime | None, now: float) -> float:
        """Seconds this entry is behind a request: its age, or how far its bounds are, whichever is more."""
        drift = max(_gap(self.since, since), _gap(self.until, until))
        return max(now - self.computed_at, drift)


def _gap(a: datetime | None, b: datetime | None) -> float:
    if a is None or b is None:
        return 0.0 if a is b else float("inf")
    return abs((a - b).total_seconds())


_lock = threading.Lock()
_store: OrderedDict[Hashable, list[Entry]] = OrderedDict()
_refreshes: set[threading.Thread] = set()


def shape_of_window(since: datetime | None, until: datetime | None) -> tuple[int | None, bool]:
    """A window as its length in whole minutes (None: from the beginning) and whether it ends now."""
    if since is None:
        return None, until is None
    end = until.timestamp() if until is not None else clock()
    return round((end - since.timestamp()) / 60), until is None


def cached(
    shape: Hashable, since: datetime | None, until: datetime | None, compute: Callable[[], T], name: str = ""
) -> T:
    """`compute()` for a window, or the entry of this shape nearest to it (see the module docstring).

    Each caller gets its own copy, as with `st.cache_data`."""
    now = clock()
    with _lock:
        entries = _store.get(shape, [])
        entry = min(entries, key=lambda e: e.staleness(since, until, now), default=None)
        staleness = entry.staleness(since, until, now) if entry else float("inf")
        if entry is not None and staleness <= MAX_STALE_SECONDS:
            if staleness > TTL_SECONDS and entry.refresh is None:
                entry.refresh = threading.Thread(
                    target=_refresh,
                    args=(shape, entry, since, until, compute, name),
                    name=f"refresh {name}",
                    daemon=True,
                )
                _refreshes.add(entry.refresh)
                entry.refresh.start()
            return copy.deepcopy(cast(T, entry.value))
    value = compute()
    _put(shape, Entry(value, since, until, now), replacing=None)
    return copy.deepcopy(value)


def _put(shape: Hashable, entry: Entry, replacing: Entry | None) -> None:
    """Store an entry as the newest of its shape; entries too old to show go, and the oldest beyond
    PER_SHAPE or MAX_ENTRIES."""
    with _lock:
        now = clock()
        kept = [
            e
            for e in _store.pop(shape, [])
            if e is not replacing and now - e.computed_at <= MAX_STALE_SECONDS
        ]
        _store[shape] = [*kept[-(PER_SHAPE - 1) :], entry]
        while sum(len(e) for e in _store.values()) > MAX_ENTRIES:
            oldest = next(iter(_store))
            if len(_store[oldest]) > 1:
                _store[oldest].pop(0)
            else:
                del _store[oldest]


def _refresh(
    shape: Hashable,
    stale: Entry,
    since: datetime | None,
    until: datetime | None,
    compute: Callable[[], Any],
    name: str,
) -> None:
    started = clock()
    try:
        value = compute()
    except Exception as exc:  # shown as one line; the stale entry stays and the next call tries again
        reason = " ".join(str(exc).split()) or type(exc).__name__
        log.warning("%s: background refresh failed, the older value stays: %s", name or shape, reason)
        with _lock:
            stale.refresh = None
    else:
        _put(shape, Entry(value, since, until, started), replacing=stale)
    finally:
        with _lock:
            _refreshes.discard(threading.current_thread())


def wait_for_refreshes(timeout: float = 60.0) -> None:
    """Wait until the background refreshes started so far have finished (tests, shutdown)."""
    with _lock:
        running = list(_refreshes)
    for thread in running:
        thread.join(timeout)


def clear() -> None:
    """Forget every entry (refreshes still running store theirs when they finish)."""
    with _lock:
        _store.clear()


def age(seconds: float) -> None:
    """Make every entry `seconds` older, as if computed that much earlier (benchmarks, tests)."""
    with _lock:
        for kept in _store.values():
            for entry in kept:
                entry.computed_at -= seconds


def entries(shape: Hashable) -> list[Entry]:
    """The entries kept for a shape, oldest first (to see how fresh shown figures are)."""
    with _lock:
        return list(_store.get(shape, []))
