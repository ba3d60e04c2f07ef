"""Mentions split by time: one index per month (or ISO week) of their own `created_at`.

A mention's index is a pure function of its `created_at`, so collecting a post twice lands on the
same index and id (never a second copy). Every period index carries the `mentions` alias (the index
template adds it when the first write creates the index); a read with a date range names only the
period indices that overlap it (`indices_for`), and a read by id looks in each index (`locate`).
An index behind the alias whose name is no period (the single index of an installation made before,
see `ecoute index migrate`) is always read: its dates are unknown. A period index of an older schema
version (`-v1-`: the mapping before the lean one) is read like the others until the migration copies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from core.documents import Mention
from core.errors import IndexUnavailableError
from index.catalog import DocumentType
from index.client import IndexNames

MENTIONS = DocumentType("mentions", Mention, periodic=True)

SCHEMA_VERSION = 2
"""Raised when a mapping changes incompatibly: new indices `<alias>-v<N>` are created from templates.
2: the mentions' lean mapping (fields only read back are no longer indexed; text without stemmed and
keyword sub-fields); other document types' mappings did not change, their v1 indices stay as they are."""

_PERIOD = re.compile(
    r"-v(?P<version>\d+)-(?:(?P<year>\d{4})\.(?P<month>\d{2})|(?P<wyear>\d{4})w(?P<week>\d{2}))$"
)
LOOKUP_CHUNK = 1000
"""(index, id) pairs per multi-get when looking mentions up by id."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def period_of(created_at: datetime, granularity: str) -> str:
    """The period suffix of a moment: `2025.03` (month) or `2025w09` (ISO week), in UTC."""
    moment = _utc(created_at)
    if granularity == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}w{week:02d}"
    return f"{moment.year}.{moment.month:02d}"


def mention_index(names: IndexNames, created_at: datetime) -> str:
    """The concrete index a mention created at `created_at` lives in."""
    return f"{MENTIONS.alias(names)}-v{SCHEMA_VERSION}-{period_of(created_at, names.granularity)}"


def period_bounds(index: str) -> tuple[datetime, datetime] | None:
    """[start, end) of the period an index holds, or None for an index that is no period."""
    found = _PERIOD.search(index)
    if not found:
        return None
    if found["year"]:
        year, month = int(found["year"]), int(found["month"])
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return start, end
    monday = date.fromisocalendar(int(found["wyear"]), int(found["week"]), 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def is_current(index: str) -> bool:
    """Whether an index is a period index of this SCHEMA_VERSION (not one for the migration to copy)."""
    found = _PERIOD.search(index)
    return found is not None and int(found["version"]) == SCHEMA_VERSION


def _order(index: str) -> tuple[datetime, str]:
    bounds = period_bounds(index)
    return (bounds[0] if bounds else datetime.min.replace(tzinfo=UTC), index)


def mention_indices(es: Elasticsearch, names: IndexNames) -> list[str]:
    """Every concrete index behind the mentions alias, oldest period first (a non-period index first)."""
    try:
        found = es.indices.get_alias(name=MENTIONS.alias(names))
    except NotFoundError:
        return []
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot list the indices of {MENTIONS.alias(names)}: {exc}") from exc
    return sorted(found, key=_order)


def overlaps(index: str, start: datetime | None, end: datetime | None) -> bool:
    """Whether an index may hold mentions created in [start, end); a non-period index always may."""
    bounds = period_bounds(index)
    if bounds is None:
        return True
    first, after = bounds
    return (start is None or after > _utc(start)) and (end is None or first < _utc(end))


def choose_indices(indices: list[str], alias: str, start: datetime | None, end: datetime | None) -> str:
    """What a search of [start, end) names, from the existing `indices`: the alias when that is all of
    them; otherwise the overlapping ones; the newest alone when none overlaps (the query's own date range
    then finds nothing in it: a search must name some index)."""
    if not indices:
        return alias
    chosen = [i for i in indices if overlaps(i, start, end)]
    if len(chosen) == len(indices):
        return alias
    return ",".join(chosen or indices[-1:])


def indices_for(
    es: Elasticsearch, names: IndexNames, start: datetime | None = None, end: datetime | None = None
) -> str:
    """The index expression a read of mentions created in [start, end) names; the alias when unbounded."""
    if start is None and end is None:
        return MENTIONS.alias(names)
    return choose_indices(mention_indices(es, names), MENTIONS.alias(names), start, end)


def locate(es: Elasticsearch, names: IndexNames, mention_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored copy of each of these mentions, found by id in every index (newest first): a multi-get,
    real-time and by id (no scan). Each value holds `_index`, `_seq_no`, `_primary_term` and `_source`;
    ids stored nowhere are left out."""
    ids = list(dict.fromkeys(i for i in mention_ids if i))
    indices = mention_indices(es, names)[::-1]
    if not ids or not indices:
        return {}
    pairs = [{"_index": index, "_id": i} for i in ids for index in indices]
    found: dict[str, dict[str, Any]] = {}
    try:
        for at in range(0, len(pairs), LOOKUP_CHUNK):
            for doc in es.mget(docs=pairs[at : at + LOOKUP_CHUNK])["docs"]:
                if doc.get("found") and doc["_id"] not in found:
                    found[doc["_id"]] = doc
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot look mentions up by id: {exc}") from exc
    return found


def refresh(es: Elasticsearch, indices: Iterable[str]) -> None:
    """Make what was written to these indices searchable now (only these: a refresh has a cost)."""
    named = sorted(set(indices))
    if not named:
        return
    try:
        es.indices.refresh(index=",".join(named), ignore_unavailable=True)
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot refresh {', '.join(named)}: {exc}") from exc


def period_counts(es: Elasticsearch, names: IndexNames) -> dict[str, int]:
    """How many mentions each index behind the alias holds, oldest period first."""
    indices = mention_indices(es, names)
    if not indices:
        return {}
    try:
        stats = es.indices.stats(index=",".join(indices), metric="docs")["indices"]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot count the mentions' indices: {exc}") from exc
    return {i: int(stats.get(i, {}).get("primaries", {}).get("docs", {}).get("count", 0)) for i in indices}


@dataclass(frozen=True)
class PeriodIndex:
    """One index behind the mentions' alias, as the cluster holds it."""

    name: str
    mentions: int
    shards: int
    replicas: int
    lifecycle_policy: str | None

    def line(self) -> str:
        return f"{self.name}: {self.mentions:,} mentions, " + layout_text(
            self.shards, self.replicas, self.lifecycle_policy
        )


def layout_text(shards: int, replicas: int, lifecycle_policy: str | None) -> str:
    """'2 shards, 1 replica, lifecycle policy P' (or 'no lifecycle policy')."""
    policy = f"lifecycle policy {lifecycle_policy}" if lifecycle_policy else "no lifecycle policy"
    return f"{shards} shard{'s' * (shards != 1)}, {replicas} replica{'s' * (replicas != 1)}, {policy}"


def period_layout(es: Elasticsearch, names: IndexNames) -> list[PeriodIndex]:
    """Each index behind the alias, oldest period first: its mentions and the shards, replicas and
    lifecycle policy it was made with (a config change reaches only indices made after it)."""
    counts = period_counts(es, names)
    if not counts:
        return []
    try:
        settings = es.indices.get_settings(index=",".join(counts))
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot read the mentions' index settings: {exc}") from exc
    layout = []
    for index, count in counts.items():
        own = settings.get(index, {}).get("settings", {}).get("index", {})
        policy = own.get("lifecycle", {}).get("name") or own.get("lifecycle.name")
        shards, replicas = int(own.get("number_of_shards", 1)), int(own.get("number_of_replicas", 0))
        layout.append(PeriodIndex(index, count, shards, replicas, policy or None))
    return layout
