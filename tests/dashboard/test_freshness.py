"""The stale-while-revalidate store itself: one refresh per entry, a bounded number of entries."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from dashboard import freshness


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The store's clock as a one-item list the test moves on."""
    moment = [1_000_000.0]
    monkeypatch.setattr(freshness, "clock", lambda: moment[0])
    freshness.clear()
    yield moment
    freshness.wait_for_refreshes()
    freshness.clear()


def test_a_stale_entry_is_refreshed_by_one_thread_however_many_ask(now: list[float]):
    calls: list[int] = []
    release = threading.Event()

    def compute() -> int:
        calls.append(1)
        if len(calls) > 1:
            release.wait(30)
        return len(calls)

    assert freshness.cached("k", None, None, compute) == 1
    now[0] += freshness.TTL_SECONDS + 1
    assert [freshness.cached("k", None, None, compute) for _ in range(5)] == [1] * 5
    release.set()
    freshness.wait_for_refreshes()

    assert len(calls) == 2
    assert freshness.cached("k", None, None, compute) == 2


def test_the_oldest_entries_go_beyond_max_entries(now: list[float], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(freshness, "MAX_ENTRIES", 3)
    for key in "abcd":
        freshness.cached(key, None, None, lambda key=key: key)

    assert freshness.entries("a") == []
    assert [e.value for k in "bcd" for e in freshness.entries(k)] == ["b", "c", "d"]


def test_each_caller_gets_its_own_copy(now: list[float]):
    first = freshness.cached("k", None, None, lambda: {"negative": 1})
    first["negative"] = 99
    assert freshness.cached("k", None, None, lambda: {"negative": 2}) == {"negative": 1}


def test_aged_entries_are_shown_stale_then_refreshed(now: list[float]):
    values = iter([1, 2])
    assert freshness.cached("k", None, None, lambda: next(values)) == 1
    freshness.age(freshness.TTL_SECONDS + 1)  # no clock change: the entry itself is older
    assert freshness.cached("k", None, None, lambda: next(values)) == 1
    freshness.wait_for_refreshes()
    assert freshness.cached("k", None, None, lambda: 99) == 2
