"""Named aggregations for the insights pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from index.client import IndexNames
from index.queries import MentionFilter

SENTIMENTS = ("positive", "neutral", "negative")
# What the Insights page charts, in one overview request.
INSIGHT_FIELDS = (
    "sentiment.label",
    "source",
    "language",
    "intent.label",
    "topics",
    "entities.text",
    "hashtags",
)


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


def _over_time_agg(interval: str) -> dict[str, Any]:
    return {
        "date_histogram": {"field": "created_at", "calendar_interval": interval, "min_doc_count": 0},
        "aggs": {"sentiment": {"terms": {"field": "sentiment.label", "size": 3}}},
    }


def _sentiment_buckets(agg: dict[str, Any]) -> list[SentimentBucket]:
    buckets = []
    for bucket in agg["buckets"]:
        counts = {b["key"]: b["doc_count"] for b in bucket["sentiment"]["buckets"]}
        buckets.append(
            SentimentBucket(
                start=datetime.fromisoformat(bucket["key_as_string"].replace("Z", "+00:00")),
                **{s: counts.get(s, 0) for s in SENTIMENTS},
            )
        )
    return buckets


def _counts(agg: dict[str, Any]) -> dict[str, int]:
    return {str(b["key"]): b["doc_count"] for b in agg["buckets"]}


def sentiment_over_time(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter | None = None, interval: str = "day"
) -> list[SentimentBucket]:
    """Mentions per interval split by sentiment label."""
    result = es.search(
        index=(flt or MentionFilter()).indices(es, names),
        size=0,
        query=(flt or MentionFilter()).to_query(),
        aggs={"over_time": _over_time_agg(interval)},
    )
    return _sentiment_buckets(result["aggregations"]["over_time"])


def counts_by(
    es: Elasticsearch, names: IndexNames, field: str, flt: MentionFilter | None = None, size: int = 20
) -> dict[str, int]:
    """Mention count per value of a keyword field (source, language, intent.label, topics...)."""
    result = es.search(
        index=(flt or MentionFilter()).indices(es, names),
        size=0,
        query=(flt or MentionFilter()).to_query(),
        aggs={"values": {"terms": {"field": field, "size": size}}},
    )
    return _counts(result["aggregations"]["values"])


@dataclass
class Overview:
    """Everything a summary page shows about a set of mentions, from one request."""

    total: int
    counts: dict[str, dict[str, int]]
    customers: int
    over_time: list[SentimentBucket]


def overview(
    es: Elasticsearch,
    names: IndexNames,
    flt: MentionFilter | None = None,
    fields: tuple[str, ...] = ("sentiment.label",),
    interval: str | None = None,
    size: int = 20,
) -> Overview:
    """Counts per value of each field, distinct customers and (with an interval) sentiment over time.

    One request instead of one per chart: each request costs a pass over the matching mentions.
    """
    aggs: dict[str, Any] = {f"by:{f}": {"terms": {"field": f, "size": size}} for f in fields}
    aggs["customers"] = {"cardinality": {"field": "customer_id"}}
    if interval:
        aggs["over_time"] = _over_time_agg(interval)
    flt = flt or MentionFilter()
    result = es.search(
        index=flt.indices(es, names),
        size=0,
        track_total_hits=True,
        query=flt.to_query(),
        aggs=aggs,
    )
    found = result["aggregations"]
    return Overview(
        total=result["hits"]["total"]["value"],
        counts={f: _counts(found[f"by:{f}"]) for f in fields},
        customers=int(found["customers"]["value"] or 0),
        over_time=_sentiment_buckets(found["over_time"]) if interval else [],
    )


@dataclass
class AuthorReach:
    """An author who spoke in the period, by follower count, with how often and how they felt."""

    handle: str
    display_name: str | None
    followers: int
    mentions: int
    negative: int


def top_authors(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter | None = None, size: int = 10
) -> list[AuthorReach]:
    """The authors with the widest reach among the matching mentions, most followers first."""
    flt = flt or MentionFilter()
    query, indices = flt.to_query(), flt.indices(es, names)
    result = es.search(
        index=indices,
        size=size * 10,
        query=query,
        sort=[{"author.followers": {"order": "desc", "missing": "_last"}}],
        source_includes=["author"],
    )
    authors: dict[str, AuthorReach] = {}
    for hit in result["hits"]["hits"]:
        author = hit["_source"]["author"]
        handle = author.get("handle")
        if handle and handle not in authors and len(authors) < size:
            authors[handle] = AuthorReach(
                handle, author.get("display_name"), author.get("followers") or 0, 0, 0
            )
    if not authors:
        return []
    counts = es.search(
        index=indices,
        size=0,
        query={"bool": {"filter": [query, {"terms": {"author.handle": list(authors)}}]}},
        aggs={
            "by_author": {
                "terms": {"field": "author.handle", "size": len(authors)},
                "aggs": {"negative": {"filter": {"term": {"sentiment.label": "negative"}}}},
            }
        },
    )
    for bucket in counts["aggregations"]["by_author"]["buckets"]:
        reach = authors.get(str(bucket["key"]))
        if reach:
            reach.mentions = bucket["doc_count"]
            reach.negative = bucket["negative"]["doc_count"]
    return list(authors.values())


@dataclass
class Spike:
    """A bucket whose volume stands out from the buckets before it."""

    start: datetime
    volume: int
    baseline: float
    ratio: float


def find_spikes(
    buckets: list[SentimentBucket], window: int = 7, min_ratio: float = 2.0, min_volume: int = 10
) -> list[Spike]:
    """Buckets at least `min_ratio` times the mean of the `window` buckets before them.

    A bucket needs `min_volume` mentions and a full window behind it, so one busy day at the start
    of a chart or a jump from 1 to 3 mentions is never called a spike.
    """
    spikes = []
    for i in range(window, len(buckets)):
        baseline = sum(b.total for b in buckets[i - window : i]) / window
        volume = buckets[i].total
        if volume >= min_volume and volume >= min_ratio * max(baseline, 1.0):
            spikes.append(
                Spike(buckets[i].start, volume, round(baseline, 1), round(volume / max(baseline, 1.0), 1))
            )
    return spikes
