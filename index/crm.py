"""Every read and write of mirrored CRM records: customers, accounts, opportunities, interactions.

The CRM connectors never touch Elasticsearch; crm/mirror.py hands their records to these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, TransportError
from elasticsearch.helpers import streaming_bulk

from core.documents import CrmRecord, Customer
from core.errors import IndexUnavailableError
from index.catalog import DocumentType
from index.client import IndexNames
from index.customers import CUSTOMERS
from index.mention_search import OwnerScope
from index.periods import MENTIONS
from index.reviews import REVIEWS
from index.scan import scan_hits
from index.state import STATE

CRM_RECORDS = DocumentType("crm", CrmRecord)

# Written by a person in the review queue, never by an import: an import must not wipe it.
KEPT_ON_IMPORT = {"confirmed_handles"}
OWN_SOURCE = "écoute"
"""The source of the records Écoute writes itself (the replies sent from the Inbox, as interactions).
No CRM source can be named so (their names are ASCII), so no import ever removes them."""


def _bulk(es: Elasticsearch, index: str, actions: Iterable[dict[str, Any]], what: str) -> int:
    done = 0
    try:
        for ok, item in streaming_bulk(
            es, actions, raise_on_error=False, raise_on_exception=False, chunk_size=1000
        ):
            result = next(iter(item.values()))
            if not ok and result.get("status") != 404:  # deleting what is already gone is fine
                raise IndexUnavailableError(f"{what} {result.get('_id')}: {result.get('error')}")
            done += ok
        es.indices.refresh(index=index)
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot write {what}: {exc}") from exc
    return done


def mirror_customers(es: Elasticsearch, names: IndexNames, customers: Iterable[Customer]) -> int:
    """Write each customer's CRM fields, keeping what people confirmed (handles) from earlier imports."""
    actions = (
        {
            "_op_type": "update",
            "_index": CUSTOMERS.alias(names),
            "_id": c.customer_id,
            "doc": c.model_dump(mode="json", exclude=KEPT_ON_IMPORT),
            "doc_as_upsert": True,
        }
        for c in customers
    )
    return _bulk(es, CUSTOMERS.alias(names), actions, "customer")


def put_crm_records(es: Elasticsearch, names: IndexNames, records: Iterable[CrmRecord]) -> int:
    actions = (
        {
            "_op_type": "index",
            "_index": CRM_RECORDS.alias(names),
            "_id": r.id,
            "_source": r.model_dump(mode="json"),
        }
        for r in records
    )
    return _bulk(es, CRM_RECORDS.alias(names), actions, "CRM record")


def customer_ids_of_source(es: Elasticsearch, names: IndexNames, source: str) -> set[str]:
    hits = scan_hits(
        es, CUSTOMERS.alias(names), {"term": {"source": source}}, "customer_id", source=["customer_id"]
    )
    return {h["_source"]["customer_id"] for h in hits}


def crm_native_ids(es: Elasticsearch, names: IndexNames, source: str, kind: str) -> dict[str, str]:
    """native id -> document id of the source's records of one kind."""
    query = {"bool": {"filter": [{"term": {"source": source}}, {"term": {"kind": kind}}]}}
    hits = scan_hits(es, CRM_RECORDS.alias(names), query, "id", source=["native_id", "id"])
    return {h["_source"]["native_id"]: h["_source"]["id"] for h in hits}


def delete_customers(es: Elasticsearch, names: IndexNames, customer_ids: Iterable[str]) -> int:
    actions = ({"_op_type": "delete", "_index": CUSTOMERS.alias(names), "_id": i} for i in customer_ids)
    return _bulk(es, CUSTOMERS.alias(names), actions, "customer")


def delete_crm_records(es: Elasticsearch, names: IndexNames, record_ids: Iterable[str]) -> int:
    actions = ({"_op_type": "delete", "_index": CRM_RECORDS.alias(names), "_id": i} for i in record_ids)
    return _bulk(es, CRM_RECORDS.alias(names), actions, "CRM record")


def get_crm_records(es: Elasticsearch, names: IndexNames, record_ids: list[str]) -> dict[str, CrmRecord]:
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        return {}
    docs = es.mget(index=CRM_RECORDS.alias(names), ids=ids)["docs"]
    return {d["_id"]: CrmRecord.model_validate(d["_source"]) for d in docs if d.get("found")}


def customers_of_accounts(
    es: Elasticsearch, names: IndexNames, source: str, account_ids: list[str]
) -> list[Customer]:
    """The source's contacts that belong to these accounts (to follow an account's change)."""
    found: list[Customer] = []
    for start in range(0, len(account_ids), 1000):
        query = {
            "bool": {
                "filter": [
                    {"term": {"source": source}},
                    {"terms": {"account_id": account_ids[start : start + 1000]}},
                ]
            }
        }
        found += [
            Customer.model_validate(h["_source"])
            for h in scan_hits(es, CUSTOMERS.alias(names), query, "customer_id")
        ]
    return found


@dataclass
class CustomerRecords:
    """What the CRM says about one customer beside the contact itself."""

    account: CrmRecord | None = None
    opportunities: list[CrmRecord] = field(default_factory=list)
    interactions: list[CrmRecord] = field(default_factory=list)
    withheld: int = 0
    """Records of the customer's account left out for a sales person: another person's customers' and,
    when the account is not theirs, the account's own."""


def records_of_customer(
    es: Elasticsearch, names: IndexNames, customer: Customer, size: int = 50, scope: OwnerScope | None = None
) -> CustomerRecords:
    """The customer's account, open opportunities (theirs or their account's) and recent interactions,
    the replies sent to them from the Inbox among them.

    With a sales person's `scope`, as `OwnerScope` reads mentions: a record about a person is kept when
    that person is one of their customers; a record of the account itself (no person: the account, its
    deals and tickets) when the account is theirs (its owner, or the customer's when the account names
    none). The others are only counted, in `withheld`.
    """
    about: list[dict[str, Any]] = [{"term": {"customer_id": customer.customer_id}}]
    if customer.account_id:
        about.append({"term": {"account_id": customer.account_id}})
    source = [{"terms": {"source": [customer.source, OWN_SOURCE]}}] if customer.source else []
    result = CustomerRecords()
    if customer.account_id:
        hits = es.search(
            index=CRM_RECORDS.alias(names),
            query={
                "bool": {
                    "filter": [
                        *source,
                        {"term": {"kind": "account"}},
                        {"term": {"native_id": customer.account_id}},
                    ]
                }
            },
            size=1,
        )["hits"]["hits"]
        result.account = CrmRecord.model_validate(hits[0]["_source"]) if hits else None
    theirs: list[dict[str, Any]] = []
    if scope is not None:
        account_owner = (result.account.owner_email if result.account else None) or customer.owner_email
        account_theirs = account_owner == scope.owner_email
        if result.account is not None and not account_theirs:
            result.account, result.withheld = None, 1
        theirs = [_held_records(scope, account_theirs)]
    kinds = {"opportunity": [{"term": {"is_open": True}}], "interaction": []}
    for kind, order in (("opportunity", "asc"), ("interaction", "desc")):
        hits = es.search(
            index=CRM_RECORDS.alias(names),
            query={
                "bool": {
                    "filter": [*source, {"term": {"kind": kind}}, *kinds[kind], *theirs],
                    "should": about,
                    "minimum_should_match": 1,
                }
            },
            sort=[{"occurred_at": {"order": order, "missing": "_last"}}, {"id": "asc"}],
            size=size,
        )["hits"]["hits"]
        records = [CrmRecord.model_validate(h["_source"]) for h in hits]
        if kind == "opportunity":
            result.opportunities = records
        else:
            result.interactions = records
    if theirs:
        shown_kinds = [{"bool": {"filter": [{"term": {"kind": k}}, *extra]}} for k, extra in kinds.items()]
        result.withheld += es.count(
            index=CRM_RECORDS.alias(names),
            query={
                "bool": {
                    "filter": [
                        *source,
                        {"bool": {"should": shown_kinds, "minimum_should_match": 1}},
                        {"bool": {"should": about, "minimum_should_match": 1}},
                    ],
                    "must_not": theirs,
                }
            },
        )["count"]
    return result


def _held_records(scope: OwnerScope, account_theirs: bool) -> dict[str, Any]:
    """The records `scope` may read: about one of their customers, or the account's own when it is theirs."""
    held: list[dict[str, Any]] = [{"terms": {"customer_id": sorted(scope.customer_ids)}}]
    if account_theirs:
        held.append({"bool": {"must_not": [{"exists": {"field": "customer_id"}}]}})
    return {"bool": {"should": held, "minimum_should_match": 1}}


@dataclass
class CrmImportStatus:
    """What the last import of one CRM source did, as crm/mirror.py recorded it."""

    source: str
    last_run: str | None = None
    last_success: str | None = None
    rows_read: int | None = None
    customers: int | None = None
    records: int | None = None
    deleted: int | None = None
    rejected: int = 0
    seconds: float | None = None
    consecutive_failures: int = 0
    last_error: str | None = None


def crm_import_statuses(es: Elasticsearch, names: IndexNames) -> dict[str, CrmImportStatus]:
    """Per CRM source name, the status its last import recorded (sources never imported are absent)."""
    result = es.search(
        index=STATE.alias(names), query={"term": {"kind": "crm"}}, sort=[{"source": "asc"}], size=100
    )
    statuses = {}
    for hit in result["hits"]["hits"]:
        state, data = hit["_source"], hit["_source"]["data"]
        failures = int(data.get("consecutive_failures", 0))
        statuses[state["source"]] = CrmImportStatus(
            source=state["source"],
            last_run=data.get("last_run"),
            last_success=data.get("last_success", data.get("last_run") if not failures else None),
            rows_read=data.get("rows_read"),
            customers=data.get("customers"),
            records=data.get("records"),
            deleted=data.get("deleted"),
            rejected=int(data.get("rejected_count", 0)),
            seconds=data.get("seconds"),
            consecutive_failures=failures,
            last_error=data.get("last_error") if failures else None,
        )
    return statuses


@dataclass
class Duplicate:
    """One email or handle found on several contacts."""

    field: str
    value: str
    customer_ids: list[str]


@dataclass
class Problem:
    customer_id: str
    full_name: str
    kind: str
    detail: str
    value: str | None = None
    network: str | None = None


@dataclass
class SourceRejections:
    """What the last import of one CRM source read, wrote and rejected; `summary` says it in English."""

    source: str
    last_run: str | None
    summary: str | None
    count: int
    rows: list[str]
    rows_read: int | None = None
    customers: int | None = None
    records: int | None = None
    deleted: int | None = None
    seconds: float | None = None


@dataclass
class QualityReport:
    """How good the mirrored customer data is, and how much of the conversation it explains."""

    customers: int
    duplicates: list[Duplicate]
    problems: list[Problem]
    problem_counts: dict[str, int]
    mentions: int | None  # None when not counted (each count is a pass over every mention)
    unlinked_mentions: int | None
    pending_reviews: int
    rejections: list[SourceRejections]

    @property
    def rejected_rows(self) -> int:
        return sum(r.count for r in self.rejections)


def _duplicates(es: Elasticsearch, names: IndexNames, field_name: str, size: int) -> list[Duplicate]:
    result = es.search(
        index=CUSTOMERS.alias(names),
        size=0,
        aggs={"values": {"terms": {"field": field_name, "min_doc_count": 2, "size": size}}},
    )
    values = [b["key"] for b in result["aggregations"]["values"]["buckets"] if b["doc_count"] >= 2]
    found = []
    for value in values:
        hits = es.search(
            index=CUSTOMERS.alias(names),
            query={"term": {field_name: value}},
            sort=[{"customer_id": "asc"}],
            size=50,
        )["hits"]["hits"]
        found.append(Duplicate(field_name, str(value), [h["_source"]["customer_id"] for h in hits]))
    return found


def crm_quality(
    es: Elasticsearch, names: IndexNames, examples: int = 200, with_mentions: bool = True
) -> QualityReport:
    """Duplicates, bad emails/phones/handles, missing owners, unlinked mentions and rejected rows.

    `with_mentions=False` leaves out the two mention counts, so only the small customer, review and
    state indices are read.
    """
    customers = es.count(index=CUSTOMERS.alias(names))["count"]
    duplicates = _duplicates(es, names, "emails", 500) + _duplicates(es, names, "handles", 500)
    counts = es.search(
        index=CUSTOMERS.alias(names), size=0, aggs={"kinds": {"terms": {"field": "quality.kind", "size": 10}}}
    )["aggregations"]["kinds"]["buckets"]
    hits = es.search(
        index=CUSTOMERS.alias(names),
        query={"exists": {"field": "quality.kind"}},
        sort=[{"customer_id": "asc"}],
        size=examples,
    )["hits"]["hits"]
    problems = [
        Problem(c.customer_id, c.full_name, q.kind, q.detail, q.value, q.network)
        for c in (Customer.model_validate(h["_source"]) for h in hits)
        for q in c.quality
    ]
    mentions = unlinked = None
    if with_mentions:
        mentions = es.count(index=MENTIONS.alias(names))["count"]
        # Only mentions with an author can be linked at all (news articles and feeds without one cannot).
        unlinked = es.count(
            index=MENTIONS.alias(names),
            query={
                "bool": {
                    "filter": [{"exists": {"field": "author.handle"}}],
                    "must_not": [{"exists": {"field": "customer_id"}}],
                }
            },
        )["count"]
    pending = es.count(index=REVIEWS.alias(names), query={"term": {"status": "pending"}})["count"]
    states = es.search(
        index=STATE.alias(names), query={"term": {"kind": "crm"}}, sort=[{"source": "asc"}], size=100
    )
    rejections = [
        SourceRejections(
            source=s["source"],
            last_run=s["data"].get("last_run"),
            summary=s["data"].get("summary"),
            count=int(s["data"].get("rejected_count", 0)),
            rows=list(s["data"].get("rejected", [])),
            rows_read=s["data"].get("rows_read"),
            customers=s["data"].get("customers"),
            records=s["data"].get("records"),
            deleted=s["data"].get("deleted"),
            seconds=s["data"].get("seconds"),
        )
        for s in (h["_source"] for h in states["hits"]["hits"])
    ]
    return QualityReport(
        customers=customers,
        duplicates=duplicates,
        problems=problems,
        problem_counts={b["key"]: b["doc_count"] for b in counts},
        mentions=mentions,
        unlinked_mentions=unlinked,
        pending_reviews=pending,
        rejections=rejections,
    )
