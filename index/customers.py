"""Customers (the CRM mirror's golden records): written, read by id, searched, listed by owner."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk

from core.documents import Customer
from core.errors import IndexUnavailableError
from index.catalog import DocumentType
from index.client import IndexNames
from index.mention_search import OwnerScope
from index.search_bounds import CUSTOMER_SEARCH, check_search

CUSTOMERS = DocumentType("customers", Customer)


def upsert_customers(es: Elasticsearch, names: IndexNames, customers: list[Customer]) -> int:
    """Mirror CRM contacts: the latest import replaces the previous copy of each."""
    actions = (
        {
            "_op_type": "index",
            "_index": CUSTOMERS.alias(names),
            "_id": c.customer_id,
            "_source": c.model_dump(mode="json"),
        }
        for c in customers
    )
    written = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            if not ok:
                result = item["index"]
                raise IndexUnavailableError(f"customer {result.get('_id')}: {result.get('error')}")
            written += 1
        es.indices.refresh(index=CUSTOMERS.alias(names))
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot write customers: {exc}") from exc
    return written


def get_customer(
    es: Elasticsearch, names: IndexNames, customer_id: str, scope: OwnerScope | None = None
) -> Customer | None:
    """The customer with this id; None when there is none, or when `scope` does not hold it."""
    try:
        customer = Customer.model_validate(es.get(index=CUSTOMERS.alias(names), id=customer_id)["_source"])
    except NotFoundError:
        return None
    return customer if scope is None or scope.holds_customer(customer) else None


def search_customers(
    es: Elasticsearch, names: IndexNames, text: str = "", size: int = 50, scope: OwnerScope | None = None
) -> list[Customer]:
    """By name, company, email or handle; all customers by name when `text` is empty; only those
    `scope` holds when given. SearchTooComplexError when `text` is over its bounds."""
    text = check_search(text, CUSTOMER_SEARCH)
    if text:
        needle = text.strip().lstrip("@").lower()
        query: dict[str, Any] = {
            "bool": {
                "should": [
                    {
                        "multi_match": {
                            "query": text,
                            "fields": ["full_name^3", "company^2", "company.fr", "full_name.fr"],
                            "fuzziness": "AUTO",
                        }
                    },
                    {"term": {"email": needle}},
                    {"term": {"emails": needle}},
                    {"term": {"handles": needle}},
                    {"term": {"confirmed_handles": needle}},
                    {"prefix": {"handles": needle}},
                ],
                "minimum_should_match": 1,
            }
        }
        sort: list[Any] = ["_score", {"customer_id": "asc"}]
    else:
        query, sort = {"match_all": {}}, [{"full_name.keyword": "asc"}]
    if scope is not None:
        query = {"bool": {"must": [query], "filter": [{"term": {"owner_email": scope.owner_email}}]}}
    result = es.search(index=CUSTOMERS.alias(names), query=query, sort=sort, size=size)
    return [Customer.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def all_customers(es: Elasticsearch, names: IndexNames, page_size: int = 1000) -> list[Customer]:
    """Every mirrored customer, paged with point-in-time + search_after."""
    pit = es.open_point_in_time(index=CUSTOMERS.alias(names), keep_alive="1m")["id"]
    customers: list[Customer] = []
    search_after = None
    try:
        while True:
            kwargs: dict[str, Any] = {
                "pit": {"id": pit, "keep_alive": "1m"},
                "size": page_size,
                "sort": [{"customer_id": "asc"}],
            }
            if search_after:
                kwargs["search_after"] = search_after
            hits = es.search(**kwargs)["hits"]["hits"]
            if not hits:
                break
            customers.extend(Customer.model_validate(h["_source"]) for h in hits)
            search_after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)
    return customers


def get_customers(
    es: Elasticsearch, names: IndexNames, customer_ids: list[str], scope: OwnerScope | None = None
) -> dict[str, Customer]:
    """The customers with these ids, in one request; ids not in the index (or not in `scope`) left out."""
    ids = list(dict.fromkeys(i for i in customer_ids if i))
    if not ids:
        return {}
    docs = es.mget(index=CUSTOMERS.alias(names), ids=ids)["docs"]
    found = {d["_id"]: Customer.model_validate(d["_source"]) for d in docs if d.get("found")}
    return {i: c for i, c in found.items() if scope is None or scope.holds_customer(c)}


def customers_of_owner(
    es: Elasticsearch, names: IndexNames, owner_email: str, size: int = 200
) -> list[Customer]:
    """The accounts one account owner (a sales person) looks after, by name."""
    result = es.search(
        index=CUSTOMERS.alias(names),
        query={"term": {"owner_email": owner_email}},
        sort=[{"full_name.keyword": "asc"}],
        size=size,
    )
    return [Customer.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def count_customers(es: Elasticsearch, names: IndexNames) -> int:
    """How many CRM records the customer index mirrors."""
    return es.count(index=CUSTOMERS.alias(names))["count"]


MAX_OWNED = 10_000


def owner_scope(es: Elasticsearch, names: IndexNames, owner_email: str) -> OwnerScope:
    """The scope of one account owner: the ids of the customers whose owner_email is theirs."""
    result = es.search(
        index=CUSTOMERS.alias(names),
        query={"term": {"owner_email": owner_email}},
        source=["customer_id"],
        size=MAX_OWNED,
    )
    return OwnerScope(owner_email, frozenset(h["_source"]["customer_id"] for h in result["hits"]["hits"]))
