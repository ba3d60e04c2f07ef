"""The review queue of proposed customer links, and what a person's decision does to the index.

A confirmed link writes the author's handle back to the customer (`confirmed_handles`, kept across CRM
imports; never to the source CRM) and links every mention by that author; a rejected one is remembered
so the pair is never proposed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from elasticsearch import Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk

from core.documents import Customer, CustomerLink, LinkFact, LinkReview, Mention, document_id
from core.errors import EcouteError, IndexUnavailableError
from core.names import author_key, normalise_handle
from index.catalog import DocumentType
from index.client import IndexNames
from index.customers import CUSTOMERS, get_customer
from index.mentions import mark_mentions_changed
from index.periods import MENTIONS, refresh

REVIEWS = DocumentType("reviews", LinkReview)


class ReviewError(EcouteError):
    """A decision that cannot be applied (unknown proposal, customer gone from the CRM)."""


def review_id(key: str, customer_id: str) -> str:
    return document_id("review", key, customer_id)


def queue_link_reviews(es: Elasticsearch, names: IndexNames, mentions: Iterable[Mention]) -> int:
    """Add proposed links to the queue, one entry per author and customer; returns how many are new."""
    groups: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions:
        proposal = mention.link_proposal
        if (
            proposal is None
            or mention.customer_id
            or not (mention.author.handle or mention.author.display_name)
        ):
            continue
        key = author_key(mention.platform, mention.author.handle or mention.author.display_name or "")
        groups[review_id(key, proposal.customer_id)].append(mention)
    if not groups:
        return 0
    existing = {
        d["_id"]: LinkReview.model_validate(d["_source"])
        for d in es.mget(index=REVIEWS.alias(names), ids=list(groups))["docs"]
        if d.get("found")
    }
    now = datetime.now(UTC)
    docs: list[LinkReview] = []
    for rid, found in groups.items():
        first = found[0]
        proposal = first.link_proposal
        assert proposal is not None
        mention_ids = [m.id for m in found]
        best = max(
            (m.link_proposal.confidence for m in found if m.link_proposal), default=proposal.confidence
        )
        if rid in existing:
            review = existing[rid]
            if review.status != "pending":
                continue
            ids = list(dict.fromkeys([*review.mention_ids, *mention_ids]))
            docs.append(
                review.model_copy(
                    update={"mention_ids": ids, "confidence": max(best, review.confidence), "updated_at": now}
                )
            )
            continue
        customer = get_customer(es, names, proposal.customer_id)
        handle = first.author.handle or first.author.display_name or ""
        docs.append(
            LinkReview(
                id=rid,
                author_key=author_key(first.platform, handle),
                platform=first.platform,
                author_handle=normalise_handle(handle),
                author_name=first.author.display_name,
                customer_id=proposal.customer_id,
                customer_name=customer.full_name if customer else proposal.customer_id,
                company=customer.company if customer else None,
                confidence=best,
                reason=proposal.reason,
                evidence=[e.strip() for e in proposal.reason.rsplit(":", 1)[0].split(";")],
                facts=proposal.facts,
                mention_ids=mention_ids,
                created_at=now,
                updated_at=now,
            )
        )
    actions = (
        {
            "_op_type": "index",
            "_index": REVIEWS.alias(names),
            "_id": r.id,
            "_source": r.model_dump(mode="json"),
        }
        for r in docs
    )
    _run(es, REVIEWS.alias(names), actions)
    return sum(1 for r in docs if r.id not in existing)


def _run(es: Elasticsearch, index: str, actions: Iterable[dict[str, Any]]) -> int:
    done = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            if not ok:
                result = next(iter(item.values()))
                raise IndexUnavailableError(f"{index} {result.get('_id')}: {result.get('error')}")
            done += 1
        es.indices.refresh(index=index)
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot write {index}: {exc}") from exc
    return done


def list_reviews(
    es: Elasticsearch, names: IndexNames, status: str | None = "pending", size: int = 100
) -> list[LinkReview]:
    """Proposals to decide, most confident first (decided ones newest first)."""
    query: dict[str, Any] = {"term": {"status": status}} if status else {"match_all": {}}
    sort: list[Any] = (
        [{"confidence": "desc"}, {"id": "asc"}]
        if status == "pending"
        else [{"updated_at": "desc"}, {"id": "asc"}]
    )
    hits = es.search(index=REVIEWS.alias(names), query=query, sort=sort, size=size)["hits"]["hits"]
    return [LinkReview.model_validate(h["_source"]) for h in hits]


def rejected_pairs(es: Elasticsearch, names: IndexNames) -> set[tuple[str, str]]:
    """(author key, customer id) pairs a person refused: never proposed again."""
    hits = es.search(index=REVIEWS.alias(names), query={"term": {"status": "rejected"}}, size=10_000)["hits"][
        "hits"
    ]
    return {(h["_source"]["author_key"], h["_source"]["customer_id"]) for h in hits}


def _mentions_by_author(es: Elasticsearch, names: IndexNames, review: LinkReview) -> list[dict[str, Any]]:
    query = {
        "bool": {
            "filter": [{"term": {"platform": review.platform}}],
            "should": [{"ids": {"values": review.mention_ids}}],
            "minimum_should_match": 1,
        }
    }
    if review.author_handle:
        query["bool"]["should"].append({"term": {"author.handle": review.author_handle}})
    return es.search(index=MENTIONS.alias(names), query=query, size=10_000)["hits"]["hits"]


def decide_review(
    es: Elasticsearch, names: IndexNames, rid: str, decision: Literal["confirmed", "rejected"], by: str
) -> LinkReview:
    """Record a person's decision and apply it to the customer and to every mention by that author."""
    try:
        review = LinkReview.model_validate(es.get(index=REVIEWS.alias(names), id=rid)["_source"])
    except NotFoundError as exc:
        raise ReviewError(f"no proposed link with id {rid}") from exc
    now = datetime.now(UTC).replace(microsecond=0)
    decided = review.model_copy(
        update={"status": decision, "decided_by": by, "decided_at": now, "updated_at": now}
    )
    actions: list[dict[str, Any]] = []
    mentions = _mentions_by_author(es, names, review)
    if decision == "confirmed":
        customer = get_customer(es, names, review.customer_id)
        if customer is None:
            raise ReviewError(f"customer {review.customer_id} is no longer in the CRM mirror")
        handles = list(dict.fromkeys([*customer.confirmed_handles, review.author_handle]))
        es.update(
            index=CUSTOMERS.alias(names),
            id=customer.customer_id,
            doc={"confirmed_handles": handles},
            refresh=True,
        )
        link = CustomerLink(
            customer_id=customer.customer_id,
            method="confirmed",
            confidence=1.0,
            reason=f"{by} confirmed @{review.author_handle} is {customer.full_name} on {now:%Y-%m-%d}",
            facts=[
                LinkFact(
                    kind="decided",
                    values={
                        "by": by,
                        "handle": review.author_handle,
                        "customer": customer.full_name,
                        "date": f"{now:%Y-%m-%d}",
                    },
                )
            ],
        )
        for hit in mentions:
            if hit["_source"].get("customer_id") in (None, customer.customer_id):
                doc = {
                    "customer_id": customer.customer_id,
                    "link": link.model_dump(mode="json"),
                    "link_proposal": None,
                }
                actions.append({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": doc})
        # The author is one person: the other proposals about them are settled by this one.
        others = es.search(
            index=REVIEWS.alias(names),
            query={
                "bool": {
                    "filter": [{"term": {"author_key": review.author_key}}, {"term": {"status": "pending"}}]
                }
            },
            size=100,
        )["hits"]["hits"]
        for hit in others:
            if hit["_id"] != rid:
                other = {
                    "status": "rejected",
                    "decided_by": by,
                    "decided_at": now.isoformat(),
                    "updated_at": now.isoformat(),
                }
                actions.append(
                    {"_op_type": "update", "_index": REVIEWS.alias(names), "_id": hit["_id"], "doc": other}
                )
    else:
        for hit in mentions:
            proposal = hit["_source"].get("link_proposal") or {}
            if proposal.get("customer_id") == review.customer_id:
                actions.append(
                    {
                        "_op_type": "update",
                        "_index": hit["_index"],
                        "_id": hit["_id"],
                        "doc": {"link_proposal": None},
                    }
                )
    actions.append(
        {
            "_op_type": "index",
            "_index": REVIEWS.alias(names),
            "_id": rid,
            "_source": decided.model_dump(mode="json"),
        }
    )
    touched = {hit["_index"] for hit in mentions}
    try:
        _run(es, REVIEWS.alias(names), actions)
        refresh(es, touched)
    finally:  # the bulk may have updated some mentions before it stopped
        if any(a["_index"] in touched for a in actions):
            mark_mentions_changed(es, names)
    return decided


def customers_with_confirmed_handles(es: Elasticsearch, names: IndexNames) -> list[Customer]:
    hits = es.search(
        index=CUSTOMERS.alias(names), query={"exists": {"field": "confirmed_handles"}}, size=10_000
    )
    return [Customer.model_validate(h["_source"]) for h in hits["hits"]["hits"]]
