"""`ecoute index migrate`: an installation's older mentions and alerts indices copied into period indices
of this schema version: the single index made before period indices, and the period indices of an
older mapping.

Resumable: the id of the last copied page is kept in the state index, so a run stopped half-way goes
on from there (a page copied twice is harmless: a document's index and id are a function of it). At the
end every document of the old index is checked, by id, in the index of its `created_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from core.documents import SourceState
from core.errors import EcouteError, IndexUnavailableError
from core.progress import Progress
from index.alerts import ALERTS
from index.bulk import create_documents
from index.catalog import DocumentType
from index.client import IndexNames
from index.mentions import mark_mentions_changed
from index.periods import MENTIONS, SCHEMA_VERSION, is_current, period_index, period_indices
from index.state import STATE, get_state, put_state

CURSOR = "migration:mentions-periods"
"""The state document that remembers how far a migration went (every old index, mentions' and alerts')."""
MIGRATED = (MENTIONS, ALERTS)
"""The periodic document types, in the order they are copied."""


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
                "nothing to migrate: the mentions and alerts are already in period indices "
                f"(schema v{SCHEMA_VERSION})"
            )
        state = "done" if self.finished else "stopped; run it again to go on"
        check = f"{self.expected:,} in {', '.join(self.old)}, {self.missing} missing from the period indices"
        gone = "old index removed" if self.removed else "old index kept"
        return f"migration {state}: {self.copied:,} copied, {self.already:,} already there; {check}; {gone}"


def legacy_indices(es: Elasticsearch, names: IndexNames, document: DocumentType = MENTIONS) -> list[str]:
    """The indices behind a periodic type's alias to copy: no period (made before period indices), or a
    period of an older schema version (an older mapping)."""
    return [i for i in period_indices(es, names, document) if not is_current(i)]


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
    """Copy the old indices' mentions, then alerts, into their period indices, `batch` at a time (at most
    `max_batches` pages this run), then check each is there; the old indices are deleted unless `keep_old`.

    `progress` hears the documents copied after each batch ("<old index>: mentions copied", out of those
    left to copy), then those checked ("<old index>: mentions checked"); "alerts" for an alerts index.
    """
    olds = {old: document for document in MIGRATED for old in legacy_indices(es, names, document)}
    report = MigrationReport(old=list(olds))
    if not report.old:
        return report
    pages = 0  # this run's, over every old index
    try:
        for old, document in olds.items():
            kind = document.name
            es.indices.refresh(index=old)
            state = get_state(es, names, CURSOR)
            done = state.data.get("done", {}) if state else {}
            after = done.get(old)
            handled = 0
            left = None
            if progress is not None:
                left = _left_to_copy(es, old, after)
                progress(f"{old}: {kind} copied", 0, left)
            while max_batches is None or pages < max_batches:
                hits = _page(es, old, after, batch)
                if not hits:
                    break
                docs = [document.model.model_validate(h["_source"]) for h in hits]
                written = create_documents(
                    es,
                    document.alias(names),
                    ((h["_id"], d) for h, d in zip(hits, docs, strict=True)),
                    refresh=False,
                    targets={h["_id"]: _target(document, names, d) for h, d in zip(hits, docs, strict=True)},
                )
                report.copied += written.created
                report.already += written.duplicates
                handled += len(hits)
                if progress is not None:
                    progress(f"{old}: {kind} copied", handled, left)
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
        for document in set(olds.values()):
            es.indices.refresh(index=document.alias(names))
        if MENTIONS in olds.values():
            mark_mentions_changed(es, names)
        for old, document in olds.items():
            report.expected += es.count(index=old)["count"]
            report.missing += _missing(es, names, document, old, batch, progress)
        report.finished = True
        if report.missing:
            raise EcouteError(f"{report.line()}: the old index is kept; run the migration again")
        if keep_old:  # kept aside, no longer read through the alias (it would count everything twice)
            es.indices.update_aliases(
                actions=[{"remove": {"index": old, "alias": d.alias(names)}} for old, d in olds.items()]
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


def _target(document: DocumentType, names: IndexNames, doc: Any) -> str:
    """The period index a copied document belongs in: that of its own `created_at`."""
    return period_index(document, names, doc.created_at)


def _missing(
    es: Elasticsearch,
    names: IndexNames,
    document: DocumentType,
    old: str,
    batch: int,
    progress: Progress | None = None,
) -> int:
    """How many documents of `old` are not in the index of their `created_at` (by id: a multi-get)."""
    missing, after, checked = 0, None, 0
    total = es.count(index=old)["count"] if progress is not None else None
    while hits := _page(es, old, after, batch):
        docs = [
            {"_index": _target(document, names, document.model.model_validate(h["_source"])), "_id": h["_id"]}
            for h in hits
        ]
        missing += sum(1 for d in es.mget(docs=docs)["docs"] if not d.get("found"))
        after = hits[-1]["sort"][0]
        checked += len(hits)
        if progress is not None:
            progress(f"{old}: {document.name} checked", checked, total)
    return missing
