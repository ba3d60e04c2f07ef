"""Alerts: created once by id, grouped, acknowledged and listed for a person; their deliveries and
stored rules.

Alerts live in one index per period of their own `created_at` (index/periods.py), behind the `alerts`
alias (with the single index of an older installation until `ecoute index migrate`). A write by id goes
to the concrete index where the alert is (`locate`: a get or update on the alias is refused once it
names several indices), or for a new alert to the index of its `created_at`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk

from core.documents import (
    Alert,
    Delivery,
    Mention,
    StoredRule,
)
from core.errors import IndexUnavailableError
from index.catalog import DocumentType
from index.client import IndexNames
from index.mappings import mapping_for
from index.mention_search import MAX_TERMS, OwnerScope, created_between
from index.periods import indices_for, locate, period_index

ALERTS = DocumentType("alerts", Alert, periodic=True)
CONCURRENT_TRIES = 5
"""How often a conditional write of an alert is tried again after someone else wrote it first."""
DELIVERIES = DocumentType("deliveries", Delivery)
RULES = DocumentType("rules", StoredRule)


def list_alerts(
    es: Elasticsearch,
    names: IndexNames,
    recipient: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
    size: int = 100,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Alert]:
    """Alerts newest first that match every filter given (to this recipient AND about this customer),
    created in [since, until) when given (only those period indices are read); `alerts_for` is the
    broader read: to any of several recipients OR about any of several customers."""
    filters: list[dict[str, Any]] = []
    if recipient:
        filters.append({"term": {"recipients": recipient}})
    if customer_id:
        filters.append({"term": {"customer_id": customer_id}})
    if status:
        filters.append({"term": {"status": status}})
    if since or until:
        filters.append(created_between(since, until))
    result = es.search(
        index=indices_for(es, names, since, until, ALERTS),
        query={"bool": {"filter": filters}},
        sort=[{"created_at": "desc"}],
        size=size,
    )
    return [Alert.model_validate(h["_source"]) for h in result["hits"]["hits"]]


@dataclass
class Versioned:
    """A document with the version a conditional write needs."""

    doc: Any
    seq_no: int
    primary_term: int


def alerts_touching(
    es: Elasticsearch,
    names: IndexNames,
    mention_ids: list[str],
    dedup_keys: list[str],
    open_groups: dict[str, datetime],
) -> list[Alert]:
    """Alerts that already hold one of these mentions or dedup keys, or whose group is still open
    (created since the time given for its group key), in one request."""
    should: list[dict[str, Any]] = []
    if mention_ids:
        should.append({"terms": {"mention_ids": mention_ids[:MAX_TERMS]}})
    if dedup_keys:
        should.append({"terms": {"dedup_keys": dedup_keys[:MAX_TERMS]}})
    for key, since in open_groups.items():
        should.append(
            {
                "bool": {
                    "filter": [
                        {"term": {"group_key": key}},
                        {"range": {"created_at": {"gte": since.isoformat()}}},
                    ]
                }
            }
        )
    if not should:
        return []
    result = es.search(
        index=ALERTS.alias(names),
        query={"bool": {"should": should, "minimum_should_match": 1}},
        sort=[{"created_at": "desc"}],
        size=500,
    )
    return [Alert.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def create_alerts(es: Elasticsearch, names: IndexNames, alerts: list[Alert]) -> set[str]:
    """Create alerts by id, each in the index of its `created_at`; returns the ids created now. An id
    already stored, in whatever index (raised before, perhaps in another month), is left as it is."""
    if not alerts:
        return set()
    targets = {a.id: period_index(ALERTS, names, a.created_at) for a in alerts}
    for alert_id, doc in locate(es, names, targets, ALERTS).items():
        targets[alert_id] = doc["_index"]  # its create is refused there: one copy
    docs = [(a.id, a.model_dump(mode="json")) for a in alerts]
    return _create_by_id(es, ALERTS.alias(names), docs, targets)


def _create_by_id(
    es: Elasticsearch,
    alias: str,
    docs: list[tuple[str, dict[str, Any]]],
    targets: dict[str, str] | None = None,
) -> set[str]:
    """Create documents by id in `alias`, or in `targets[id]` where given; returns the ids created."""
    if not docs:
        return set()
    targets = targets or {}
    actions = (
        {"_op_type": "create", "_index": targets.get(i, alias), "_id": i, "_source": d} for i, d in docs
    )
    created: set[str] = set()
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            result = item["create"]
            if ok:
                created.add(result["_id"])
            elif result.get("status") != 409:
                raise IndexUnavailableError(
                    f"cannot write {alias} {result.get('_id')}: {result.get('error')}"
                )
        es.indices.refresh(index=",".join(sorted(set(targets.values()))) or alias)
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot write to {alias}: {exc}") from exc
    return created


def add_to_alert(
    es: Elasticsearch,
    names: IndexNames,
    alert_id: str,
    mention_ids: list[str],
    dedup_keys: list[str],
    now: datetime,
) -> Alert | None:
    """Group more mentions into an alert (conditional write, retried when someone else wrote first)."""

    def grouped(alert: Alert) -> Alert:
        ids = list(dict.fromkeys([*alert.mention_ids, *mention_ids]))
        keys = list(dict.fromkeys([*alert.dedup_keys, *dedup_keys]))
        if ids == alert.mention_ids and keys == alert.dedup_keys:
            return alert
        return alert.model_copy(
            update={"mention_ids": ids, "dedup_keys": keys, "count": len(ids), "updated_at": now}
        )

    return _rewrite_alert(es, names, alert_id, grouped)


def _rewrite_alert(
    es: Elasticsearch, names: IndexNames, alert_id: str, change: Callable[[Alert], Alert]
) -> Alert | None:
    """Read the alert in the index that holds it and write `change(alert)` back there, on condition that
    nobody wrote it meanwhile (read again and retried when someone did); None when there is no such
    alert. An unchanged alert is not written."""
    for _ in range(CONCURRENT_TRIES):
        hit = locate(es, names, [alert_id], ALERTS).get(alert_id)
        if hit is None:
            return None
        alert = Alert.model_validate(hit["_source"])
        changed = change(alert)
        if changed == alert:
            return alert
        try:
            es.index(
                index=hit["_index"],
                id=alert_id,
                document=changed.model_dump(mode="json"),
                if_seq_no=hit["_seq_no"],
                if_primary_term=hit["_primary_term"],
                refresh=True,
            )
            return changed
        except ConflictError:
            continue
    raise IndexUnavailableError(f"alert {alert_id}: too many concurrent changes")


def get_alert(
    es: Elasticsearch, names: IndexNames, alert_id: str, scope: OwnerScope | None = None
) -> Alert | None:
    """The alert with this id, in whatever period index (a link names only the id); None when there is
    none, or when `scope` does not hold it."""
    hit = locate(es, names, [alert_id], ALERTS).get(alert_id)
    if hit is None:
        return None
    alert = Alert.model_validate(hit["_source"])
    return alert if scope is None or scope.holds_alert(alert) else None


def acknowledge_alert(es: Elasticsearch, names: IndexNames, alert_id: str, by: str, at: datetime) -> bool:
    """Mark the alert acknowledged by `by` (conditional write on the index that holds it, tried again
    when someone else changed it first); False when there is no such alert."""
    change = {"status": "acknowledged", "acknowledged_by": by, "acknowledged_at": at}
    return _rewrite_alert(es, names, alert_id, lambda alert: alert.model_copy(update=change)) is not None


def alerts_for(
    es: Elasticsearch,
    names: IndexNames,
    recipients: list[str] | None = None,
    customer_ids: list[str] | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = 200,
    scope: OwnerScope | None = None,
) -> list[Alert]:
    """Alerts newest first, to any of these recipients or about any of these customers; only those
    `scope` holds when given; created in [since, until) when given (only those period indices are read)."""
    filters: list[dict[str, Any]] = [scope.alert_query()] if scope is not None else []
    who: list[dict[str, Any]] = []
    if recipients:
        who.append({"terms": {"recipients": recipients}})
    if customer_ids:
        who.append({"terms": {"customer_id": customer_ids[:MAX_TERMS]}})
    if who:
        filters.append({"bool": {"should": who, "minimum_should_match": 1}})
    if status:
        filters.append({"term": {"status": status}})
    if since or until:
        filters.append(created_between(since, until))
    result = es.search(
        index=indices_for(es, names, since, until, ALERTS),
        query={"bool": {"filter": filters}},
        sort=[{"created_at": "desc"}],
        size=size,
    )
    return [Alert.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def create_deliveries(es: Elasticsearch, names: IndexNames, deliveries: list[Delivery]) -> set[str]:
    """Record deliveries to make; an id already recorded is never sent a second time. Returns new ids."""
    return _create_by_id(es, DELIVERIES.alias(names), [(d.id, d.model_dump(mode="json")) for d in deliveries])


def claim_delivery(es: Elasticsearch, names: IndexNames, delivery_id: str, now: datetime) -> Versioned | None:
    """Mark a delivery as being sent by us, unless it is sent or someone else claimed it first."""
    try:
        hit = es.get(index=DELIVERIES.alias(names), id=delivery_id)
    except NotFoundError:
        return None
    delivery = Delivery.model_validate(hit["_source"])
    if delivery.status == "sent":
        return None
    claimed = delivery.model_copy(update={"status": "sending", "updated_at": now})
    try:
        result = es.index(
            index=DELIVERIES.alias(names),
            id=delivery_id,
            document=claimed.model_dump(mode="json"),
            if_seq_no=hit["_seq_no"],
            if_primary_term=hit["_primary_term"],
            refresh=True,
        )
    except ConflictError:
        return None
    return Versioned(claimed, result["_seq_no"], result["_primary_term"])


def save_delivery(es: Elasticsearch, names: IndexNames, claimed: Versioned, delivery: Delivery) -> None:
    """Record the outcome of an attempt on the delivery we claimed."""
    es.index(
        index=DELIVERIES.alias(names),
        id=delivery.id,
        document=delivery.model_dump(mode="json"),
        if_seq_no=claimed.seq_no,
        if_primary_term=claimed.primary_term,
        refresh=True,
    )


def due_deliveries(
    es: Elasticsearch, names: IndexNames, now: datetime, stale_before: datetime, size: int = 200
) -> list[Delivery]:
    """Pending or failed deliveries whose next attempt is due, and claims left by a process that died."""
    result = es.search(
        index=DELIVERIES.alias(names),
        query={
            "bool": {
                "should": [
                    {
                        "bool": {
                            "filter": [
                                {"terms": {"status": ["pending", "failed"]}},
                                {"range": {"next_attempt_at": {"lte": now.isoformat()}}},
                            ]
                        }
                    },
                    {
                        "bool": {
                            "filter": [
                                {"term": {"status": "sending"}},
                                {"range": {"updated_at": {"lt": stale_before.isoformat()}}},
                            ]
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        },
        sort=[{"created_at": "asc"}],
        size=size,
    )
    return [Delivery.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def deliveries_of(es: Elasticsearch, names: IndexNames, alert_ids: Iterable[str]) -> list[Delivery]:
    ids = list(dict.fromkeys(alert_ids))
    if not ids:
        return []
    result = es.search(
        index=DELIVERIES.alias(names),
        query={"terms": {"alert_id": ids[:MAX_TERMS]}},
        sort=[{"created_at": "asc"}],
        size=1000,
    )
    return [Delivery.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def stored_rules(es: Elasticsearch, names: IndexNames) -> list[StoredRule]:
    result = es.search(index=RULES.alias(names), query={"match_all": {}}, sort=[{"name": "asc"}], size=500)
    return [StoredRule.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def save_rule(es: Elasticsearch, names: IndexNames, rule: StoredRule) -> None:
    es.index(index=RULES.alias(names), id=rule.id, document=rule.model_dump(mode="json"), refresh=True)


def delete_rule(es: Elasticsearch, names: IndexNames, rule_id: str) -> None:
    es.options(ignore_status=404).delete(index=RULES.alias(names), id=rule_id, refresh=True)


def rule_queries_index(names: IndexNames) -> str:
    return f"{names.prefix}-rule-queries"


def register_rule_queries(es: Elasticsearch, names: IndexNames, queries: dict[str, dict[str, Any]]) -> None:
    """Replace the stored rule queries of the percolator index (created with the mentions mapping)."""
    index = rule_queries_index(names)
    if not es.indices.exists(index=index):
        properties = mapping_for(Mention)["properties"]
        properties = {**properties, "rule_query": {"type": "percolator"}, "rule": {"type": "keyword"}}
        es.indices.create(
            index=index,
            mappings={"properties": properties},
            settings={"number_of_shards": 1, "number_of_replicas": 0},
        )
    es.delete_by_query(index=index, query={"match_all": {}}, refresh=True)
    for name, query in queries.items():
        es.index(index=index, id=name, document={"rule": name, "rule_query": query})
    es.indices.refresh(index=index)


def percolate(es: Elasticsearch, names: IndexNames, mentions: list[Mention]) -> dict[str, set[str]]:
    """For each mention id, the names of the stored rule queries it matches (one request)."""
    if not mentions:
        return {}
    documents = [m.model_dump(mode="json", exclude={"raw"}) for m in mentions]
    result = es.search(
        index=rule_queries_index(names),
        query={"percolate": {"field": "rule_query", "documents": documents}},
        size=1000,
        source=False,
    )
    matched: dict[str, set[str]] = {m.id: set() for m in mentions}
    for hit in result["hits"]["hits"]:
        for slot in hit.get("fields", {}).get("_percolator_document_slot", []):
            matched[mentions[slot].id].add(hit["_id"])
    return matched
