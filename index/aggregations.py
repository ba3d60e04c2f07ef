"""Named aggregations for the insights pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from index.client import IndexNames
from index.queries import MentionFilter

SENTIMENTS = ("positive", "neutral", "negative")


@dataclass
class SentimentBucket:
    start: datetime
    positive: int
    neutral: int
    negative: int

    @property
    def total(self) -> int:
        return self.positive + self.neutral + self.negative

    @property
    def net_sentiment(self) -> float:
        """(positive - negative) / total, in [-1, 1]; 0 for an empty bucket."""
        return (self.positive - self.negative) / self.total if self.total else 0.0


def sentiment_over_time(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter | None = None, interval: str = "day"
) -> list[SentimentBucket]:
    """Mentions per interval split by sentiment label."""
    result = es.search(
        index=names.mentions,
        size=0,
        query=(flt or MentionFilter()).to_query(),
        aggs={
            "over_time": {
                "date_histogram": {
                    "field": "created_at",
                    "calendar_interval": interval,
                    "min_doc_count": 0,
                },
                "aggs": {"sentiment": {"terms": {"field": "sentiment.label", "size": 3}}},
            }
        },
    )
    buckets = []
    for bucket in result["aggregations"]["over_time"]["buckets"]:
        counts = {b["key"]: b["doc_count"] for b in bucket["sentiment"]["buckets"]}
        buckets.append(
            SentimentBucket(
                start=datetime.fromisoformat(bucket["key_as_string"].replace("Z", "+00:00")),
                **{s: counts.get(s, 0) for s in SENTIMENTS},
            )
        )
    return buckets


def counts_by(
    es: Elasticsearch, names: IndexNames, field: str, flt: MentionFilter | None = None, size: int = 20
) -> dict[str, int]:
    """Mention count per value of a keyword field (source, language, intent.label, topics...)."""
    result = es.search(
        index=names.mentions,
        size=0,
        query=(flt or MentionFilter()).to_query(),
        aggs={"values": {"terms": {"field": field, "size": size}}},
    )
    return {str(b["key"]): b["doc_count"] for b in result["aggregations"]["values"]["buckets"]}


def average_sentiment_confidence(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter | None = None
) -> float | None:
    result: dict[str, Any] = es.search(
        index=names.mentions,
        size=0,
        query=(flt or MentionFilter()).to_query(),
        aggs={"conf": {"avg": {"field": "sentiment.confidence"}}},
    )
    return result["aggregations"]["conf"]["value"]


def distinct_count(es: Elasticsearch, names: IndexNames, field: str, flt: MentionFilter | None = None) -> int:
    """How many different values of a keyword field the matching mentions have (e.g. customers)."""
    result = es.search(
        index=names.mentions,
        size=0,
        query=(flt or MentionFilter()).to_query(),
        aggs={"distinct": {"cardinality": {"field": field}}},
    )
    return int(result["aggregations"]["distinct"]["value"] or 0)
