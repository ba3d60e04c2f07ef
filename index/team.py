"""What the Team page reads: the triage history of the mentions of a period, and the alerts' times."""

from __future__ import annotations

from datetime import datetime

from elasticsearch import Elasticsearch

from core.documents import AlertTimes, Handled, TriageChange
from index.alerts import ALERTS
from index.client import IndexNames
from index.periods import MENTIONS
from index.scan import scan_hits

MENTION_FIELDS = ["id", "source", "intent.label", "triage.team", "collected_at", "status", "history"]


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
    found = []
    # scan_hits names the period indices: the stand-in's point in time over the alias reads only one of them
    for hit in scan_hits(es, MENTIONS.alias(names), query, "id", page=page_size, source=MENTION_FIELDS):
        doc = hit["_source"]
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
    return [
        AlertTimes(
            intent=doc.get("intent") or "",
            created_at=datetime.fromisoformat(doc["created_at"]),
            acknowledged_at=datetime.fromisoformat(doc["acknowledged_at"])
            if doc.get("acknowledged_at")
            else None,
        )
        for doc in (
            h["_source"]
            for h in scan_hits(es, ALERTS.alias(names), query, "id", page=page_size, source=fields)
        )
    ]
