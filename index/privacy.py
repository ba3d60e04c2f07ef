"""GDPR in the index: what is held about one person, erasure, retention, platform deletions, audit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.helpers import streaming_bulk

from ecoute.errors import IndexUnavailableError
from index.client import IndexNames
from index.crm import _scan, delete_crm_records, delete_customers
from index.documents import AuditRecord
from index.writes import mark_mentions_changed
from nlp.linking import normalise_handle


@dataclass
class PersonRecords:
    """Every document that is about one person, by index."""

    mentions: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    crm_records: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "mentions": len(self.mentions),
            "customers": len(self.customers),
            "crm_records": len(self.crm_records),
            "reviews": len(self.reviews),
            "alerts": len(self.alerts),
        }


def _handle_query(field_name: str, handles: Iterable[str]) -> list[dict[str, Any]]:
    variants = {v for h in handles for v in (h.strip(), normalise_handle(h), "@" + normalise_handle(h)) if v}
    return [{"term": {field_name: {"value": v, "case_insensitive": True}}} for v in sorted(variants)]


def _all(es: Elasticsearch, index: str, should: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    if not should:
        return []
    query = {"bool": {"should": should, "minimum_should_match": 1}}
    return [hit["_source"] for hit in _scan(es, index, query, sort)]


def find_person(es: Elasticsearch, names: IndexNames, handles: list[str], emails: list[str]) -> PersonRecords:
    """Mentions they wrote or that are linked to them, their CRM mirror, link proposals and alerts."""
    try:
        email_terms = [
            {"term": {f: {"value": e.strip(), "case_insensitive": True}}}
            for e in emails
            for f in ("email", "emails")
        ]
        customers = _all(
            es,
            names.customers,
            email_terms + _handle_query("handles", handles) + _handle_query("confirmed_handles", handles),
            "customer_id",
        )
        customer_ids = [c["customer_id"] for c in customers]
        by_customer = [{"terms": {"customer_id": customer_ids}}] if customer_ids else []
        mentions = _all(
            es,
            names.mentions,
            _handle_query("author.handle", [*handles, *emails])
            + _handle_query("author.id", handles)
            + by_customer,
            "id",
        )
        mention_ids = [m["id"] for m in mentions]
        crm_records = _all(es, names.crm, by_customer, "id")
        reviews = _all(es, names.reviews, _handle_query("author_handle", handles) + by_customer, "id")
        by_mention = [{"terms": {"mention_id": mention_ids}}] if mention_ids else []
        alerts = _all(es, names.alerts, by_mention + by_customer, "id")
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot read what the index holds about this person: {exc}") from exc
    return PersonRecords(mentions, customers, crm_records, reviews, alerts)


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


def _delete_mentions(es: Elasticsearch, names: IndexNames, mention_ids: list[str]) -> int:
    """Delete mentions by id and bump their generation, also when the delete stopped half-way."""
    if not mention_ids:
        return 0
    try:
        return _delete_ids(es, names.mentions, mention_ids)
    finally:
        mark_mentions_changed(es, names)


def erase_person(es: Elasticsearch, names: IndexNames, records: PersonRecords) -> dict[str, int]:
    """Delete every document `find_person` found; returns how many of each kind were deleted."""
    return {
        "mentions": _delete_mentions(es, names, [m["id"] for m in records.mentions]),
        "alerts": _delete_ids(es, names.alerts, [a["id"] for a in records.alerts]),
        "reviews": _delete_ids(es, names.reviews, [r["id"] for r in records.reviews]),
        "crm_records": delete_crm_records(es, names, [r["id"] for r in records.crm_records]),
        "customers": delete_customers(es, names, [c["customer_id"] for c in records.customers]),
    }


def delete_mentions_and_alerts(
    es: Elasticsearch, names: IndexNames, mention_ids: list[str]
) -> dict[str, int]:
    """Delete mentions by id and the alerts raised about them (platform deletions, retention)."""
    if not mention_ids:
        return {"mentions": 0, "alerts": 0}
    try:
        alert_ids = [
            hit["_id"] for hit in _scan(es, names.alerts, {"terms": {"mention_id": mention_ids}}, "id")
        ]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot find the alerts of deleted mentions: {exc}") from exc
    return {
        "mentions": _delete_mentions(es, names, mention_ids),
        "alerts": _delete_ids(es, names.alerts, alert_ids),
    }


def expired_mention_ids(es: Elasticsearch, names: IndexNames, source: str, before: datetime) -> list[str]:
    """Ids of the source's mentions published before `before`."""
    query = {
        "bool": {
            "filter": [{"term": {"source": source}}, {"range": {"created_at": {"lt": before.isoformat()}}}]
        }
    }
    try:
        return [hit["_id"] for hit in _scan(es, names.mentions, query, "id")]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot find expired mentions of {source}: {exc}") from exc


def write_audit(es: Elasticsearch, names: IndexNames, record: AuditRecord) -> None:
    try:
        es.index(index=names.audit, id=record.id, document=record.model_dump(mode="json"), refresh=True)
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot write the audit record: {exc}") from exc


def audit_records(es: Elasticsearch, names: IndexNames, action: str | None = None) -> list[AuditRecord]:
    """The audit log, newest first."""
    query: dict[str, Any] = {"term": {"action": action}} if action else {"match_all": {}}
    hits = es.search(index=names.audit, query=query, sort=[{"at": "desc"}], size=1000)["hits"]["hits"]
    return [AuditRecord.model_validate(hit["_source"]) for hit in hits]
