"""Mentions: stored in their period index, read by id, counted, re-scored and deleted; the generation
that tells caches they changed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.helpers import streaming_bulk

from core.documents import Mention, SourceState, document_id
from core.errors import IndexUnavailableError
from index import periods
from index.bulk import BulkReport, create_documents, failure_reason
from index.client import IndexNames
from index.mention_search import MentionFilter, OwnerScope
from index.periods import MENTIONS, is_current, locate, mention_index, mention_indices
from index.scan import scan_hits
from index.state import get_state, put_state

log = logging.getLogger(__name__)


def index_mentions(
    es: Elasticsearch,
    names: IndexNames,
    mentions: list[Mention],
    attempts: int = 1,
    backoff_seconds: float = 0.5,
    defer: bool = False,
    refresh: bool = True,
) -> BulkReport:
    """Create mentions by id (see `create_documents`), each in the index of its `created_at`;
    `refresh=False` leaves them to the index's own refresh (within `refresh_interval`, 1 s by default)
    or to a later `refresh_mentions(report.indices)`, which then marks the change (marking it before
    they are searchable would let a list be cached without them)."""
    try:
        report = create_documents(
            es,
            MENTIONS.alias(names),
            ((m.id, m) for m in mentions),
            refresh=refresh,
            attempts=attempts,
            backoff_seconds=backoff_seconds,
            defer=defer,
            targets=mention_targets(es, names, mentions),
        )
    except Exception:  # the passes before the one that raised may have stored some
        if refresh:
            mark_mentions_changed(es, names)
        raise
    if report.created and refresh:
        mark_mentions_changed(es, names)
    return report


UNSTABLE_DATE_FLAGS = ("undated", "future_date")
"""A mention dated when collected (its post gave no date, or one not believed): collected again later,
its `created_at` may fall in another period, so it is looked up by id before it is written."""


def mention_targets(es: Elasticsearch, names: IndexNames, mentions: list[Mention]) -> dict[str, str]:
    """The index each mention is created in: the period of its `created_at`, or where it already is.

    A mention whose date may move (UNSTABLE_DATE_FLAGS) and, while an index to migrate is still behind
    the alias (a pre-period index or one of an older schema version, before `ecoute index migrate`),
    every mention, is looked up by id first, so collecting it twice stays one copy.
    """
    targets = {m.id: mention_index(names, m.created_at) for m in mentions}
    legacy = any(not is_current(i) for i in mention_indices(es, names)) if mentions else False
    unsure = [m.id for m in mentions if legacy or set(UNSTABLE_DATE_FLAGS) & set(m.flags)]
    for mention_id, doc in locate(es, names, unsure).items():
        targets[mention_id] = doc["_index"]
    return targets


def refresh_mentions(es: Elasticsearch, names: IndexNames, indices: Iterable[str] | None = None) -> None:
    """Make the mentions written so far to `indices` (all of them when None) searchable now."""
    periods.refresh(es, [MENTIONS.alias(names)] if indices is None else indices)
    mark_mentions_changed(es, names)


MENTIONS_GENERATION = "generation:mentions"
"""The state document whose token changes after every write to the mentions (cache keys read it)."""


NO_GENERATION = ""


def mark_mentions_changed(es: Elasticsearch, names: IndexNames) -> None:
    """Give the mentions a new generation token, so lists cached under the old one are read again.

    Called after every write to the mentions. It never fails the write: if the token cannot be
    stored, a warning is logged and the dashboard's cache expires on its own (its TTL).
    """
    state = SourceState(
        id=MENTIONS_GENERATION,
        kind="generation",
        source="mentions",
        data={"token": uuid.uuid4().hex},
        updated_at=datetime.now(UTC),
    )
    try:  # a get by id is real-time: no refresh needed for readers to see the new token
        put_state(es, names, state, refresh=False)
    except (ApiError, TransportError) as exc:
        log.warning("mentions changed but their generation was not bumped (caches expire alone): %s", exc)


def mentions_generation(es: Elasticsearch, names: IndexNames) -> str:
    """The current generation token of the mentions (one get by id); NO_GENERATION before any write."""
    state = get_state(es, names, MENTIONS_GENERATION)
    return str(state.data.get("token", NO_GENERATION)) if state else NO_GENERATION


def delete_mentions(es: Elasticsearch, names: IndexNames, mention_ids: list[str]) -> int:
    """Delete these mentions (the platform reported the posts deleted); returns how many were there."""
    if not mention_ids:
        return 0
    where = {i: doc["_index"] for i, doc in locate(es, names, mention_ids).items()}
    actions = ({"_op_type": "delete", "_index": index, "_id": i} for i, index in where.items())
    deleted = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            result = item["delete"]
            if ok:
                deleted += 1
            elif result.get("status") != 404:
                raise IndexUnavailableError(
                    f"cannot delete mention {result.get('_id')}: {result.get('error')}"
                )
        periods.refresh(es, where.values())
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot delete mentions: {exc}") from exc
    finally:  # also when it stopped half-way: some may be gone
        mark_mentions_changed(es, names)
    return deleted


LABEL_FIELDS = ("sentiment", "intent", "intents", "model")
"""What a re-score may change on a stored mention; triage, links and flags are never touched."""


@dataclass
class RelabelReport:
    updated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # changed meanwhile: read again and re-scored later
    failed: list[tuple[str, str]] = field(default_factory=list)


def store_relabels(
    es: Elasticsearch, names: IndexNames, relabelled: list[tuple[Mention, int, int, str | None]]
) -> RelabelReport:
    """Write new labels onto stored mentions, each only if still at the version read (seq_no, term), in
    the index it was read from (None: the index of its `created_at`).

    A mention triaged, erased or re-scored in between is left as it is and reported in `conflicts`.
    """
    report = RelabelReport()
    if not relabelled:
        return report
    operations: list[dict[str, Any]] = []
    written: set[str] = set()
    for mention, seq_no, primary_term, index in relabelled:
        index = index or mention_index(names, mention.created_at)
        written.add(index)
        operations.append(
            {
                "update": {
                    "_index": index,
                    "_id": mention.id,
                    "if_seq_no": seq_no,
                    "if_primary_term": primary_term,
                }
            }
        )
        operations.append({"doc": mention.model_dump(mode="json", include=set(LABEL_FIELDS))})
    try:
        result = es.bulk(operations=operations, refresh=False)
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot store re-scored labels: {exc}") from exc
    for item in result["items"]:
        outcome = item.get("update", {})
        status = outcome.get("status", 500)
        if status < 300:
            report.updated.append(outcome["_id"])
        elif status in (404, 409):
            report.conflicts.append(outcome["_id"])
        else:
            report.failed.append((outcome.get("_id", "?"), failure_reason(outcome.get("error"))))
    if report.updated:
        refresh_mentions(es, names, written)
    return report


def get_mention(es: Elasticsearch, names: IndexNames, mention_id: str) -> Mention | None:
    found = locate(es, names, [mention_id]).get(mention_id)
    return Mention.model_validate(found["_source"]) if found else None


def count_mentions(es: Elasticsearch, names: IndexNames, flt: MentionFilter | None = None) -> int:
    flt = flt or MentionFilter()
    return es.count(index=flt.indices(es, names), query=flt.to_query())["count"]


@dataclass
class VersionedMention:
    """A mention with the version (seq_no, primary_term) a conditional triage write needs, and the
    concrete index it was read from."""

    mention: Mention
    seq_no: int
    primary_term: int
    index: str | None = None


def get_mentions_versioned(
    es: Elasticsearch, names: IndexNames, mention_ids: list[str], scope: OwnerScope | None = None
) -> dict[str, VersionedMention]:
    """The mentions with these ids and their current versions, in one request; missing ids (and
    mentions `scope` does not hold) left out."""
    ids = list(dict.fromkeys(i for i in mention_ids if i))
    if not ids:
        return {}
    found = {
        i: VersionedMention(
            Mention.model_validate(d["_source"]), d["_seq_no"], d["_primary_term"], d["_index"]
        )
        for i, d in locate(es, names, ids).items()
    }
    return {i: v for i, v in found.items() if scope is None or scope.holds_mention(v.mention)}


def get_parents(es: Elasticsearch, names: IndexNames, mentions: list[Mention]) -> dict[str, Mention]:
    """For each mention that replies to a post Écoute also holds, that post (keyed by the reply's id)."""
    wanted = {
        m.id: document_id(m.source, m.thread.parent_id) for m in mentions if m.thread and m.thread.parent_id
    }
    if not wanted:
        return {}
    docs = locate(es, names, wanted.values())
    found = {i: Mention.model_validate(d["_source"]) for i, d in docs.items()}
    return {reply: found[parent] for reply, parent in wanted.items() if parent in found}


def _not_scored_by(model: str) -> dict[str, Any]:
    return {"bool": {"must_not": [{"term": {"model": model}}]}}


def mentions_to_rescore(
    es: Elasticsearch, names: IndexNames, model: str, size: int
) -> list[VersionedMention]:
    """Up to `size` stored mentions whose labels are not `model`'s yet, newest first, with their versions.

    The index itself is the queue: what is left to re-score after a crash or a restart is found here.
    """
    result = es.search(
        index=MENTIONS.alias(names),
        query=_not_scored_by(model),
        sort=[{"created_at": "desc"}, {"id": "asc"}],
        size=size,
        seq_no_primary_term=True,
    )
    return [
        VersionedMention(Mention.model_validate(h["_source"]), h["_seq_no"], h["_primary_term"], h["_index"])
        for h in result["hits"]["hits"]
    ]


def count_to_rescore(es: Elasticsearch, names: IndexNames, model: str) -> int:
    """How many stored mentions `model` has not scored yet."""
    return es.count(index=MENTIONS.alias(names), query=_not_scored_by(model))["count"]


def count_collected_since(es: Elasticsearch, names: IndexNames, flt: MentionFilter, since: datetime) -> int:
    """How many mentions `flt` matches that were collected after `since` (the Inbox's "N new"): only the
    indices of the filter's period are read (a mention collected late lies in its post's period)."""
    query = {"bool": {"filter": [flt.to_query(), {"range": {"collected_at": {"gt": since.isoformat()}}}]}}
    return es.count(index=flt.indices(es, names), query=query)["count"]


def iter_mentions(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter, limit: int, page_size: int = 1000
) -> Iterator[Mention]:
    """Up to `limit` mentions `flt` matches, newest first, paged with point-in-time + search_after
    (the exports: every match, never only the page on screen)."""
    if limit <= 0:
        return
    order = [{"created_at": "desc"}, {"id": "asc"}]
    hits = scan_hits(es, MENTIONS.alias(names), flt.to_query(), order, page=page_size, keep_alive="2m")
    with closing(hits):  # stopping at `limit` closes the point in time at once
        for given, hit in enumerate(hits, start=1):
            yield Mention.model_validate(hit["_source"])
            if given >= limit:
                return
