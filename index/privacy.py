"""GDPR in the index: what is held about one person, erasure, retention, platform deletions, audit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.helpers import streaming_bulk

from core.documents import Alert, AuditRecord
from core.errors import IndexUnavailableError
from core.names import fold_name, normalise_handle
from index.alerts import ALERTS, DELIVERIES
from index.catalog import DocumentType
from index.client import IndexNames
from index.crm import CRM_RECORDS, delete_crm_records, delete_customers
from index.customers import CUSTOMERS
from index.mentions import mark_mentions_changed
from index.periods import (
    MENTIONS,
    indices_for,
    locate,
    mention_indices,
    period_bounds,
    period_indices,
    refresh,
)
from index.replies import REPLIES
from index.reviews import REVIEWS
from index.scan import scan_hits
from index.searches import SAVED_SEARCHES

AUDIT = DocumentType("audit", AuditRecord)

# Characters that may continue a handle or an address: a match must not be followed or preceded by one.
_BEFORE = r"(?<![\w@.+-])"
_AFTER = r"(?![\w@-]|\.\w)"
ERASED = "[erased]"
"""What replaces a team's note, or a former one, that named an erased person."""


def _pattern(alternatives: list[str]) -> re.Pattern[str] | None:
    if not alternatives:
        return None
    return re.compile(_BEFORE + "(?:" + "|".join(alternatives) + ")" + _AFTER, re.IGNORECASE)


class Identity:
    """How one person shows in free text: their handles, addresses, names and the ids of their mentions.

    A handle counts when written `@handle`, or bare when it cannot be a plain word (it holds an `@` or
    a dot); an address counts anywhere; a full name counts in Écoute's own texts (alert explanations,
    saved searches), not in what others wrote.
    """

    def __init__(
        self,
        handles: Iterable[str] = (),
        emails: Iterable[str] = (),
        names: Iterable[str] = (),
        mention_ids: Iterable[str] = (),
    ) -> None:
        self.handles = sorted({normalise_handle(h) for h in handles if normalise_handle(h)})
        self.emails = sorted({e.strip().lower() for e in emails if e.strip()})
        self.names = sorted({fold_name(n) for n in names if len(fold_name(n).split()) >= 2})
        self.mention_ids = set(mention_ids)
        said = [re.escape(e) for e in self.emails]
        said += [("@?" if "@" in h or "." in h else "@") + re.escape(h) for h in self.handles]
        self._said = _pattern(said)

    def in_post(self, text: str | None) -> bool:
        """Whether a post's text or title names the person by handle or address."""
        return bool(text and self._said and self._said.search(text))

    def in_record(self, text: str) -> bool:
        """Whether one of Écoute's own texts names the person by handle, address or full name."""
        if self.in_post(text):
            return True
        folded = f" {fold_name(text)} "
        return any(f" {name} " in folded for name in self.names)

    def is_named(self, display_name: str | None) -> bool:
        """Whether an author's display name is the person's full name."""
        return bool(display_name) and fold_name(display_name or "") in self.names

    def in_document(self, doc: dict[str, Any]) -> bool:
        return self.in_record(json.dumps(doc, ensure_ascii=False))


@dataclass
class PersonRecords:
    """Every document that is about one person, by index.

    `alerts` are about them and go; `alerts_naming` are about more people (a spike, a group) and
    only name them: erasure rewrites those without the person (or deletes one it cannot clean).
    `reviews_naming` are other people's link proposals that list one of the person's mentions;
    `notes_naming` others' mentions whose triage note or its history names them (the note is blanked).
    `replies` are the replies written to them, to their mentions, or that name them.
    """

    mentions: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    crm_records: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    alerts_naming: list[dict[str, Any]] = field(default_factory=list)
    saved_searches: list[dict[str, Any]] = field(default_factory=list)
    identity: Identity = field(default_factory=Identity)
    reviews_naming: list[dict[str, Any]] = field(default_factory=list)
    notes_naming: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "mentions": len(self.mentions),
            "customers": len(self.customers),
            "crm_records": len(self.crm_records),
            "reviews": len(self.reviews),
            "alerts": len(self.alerts),
            "alerts_rewritten": len(self.alerts_naming),
            "reviews_rewritten": len(self.reviews_naming),
            "notes_rewritten": len(self.notes_naming),
            "saved_searches": len(self.saved_searches),
            "replies": len(self.replies),
        }


def _handle_query(field_name: str, handles: Iterable[str]) -> list[dict[str, Any]]:
    variants = {v for h in handles for v in (h.strip(), normalise_handle(h), "@" + normalise_handle(h)) if v}
    return [{"term": {field_name: {"value": v, "case_insensitive": True}}} for v in sorted(variants)]


def _all(es: Elasticsearch, index: str, should: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    if not should:
        return []
    query = {"bool": {"should": should, "minimum_should_match": 1}}
    return [hit["_source"] for hit in scan_hits(es, index, query, sort)]


def _phrases(fields: list[str], said: Iterable[str]) -> list[dict[str, Any]]:
    return [{"match_phrase": {f: s}} for s in said for f in fields]


def find_person(es: Elasticsearch, names: IndexNames, handles: list[str], emails: list[str]) -> PersonRecords:
    """What is about the person: their CRM mirror, mentions they wrote, that are linked or proposed for a
    link to them or name them, their link reviews, saved searches naming them, and alerts about them
    (`alerts`) or naming them among others (`alerts_naming`)."""
    try:
        email_terms = [
            {"term": {f: {"value": e.strip(), "case_insensitive": True}}}
            for e in emails
            for f in ("email", "emails")
        ]
        customers = _all(
            es,
            CUSTOMERS.alias(names),
            email_terms + _handle_query("handles", handles) + _handle_query("confirmed_handles", handles),
            "customer_id",
        )
        customer_ids = [c["customer_id"] for c in customers]
        full_names = [c["full_name"] for c in customers if c.get("full_name")]
        by_customer = [{"terms": {"customer_id": customer_ids}}] if customer_ids else []
        proposed = [{"terms": {"link_proposal.customer_id": customer_ids}}] if customer_ids else []
        shown_as = [
            {"term": {"author.display_name": {"value": n, "case_insensitive": True}}} for n in full_names
        ]
        mentions = _all(
            es,
            MENTIONS.alias(names),
            _handle_query("author.handle", [*handles, *emails])
            + _handle_query("author.id", handles)
            + by_customer
            + proposed
            + shown_as,
            "id",
        )
        # An author proposed for a link to them, or shown under their name, may be them: their handle too.
        folded = {fold_name(n) for n in full_names}
        maybe_theirs = [
            m["author"]["handle"]
            for m in mentions
            if m["author"].get("handle")
            and (
                (m.get("link_proposal") or {}).get("customer_id") in customer_ids
                or fold_name(m["author"].get("display_name") or "") in folded
            )
        ]
        identity = Identity([*handles, *maybe_theirs], emails, full_names)
        # Posts by others that name the person: candidates by phrase, kept only when the text says it.
        said = [*identity.handles, *identity.emails]
        candidates = _all(es, MENTIONS.alias(names), _phrases(POST_TEXT_FIELDS, said), "id")
        known = {m["id"] for m in mentions}
        mentions += [m for m in candidates if m["id"] not in known and post_names(m, identity)]
        mention_ids = [m["id"] for m in mentions]
        identity.mention_ids = set(mention_ids)
        crm_records = _all(es, CRM_RECORDS.alias(names), by_customer, "id")
        by_mention = [{"terms": {"mention_ids": mention_ids}}] if mention_ids else []
        reviews, reviews_naming = [], []
        for review in _all(
            es, REVIEWS.alias(names), _handle_query("author_handle", handles) + by_customer + by_mention, "id"
        ):
            theirs = normalise_handle(review["author_handle"]) in identity.handles
            if theirs or review["customer_id"] in customer_ids:
                reviews.append(review)
            else:  # someone else's proposal that lists one of the erased mentions
                reviews_naming.append(review)
        alerts, alerts_naming = [], []
        for alert in _all(
            es,
            ALERTS.alias(names),
            by_mention
            + ([{"terms": {"mention_id": mention_ids}}] if mention_ids else [])
            + by_customer
            + _phrases(["summary"], [*said, *full_names])
            + [{"term": {"kind": "spike"}}],  # their explanation is stored, not searchable: read them all
            "id",
        ):
            about = alert["mention_id"] in identity.mention_ids or alert.get("customer_id") in customer_ids
            if about and alert.get("kind") != "spike":
                alerts.append(alert)
            elif identity.mention_ids & set(alert.get("mention_ids", [])) or identity.in_document(alert):
                alerts_naming.append(alert)
        saved = [
            s
            for s in _all(es, SAVED_SEARCHES.alias(names), [{"match_all": {}}], "id")
            if identity.in_document(s.get("filters", {}))
        ]
        # Team notes on others' mentions that name them; a former note lives on in the history only.
        noted = _all(
            es,
            MENTIONS.alias(names),
            _phrases(["triage.note"], [*said, *full_names]) + [{"term": {"history.field": "note"}}],
            "id",
        )
        notes = [
            m for m in noted if m["id"] not in identity.mention_ids and identity.in_document(_notes_of(m))
        ]
        replies = [
            r
            for r in _all(
                es,
                REPLIES.alias(names),
                ([{"terms": {"mention_id": mention_ids}}] if mention_ids else [])
                + by_customer
                + _phrases(["text"], [*said, *full_names]),
                "id",
            )
            if r["mention_id"] in identity.mention_ids
            or r.get("customer_id") in customer_ids
            or identity.in_record(r["text"])
        ]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot read what the index holds about this person: {exc}") from exc
    return PersonRecords(
        mentions,
        customers,
        crm_records,
        reviews,
        alerts,
        alerts_naming,
        saved,
        identity,
        reviews_naming,
        notes,
        replies,
    )


POST_TEXT_FIELDS = ["text", "title", "edits.text", "edits.title"]
"""Where a post's own words are: the first-seen text and title, and every later edit of them."""


def post_names(mention: dict[str, Any], identity: Identity) -> bool:
    """Whether a post, as first seen or in any later edit, names the person by handle or address."""
    versions = [mention, *(mention.get("edits") or [])]
    return any(identity.in_post(v.get("text")) or identity.in_post(v.get("title")) for v in versions)


def _notes_of(mention: dict[str, Any]) -> dict[str, Any]:
    """The team's words on a mention: its note and the history of its changes."""
    return {"triage": mention.get("triage"), "history": mention.get("history", [])}


def _without_notes(mention: dict[str, Any], identity: Identity) -> dict[str, Any]:
    """The note and history of a mention with each text that names the person replaced by a marker."""

    def clean(text: str | None) -> str | None:
        return ERASED if text and identity.in_record(text) else text

    triage = dict(mention.get("triage") or {})
    if triage.get("note"):
        triage["note"] = clean(triage["note"])
    history = [
        {**h, "old": clean(h.get("old")), "new": clean(h.get("new"))} for h in mention.get("history", [])
    ]
    return {"triage": triage or None, "history": history}


def _delete_ids(es: Elasticsearch, index: str, ids: Iterable[str]) -> int:
    actions = ({"_op_type": "delete", "_index": index, "_id": i} for i in ids)
    deleted = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            result = item["delete"]
            if ok and result.get("result") == "deleted":
                deleted += 1
            elif not ok and result.get("status") != 404:
                raise IndexUnavailableError(
                    f"cannot delete {index} {result.get('_id')}: {result.get('error')}"
                )
        es.indices.refresh(index=index)
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot delete from {index}: {exc}") from exc
    return deleted


def _delete_where(es: Elasticsearch, where: dict[str, str]) -> int:
    """Delete documents by id from the concrete index each is in (`where`: id -> index)."""
    by_index: dict[str, list[str]] = {}
    for doc_id, index in where.items():
        by_index.setdefault(index, []).append(doc_id)
    return sum(_delete_ids(es, index, ids) for index, ids in sorted(by_index.items()))


def _delete_located(es: Elasticsearch, names: IndexNames, document: DocumentType, ids: Iterable[str]) -> int:
    """Delete documents of a periodic type by id, wherever each is (index/periods.py `locate`)."""
    ids = list(ids)
    if not ids:
        return 0
    return _delete_where(es, {i: doc["_index"] for i, doc in locate(es, names, ids, document).items()})


def _hits_where(hits: Iterable[dict[str, Any]]) -> dict[str, str]:
    """id -> concrete index of search hits (read over an alias of several indices)."""
    return {hit["_id"]: hit["_index"] for hit in hits}


def _delete_mentions(es: Elasticsearch, names: IndexNames, mention_ids: list[str]) -> int:
    """Delete mentions by id and bump their generation, also when the delete stopped half-way."""
    if not mention_ids:
        return 0
    try:
        return _delete_located(es, names, MENTIONS, mention_ids)
    finally:
        mark_mentions_changed(es, names)


def erase_person(
    es: Elasticsearch, names: IndexNames, records: PersonRecords, rewritten: Iterable[Alert] = ()
) -> dict[str, int]:
    """Delete every document `find_person` found and store `rewritten`, the alerts that only named the
    person, cleaned of them (an alert naming them that has no rewrite is deleted); returns the counts."""
    rewritten = list(rewritten)
    kept = {a.id for a in rewritten}
    erased = records.identity.mention_ids
    reviews_left = [
        {**r, "mention_ids": [i for i in r["mention_ids"] if i not in erased]} for r in records.reviews_naming
    ]
    review_ids = [r["id"] for r in records.reviews] + [r["id"] for r in reviews_left if not r["mention_ids"]]
    review_docs = [(r["id"], r) for r in reviews_left if r["mention_ids"]]
    gone = [a["id"] for a in records.alerts] + [a["id"] for a in records.alerts_naming if a["id"] not in kept]
    counts = {
        "mentions": _delete_mentions(es, names, [m["id"] for m in records.mentions]),
        "alerts": _delete_located(es, names, ALERTS, gone),
        "reviews": _delete_ids(es, REVIEWS.alias(names), review_ids),
        "crm_records": delete_crm_records(es, names, [r["id"] for r in records.crm_records]),
        "customers": delete_customers(es, names, [c["customer_id"] for c in records.customers]),
        "alerts_rewritten": _rewrite_alerts(es, names, rewritten),
        "saved_searches": _delete_ids(
            es, SAVED_SEARCHES.alias(names), [s["id"] for s in records.saved_searches]
        ),
        "reviews_rewritten": _write(es, REVIEWS.alias(names), review_docs),
        "replies": _delete_ids(es, REPLIES.alias(names), [r["id"] for r in records.replies]),
    }
    counts["notes_rewritten"] = _rewrite_notes(es, names, records.notes_naming, records.identity)
    _delete_deliveries(es, names, gone)
    return counts


def _rewrite_notes(
    es: Elasticsearch, names: IndexNames, mentions: list[dict[str, Any]], identity: Identity
) -> int:
    if not mentions:
        return 0
    try:
        where = {i: doc["_index"] for i, doc in locate(es, names, [m["id"] for m in mentions]).items()}
        for mention in mentions:
            if mention["id"] in where:
                es.update(index=where[mention["id"]], id=mention["id"], doc=_without_notes(mention, identity))
        refresh(es, where.values())
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot blank the notes naming the person: {exc}") from exc
    finally:
        mark_mentions_changed(es, names)
    return len(mentions)


def _rewrite_alerts(es: Elasticsearch, names: IndexNames, alerts: list[Alert]) -> int:
    """Replace alerts by id in the index each is in (one deleted meanwhile is not brought back)."""
    if not alerts:
        return 0
    where = {i: doc["_index"] for i, doc in locate(es, names, [a.id for a in alerts], ALERTS).items()}
    by_index: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for alert in alerts:
        if alert.id in where:
            by_index.setdefault(where[alert.id], []).append((alert.id, alert.model_dump(mode="json")))
    return sum(_write(es, index, docs) for index, docs in sorted(by_index.items()))


def _write(es: Elasticsearch, index: str, docs: list[tuple[str, dict[str, Any]]]) -> int:
    """Replace documents by id (erasure's rewrites); returns how many were written."""
    actions = ({"_op_type": "index", "_index": index, "_id": i, "_source": d} for i, d in docs)
    done = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            if not ok:
                result = item["index"]
                raise IndexUnavailableError(
                    f"cannot rewrite {index} {result.get('_id')}: {result.get('error')}"
                )
            done += 1
        es.indices.refresh(index=index)
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot rewrite {index}: {exc}") from exc
    return done


def _delete_deliveries(es: Elasticsearch, names: IndexNames, alert_ids: list[str]) -> None:
    """Deliveries of deleted alerts hold no text, only ids: they go so none points at nothing."""
    if not alert_ids:
        return
    try:
        ids = [
            h["_id"] for h in scan_hits(es, DELIVERIES.alias(names), {"terms": {"alert_id": alert_ids}}, "id")
        ]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot find the deliveries of erased alerts: {exc}") from exc
    _delete_ids(es, DELIVERIES.alias(names), ids)


def delete_mentions_and_alerts(
    es: Elasticsearch, names: IndexNames, mention_ids: list[str]
) -> dict[str, int]:
    """Delete mentions by id, the alerts raised about them and the replies to them (platform deletions,
    retention)."""
    if not mention_ids:
        return {"mentions": 0, "alerts": 0}
    try:
        alerts = _hits_where(
            scan_hits(es, ALERTS.alias(names), {"terms": {"mention_id": mention_ids}}, "id", source=["id"])
        )
        reply_ids = [
            hit["_id"]
            for hit in scan_hits(es, REPLIES.alias(names), {"terms": {"mention_id": mention_ids}}, "id")
        ]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot find the alerts of deleted mentions: {exc}") from exc
    _delete_ids(es, REPLIES.alias(names), reply_ids)
    return {
        "mentions": _delete_mentions(es, names, mention_ids),
        "alerts": _delete_where(es, alerts),
    }


def expired_mention_ids(es: Elasticsearch, names: IndexNames, source: str, before: datetime) -> list[str]:
    """Ids of the source's mentions published before `before`."""
    query = {
        "bool": {
            "filter": [{"term": {"source": source}}, {"range": {"created_at": {"lt": before.isoformat()}}}]
        }
    }
    try:
        indices = indices_for(es, names, None, before)
        return [hit["_id"] for hit in scan_hits(es, indices, query, "id", source=["id"])]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot find expired mentions of {source}: {exc}") from exc


@dataclass
class DroppedIndex:
    """A whole period index retention deleted: its name, how many mentions of each source it held and
    the alerts deleted with them (for an alerts index: the alerts it held, no sources)."""

    index: str
    sources: dict[str, int]
    alerts: int


def drop_expired_indices(
    es: Elasticsearch, names: IndexNames, cutoffs: dict[str, datetime]
) -> list[DroppedIndex]:
    """Delete each period index every mention of which is past its source's cutoff, and the alerts about
    them: one request instead of a delete per mention. An index holding a source without a cutoff, or
    whose period ends after one of its sources' cutoff, is kept (retention deletes at its edges by id).
    Likewise an alerts period index that ended by the cutoff and holds only alerts about these mentions
    goes whole (listed too, with no sources); the other alerts about them, and the replies to them, are
    deleted by id.
    """
    if not cutoffs:
        return []
    before = max(cutoffs.values())
    dropped: list[DroppedIndex] = []
    try:
        expired: dict[str, dict[str, int]] = {}
        expired_in: dict[str, str] = {}  # mention id -> its expired index
        for index in mention_indices(es, names):
            bounds = period_bounds(index)
            if bounds is None or bounds[1] > before:
                continue
            found = es.search(
                index=index, size=0, aggs={"sources": {"terms": {"field": "source", "size": 1000}}}
            )
            held = {str(b["key"]): b["doc_count"] for b in found["aggregations"]["sources"]["buckets"]}
            if any(source not in cutoffs or bounds[1] > cutoffs[source] for source in held):
                continue
            expired[index] = held
            for hit in scan_hits(es, index, {"match_all": {}}, "id", source=["id"]):
                expired_in[hit["_id"]] = index
        alerts = _alerts_about(es, names, expired_in)
        dropped += _delete_alerts(es, {i: where for i, (where, _) in alerts.items()}, before)
        _delete_ids(es, REPLIES.alias(names), _replies_to(es, names, sorted(expired_in)))
        for index, held in expired.items():  # after their alerts: a run stopped before them goes on
            es.indices.delete(index=index)
            dropped.append(DroppedIndex(index, held, sum(1 for _, m in alerts.values() if m == index)))
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot drop expired mention indices: {exc}") from exc
    finally:
        if any(d.sources for d in dropped):
            mark_mentions_changed(es, names)
    return dropped


def _replies_to(es: Elasticsearch, names: IndexNames, mention_ids: list[str]) -> list[str]:
    """The ids of the replies to these mentions."""
    found: list[str] = []
    for at in range(0, len(mention_ids), 1000):
        query = {"terms": {"mention_id": mention_ids[at : at + 1000]}}
        found += [hit["_id"] for hit in scan_hits(es, REPLIES.alias(names), query, "id", source=["id"])]
    return found


def _alerts_about(
    es: Elasticsearch, names: IndexNames, mention_index: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """The alerts about these mentions (`mention_index`: mention id -> the index it is in), by alert id:
    the alert's index and its mention's."""
    ids = sorted(mention_index)
    found: dict[str, tuple[str, str]] = {}
    for at in range(0, len(ids), 1000):
        query = {"terms": {"mention_id": ids[at : at + 1000]}}
        for hit in scan_hits(es, ALERTS.alias(names), query, "id", source=["mention_id"]):
            found[hit["_id"]] = (hit["_index"], mention_index[hit["_source"]["mention_id"]])
    return found


def _delete_alerts(es: Elasticsearch, where: dict[str, str], before: datetime) -> list[DroppedIndex]:
    """Delete these alerts (id -> index): an alerts period index that ended by `before` and holds nothing
    else goes whole (returned), the others are deleted by id."""
    by_index: dict[str, list[str]] = {}
    for alert_id, index in where.items():
        by_index.setdefault(index, []).append(alert_id)
    dropped = []
    for index, ids in sorted(by_index.items()):
        bounds = period_bounds(index)
        if bounds is not None and bounds[1] <= before:
            es.indices.refresh(index=index)
            if es.count(index=index)["count"] == len(ids):
                es.indices.delete(index=index)
                dropped.append(DroppedIndex(index, {}, len(ids)))
                continue
        _delete_ids(es, index, ids)
    return dropped


def drop_expired_alert_indices(es: Elasticsearch, names: IndexNames, before: datetime) -> list[DroppedIndex]:
    """Delete each alerts period index that ended by `before` and whose alerts are about no mention still
    stored (retention, erasure and platform deletions took them): one request, not a delete per alert.

    Alerts go with their mentions (deleted by id with them); this removes the months they left behind,
    so the alerts' indices do not grow forever. An index with an alert about a mention that is kept
    (a source without retention) stays whole; an index that is no period (before `ecoute index migrate`)
    is never dropped.
    """
    dropped = []
    try:
        for index in period_indices(es, names, ALERTS):
            bounds = period_bounds(index)
            if bounds is None or bounds[1] > before:
                continue
            es.indices.refresh(index=index)
            mention_ids: set[str] = set()
            count = 0
            for hit in scan_hits(es, index, {"match_all": {}}, "id", source=["mention_id", "mention_ids"]):
                count += 1
                alert = hit["_source"]
                mention_ids.update(i for i in [alert.get("mention_id"), *alert.get("mention_ids", [])] if i)
            if _any_mention_stored(es, names, sorted(mention_ids)):
                continue
            es.indices.delete(index=index)
            dropped.append(DroppedIndex(index, {}, count))
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot drop expired alert indices: {exc}") from exc
    return dropped


def _any_mention_stored(es: Elasticsearch, names: IndexNames, mention_ids: list[str]) -> bool:
    for at in range(0, len(mention_ids), 1000):
        chunk = mention_ids[at : at + 1000]
        if es.count(index=MENTIONS.alias(names), query={"ids": {"values": chunk}})["count"]:
            return True
    return False


def write_audit(es: Elasticsearch, names: IndexNames, record: AuditRecord) -> None:
    try:
        es.index(
            index=AUDIT.alias(names), id=record.id, document=record.model_dump(mode="json"), refresh=True
        )
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot write the audit record: {exc}") from exc


def audit_records(es: Elasticsearch, names: IndexNames, action: str | None = None) -> list[AuditRecord]:
    """The audit log, newest first."""
    query: dict[str, Any] = {"term": {"action": action}} if action else {"match_all": {}}
    hits = es.search(index=AUDIT.alias(names), query=query, sort=[{"at": "desc"}], size=1000)["hits"]["hits"]
    return [AuditRecord.model_validate(hit["_source"]) for hit in hits]
