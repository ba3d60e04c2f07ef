"""`ecoute index migrate`: an installation's older mentions indices copied into period indices of this
schema version: the single index made before period indices, and the period indices of an older mapping.

Resumable: the id of the last copied page is kept in the state index, so a run stopped half-way goes
on from there (a page copied twice is harmless: a mention's index and id are a function of it). At the
end every mention of the old index is checked, by id, in the index of its `created_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from core.documents import Mention, SourceState
from core.errors import EcouteError, IndexUnavailableError
from core.progress import Progress
from index.bulk import create_documents
from index.client import IndexNames
from index.mentions import mark_mentions_changed
from index.periods import MENTIONS, SCHEMA_VERSION, is_current, mention_index, mention_indices
from index.state import STATE, get_state, put_state

CURSOR = "migration:mentions-periods"
"""The state document that remembers how far a migration went."""


@dataclass
class MigrationReport:
    old: list[str]
    copied: int = 0
    already: int = 0
    expected: int = 0
    missing: int = 0
    finished: bool = False
    removed: bool = False

    def line(self) -> str:
        if not self.old:
            return (
                f"nothing to migrate: the mentions are already in period indices (schema v{SCHEMA_VERSION})"
            )
        state = "done" if self.finished else "stopped; run it again to go on"
        check = f"{self.expected:,} in {', '.join(self.old)}, {self.missing} missing from the period indices"
        gone = "old index removed" if self.removed else "old index kept"
        return f"migration {state}: {self.copied:,} copied, {self.already:,} already there; {check}; {gone}"


def legacy_indices(es: Elasticsearch, names: IndexNames) -> list[str]:
    """The indices behind the mentions alias to copy: no period (made before period indices), or a period
    of an older schema version (an older mapping)."""
    return [i for i in mention_indices(es, names) if not is_current(i)]


def _page(es: Elasticsearch, index: str, after: str | None, size: int) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"index": index, "size": size, "sort": [{"id": "asc"}]}
    if after is not None:
        kwargs["search_after"] = [after]
    return es.search(**kwargs)["hits"]["hits"]


def migrate_to_periods(
    es: Elasticsearch,
    names: IndexNames,
    keep_old: bool = False,
    batch: int = 5000,
    max_batches: int | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Copy the old index's mentions into their period indices, `batch` at a time (at most `max_batches`
    pages this run), then check each is there; the old index is deleted unless `keep_old`.

    `progress` hears the mentions copied after each batch ("<old index>: mentions copied", out of those
    left to copy), then those checked ("<old index>: mentions checked").
    """
    report = MigrationReport(old=legacy_indices(es, names))
    if not report.old:
        return report
    try:
        for old in report.old:
            es.indices.refresh(index=old)
            state = get_state(es, names, CURSOR)
            done = state.data.get("done", {}) if state else {}
            after = done.get(old)
            pages, handled = 0, 0
            left = None
            if progress is not None:
                left = _left_to_copy(es, old, after)
                progress(f"{old}: mentions copied", 0, left)
            while max_batches is None or pages < max_batches:
                hits = _page(es, old, after, batch)
                if not hits:
                    break
                mentions = [Mention.model_validate(h["_source"]) for h in hits]
                written = create_documents(
                    es,
                    MENTIONS.alias(names),
                    ((m.id, m) for m in mentions),
                    refresh=False,
                    targets={m.id: mention_index(names, m.created_at) for m in mentions},
                )
                report.copied += written.created
                report.already += written.duplicates
                handled += len(hits)
                if progress is not None:
                    progress(f"{old}: mentions copied", handled, left)
                after = hits[-1]["sort"][0]
                done[old] = after
                put_state(
                    es,
                    names,
                    SourceState(
                        id=CURSOR,
                        kind="cursor",
                        source="migration",
                        data={"done": done},
                        updated_at=datetime.now(UTC),
                    ),
                )
                pages += 1
            else:
                if _page(es, old, after, 1):
                    return report  # stopped by max_batches: the cursor holds
        es.indices.refresh(index=MENTIONS.alias(names))
        mark_mentions_changed(es, names)
        for old in report.old:
            report.expected += es.count(index=old)["count"]
            report.missing += _missing(es, names, old, batch, progress)
        report.finished = True
        if report.missing:
            raise EcouteError(f"{report.line()}: the old index is kept; run the migration again")
        if keep_old:  # kept aside, no longer read through the alias (it would count every mention twice)
            es.indices.update_aliases(
                actions=[{"remove": {"index": old, "alias": MENTIONS.alias(names)}} for old in report.old]
            )
        else:
            es.indices.delete(index=",".join(report.old))
            report.removed = True
        es.options(ignore_status=404).delete(index=STATE.alias(names), id=CURSOR, refresh=True)
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"migration stopped (run it again to go on): {exc}") from exc
    return report


def _left_to_copy(es: Elasticsearch, old: str, after: str | None) -> int:
    """How many mentions of `old` a run starting after the id `after` has to copy."""
    query = {"match_all": {}} if after is None else {"range": {"id": {"gt": after}}}
    return int(es.count(index=old, query=query)["count"])


def _missing(
    es: Elasticsearch, names: IndexNames, old: str, batch: int, progress: Progress | None = None
) -> int:
    """How many mentions of `old` are not in the index of their `created_at` (by id: a multi-get)."""
    missing, after, checked = 0, None, 0
    total = es.count(index=old)["count"] if progress is not None else None
    while hits := _page(es, old, after, batch):
        docs = [
            {"_index": mention_index(names, Mention.model_validate(h["_source"]).created_at), "_id": h["_id"]}
            for h in hits
        ]
        missing += sum(1 for d in es.mget(docs=docs)["docs"] if not d.get("found"))
        after = hits[-1]["sort"][0]
        checked += len(hits)
        if progress is not None:
            progress(f"{old}: mentions checked", checked, total)
    return missing
