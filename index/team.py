"""What the Team page reads: the triage history of the mentions of a period, and the alerts' times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from ecoute.service import AlertTimes, Handled
from index.client import IndexNames
from index.documents import TriageChange

MENTION_FIELDS = ["id", "source", "intent.label", "triage.team", "collected_at", "status", "history"]


def _pages(
    es: Elasticsearch, index: str, query: dict[str, Any], fields: list[str], sort: list[Any], size: int
) -> Iterator[dict[str, Any]]:
    """Every matching document's `_source` (only `fields`), paged with a point in time + search_after."""
    pit = es.open_point_in_time(index=index, keep_alive="1m")["id"]
    search_after = None
    try:
        while True:
            kwargs: dict[str, Any] = {
                "pit": {"id": pit, "keep_alive": "1m"},
                "query": query,
                "source": fields,
                "size": size,
                "sort": sort,
            }
            if search_after:
                kwargs["search_after"] = search_after
            hits = es.search(**kwargs)["hits"]["hits"]
            if not hits:
                return
            for hit in hits:
                yield hit["_source"]
            search_after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)


def handled_mentions(
    es: Elasticsearch, names: IndexNames, since: datetime, until: datetime, page_size: int = 1000
) -> list[Handled]:
    """The mentions collected in [since, until), and the older ones that may have been open during it
    (still open now, or changed since `since`), with their status history."""
    query = {
        "bool": {
            "filter": [{"range": {"collected_at": {"lt": until.isoformat()}}}],
            "should": [
                {"range": {"collected_at": {"gte": since.isoformat()}}},
                {"terms": {"status": ["new", "in_progress"]}},
                {"range": {"triage.updated_at": {"gte": since.isoformat()}}},
            ],
            "minimum_should_match": 1,
        }
    }
    sort = [{"collected_at": "asc"}, {"id": "asc"}]
    found = []
    for doc in _pages(es, names.mentions, query, MENTION_FIELDS, sort, page_size):
        found.append(
            Handled(
                id=doc["id"],
                source=doc["source"],
                intent=(doc.get("intent") or {}).get("label", "other"),
                team=(doc.get("triage") or {}).get("team"),
                collected_at=datetime.fromisoformat(doc["collected_at"]),
                status=doc.get("status", "new"),
                history=[TriageChange.model_validate(c) for c in doc.get("history") or []],
            )
        )
    return found


def alert_times(
    es: Elasticsearch, names: IndexNames, since: datetime, until: datetime, page_size: int = 1000
) -> list[AlertTimes]:
    """When each alert raised in [since, until) was raised and acknowledged."""
    query = {"range": {"created_at": {"gte": since.isoformat(), "lt": until.isoformat()}}}
    fields = ["intent", "created_at", "acknowledged_at"]
    sort = [{"created_at": "asc"}, {"id": "asc"}]
    return [
        AlertTimes(
            intent=doc.get("intent") or "",
            created_at=datetime.fromisoformat(doc["created_at"]),
            acknowledged_at=datetime.fromisoformat(doc["acknowledged_at"])
            if doc.get("acknowledged_at")
            else None,
        )
        for doc in _pages(es, names.alerts, query, fields, sort, page_size)
    ]
