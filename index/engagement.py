"""Posts that change: a known mention's counts, its author's reach and its edits, written in place.

Only `engagement`, `author.followers`, `edits` and `refreshed_at` are ever written here, as a partial
update conditional on the version read (seq_no, primary_term): triage (status, assignee, tags, note,
history), customer links, labels, flags and the first-seen text are never part of the write, so
nothing a person or a re-score changed meanwhile can be overwritten. A version conflict reads the
mention again and retries; a mention gone meanwhile (erased, deleted) is left gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from core.documents import MAX_EDITS, Edit, Mention
from core.errors import IndexUnavailableError
from index.bulk import failure_reason
from index.client import IndexNames
from index.mentions import VersionedMention, get_mentions_versioned, mark_mentions_changed
from index.periods import MENTIONS

REFRESHED_FIELDS = ("engagement", "author.followers", "edits", "refreshed_at")
"""Everything a refresh may write on a stored mention."""


@dataclass
class EngagementReport:
    """What one refresh write did, by mention id."""

    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def known_mentions(es: Elasticsearch, names: IndexNames, ids: list[str]) -> dict[str, VersionedMention]:
    """The stored mentions among `ids`, with their versions (one request)."""
    try:
        return get_mentions_versioned(es, names, ids)
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot read the known mentions: {exc}") from exc


def changes(stored: Mention, fresh: Mention, seen_at: datetime) -> dict[str, Any] | None:
    """The partial document that brings `stored` up to what `fresh` says now; None when nothing changed.

    A new text (or title) is appended to `edits` with when it was seen, unless it is already the latest
    version; the stored `text` stays the one first seen.
    """
    doc: dict[str, Any] = {}
    if fresh.engagement != stored.engagement:
        doc["engagement"] = fresh.engagement.model_dump(mode="json")
    followers = fresh.author.followers
    if followers is not None and followers != stored.author.followers:
        doc["author"] = {"followers": followers}
    latest = (stored.edits[-1].title, stored.edits[-1].text) if stored.edits else (stored.title, stored.text)
    if (fresh.title, fresh.text) != latest:
        edits = [*stored.edits, Edit(text=fresh.text, title=fresh.title, seen_at=seen_at)][-MAX_EDITS:]
        doc["edits"] = [e.model_dump(mode="json") for e in edits]
    if not doc:
        return None
    doc["refreshed_at"] = seen_at.isoformat()
    return doc


def update_known(
    es: Elasticsearch,
    names: IndexNames,
    pairs: list[tuple[VersionedMention, Mention]],
    seen_at: datetime,
    attempts: int = 3,
) -> EngagementReport:
    """Write what changed for each (stored, fresh) pair, each only if still at the version read.

    A conflict (someone triaged it meanwhile) reads the mention again and compares again, up to
    `attempts` times; an unchanged mention costs no write. Raises IndexUnavailableError when the index
    cannot be reached (what was written before stays written).
    """
    report = EngagementReport()
    fresh_by_id = {stored.mention.id: fresh for stored, fresh in pairs}
    pending = {stored.mention.id: stored for stored, _ in pairs}
    for attempt in range(attempts):
        operations: list[dict[str, Any]] = []
        for mention_id, stored in pending.items():
            doc = changes(stored.mention, fresh_by_id[mention_id], seen_at)
            if doc is None:
                report.unchanged.append(mention_id)
                continue
            version = {"if_seq_no": stored.seq_no, "if_primary_term": stored.primary_term}
            # the mention's own period index: an update through the alias reaches no index or the wrong one
            where = {"_index": stored.index} if stored.index else {}
            operations.append({"update": {"_id": mention_id, **where, **version}})
            operations.append({"doc": doc})
        if not operations:
            break
        try:
            result = es.bulk(index=MENTIONS.alias(names), operations=operations, refresh=False)
        except (ApiError, TransportError) as exc:
            if report.updated:
                mark_mentions_changed(es, names)
            raise IndexUnavailableError(f"cannot update the counts of known mentions: {exc}") from exc
        conflicts = []
        for item in result["items"]:
            outcome = item.get("update", {})
            mention_id, status = str(outcome.get("_id", "?")), outcome.get("status", 500)
            if status < 300:
                report.updated.append(mention_id)
            elif status == 404:
                report.gone.append(mention_id)
            elif status == 409 and attempt + 1 < attempts:
                conflicts.append(mention_id)
            else:
                report.failed.append((mention_id, failure_reason(outcome.get("error"))))
        if not conflicts:
            break
        current = known_mentions(es, names, conflicts)
        report.gone += [i for i in conflicts if i not in current]
        pending = current
    if report.updated:
        mark_mentions_changed(es, names)
    return report
