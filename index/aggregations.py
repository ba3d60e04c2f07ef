"""Named aggregations for the insights pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from index.client import IndexNames
from index.mention_search import MentionFilter, MentionPage, page_of, search_body
from index.periods import indices_for
from nlp.explain import Distinctive, distinctive, meaningful_words

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


INTERVALS = ("hour", "day", "week")
HOURLY_UP_TO = timedelta(days=2)
"""A period this short is drawn hour by hour."""


def interval_for(since: datetime | None, until: datetime | None, now: datetime | None = None) -> str:
    """Hourly buckets for a period of up to HOURLY_UP_TO, daily ones beyond (and for all time)."""
    if since is None:
        return "day"
    return "hour" if (until or now or datetime.now(UTC)) - since <= HOURLY_UP_TO else "day"


MAX_BUCKETS = 5_000
"""Buckets a chart is filled out to at most (empty ones included): 200 days of hours, 13 years of days."""


def _hours_agg() -> dict[str, Any]:
    """Mentions per hour (UTC), only hours holding some."""
    return {"date_histogram": {"field": "created_at", "fixed_interval": "1h", "min_doc_count": 1}}


def _over_time_agg() -> dict[str, Any]:
    # Hours in UTC, rolled up into the configured zone's days and weeks here: a named time_zone is not
    # honoured by every index (the stand-in ignores it), and whole hours fit every zone with whole-hour
    # offsets across daylight-saving changes. Only hours holding mentions come back.
    return {**_hours_agg(), "aggs": {"sentiment": {"terms": {"field": "sentiment.label", "size": 3}}}}


def bucket_start(moment: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """The start, in `zone`, of the hour, day or week (from Monday) holding `moment`."""
    local = moment.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date() - timedelta(days=local.weekday() if interval == "week" else 0)
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _next_start(start: datetime, interval: str, zone: ZoneInfo) -> datetime:
    if interval == "hour":
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    day: date = start.date() + timedelta(days=7 if interval == "week" else 1)
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def bucket_starts(first: datetime, last: datetime, interval: str, zone: ZoneInfo) -> Iterator[datetime]:
    """Every bucket start from the one holding `first` to the one holding `last`, at most MAX_BUCKETS."""
    start, end = bucket_start(first, interval, zone), bucket_start(last, interval, zone)
    for _ in range(MAX_BUCKETS):
        if start > end:
            return
        yield start
        start = _next_start(start, interval, zone)


def _hour(bucket: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(bucket["key"] / 1000, tz=UTC)


def _sentiment_buckets(
    agg: dict[str, Any], interval: str, zone: ZoneInfo, since: datetime | None, until: datetime | None
) -> list[SentimentBucket]:
    hours = agg["buckets"]
    if not hours and not (since and until):
        return []
    first = since or _hour(hours[0])
    last = (until - timedelta(microseconds=1)) if until else _hour(hours[-1])
    if hours:
        first, last = min(first, _hour(hours[0])), max(last, _hour(hours[-1]))
    buckets = {s: SentimentBucket(s, 0, 0, 0) for s in bucket_starts(first, last, interval, zone)}
    for hour in hours:
        bucket = buckets.get(bucket_start(_hour(hour), interval, zone))
        if bucket is None:
            continue
        for found in hour["sentiment"]["buckets"]:
            if found["key"] in SENTIMENTS:
                setattr(bucket, found["key"], getattr(bucket, found["key"]) + found["doc_count"])
    return list(buckets.values())


def _counts(agg: dict[str, Any]) -> dict[str, int]:
    return {str(b["key"]): b["doc_count"] for b in agg["buckets"]}


def sentiment_over_time(
    es: Elasticsearch,
    names: IndexNames,
    flt: MentionFilter | None = None,
    interval: str = "day",
    tz: str = "UTC",
) -> list[SentimentBucket]:
    """Mentions per hour, day or week of time zone `tz`, split by sentiment label."""
    flt = flt or MentionFilter()
    result = es.search(
        index=flt.indices(es, names), size=0, query=flt.to_query(), aggs={"over_time": _over_time_agg()}
    )
    return _sentiment_buckets(
        result["aggregations"]["over_time"], interval, ZoneInfo(tz), flt.since, flt.until
    )


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
    tz: str = "UTC",
) -> Overview:
    """Counts per value of each field, distinct customers and (with an interval: hour, day or week of
    time zone `tz`) sentiment over time.

    One request instead of one per chart: each request costs a pass over the matching mentions.
    """
    flt = flt or MentionFilter()
    result = es.search(
        index=flt.indices(es, names),
        size=0,
        track_total_hits=True,
        query=flt.to_query(),
        aggs=_overview_aggs(fields, interval, size),
    )
    return _overview_from(result["aggregations"], result["hits"]["total"]["value"], flt, fields, interval, tz)


def overview_and_mentions(
    es: Elasticsearch,
    names: IndexNames,
    flt: MentionFilter,
    shown: int = 50,
    fields: tuple[str, ...] = ("sentiment.label",),
    interval: str | None = None,
    size: int = 20,
    tz: str = "UTC",
) -> tuple[Overview, MentionPage]:
    """`overview` and the newest `shown` mentions (`search_mentions`) of one filter, from one request:
    the index passes over the mentions once for both."""
    body = search_body(flt, size=shown)
    body["aggs"] = _overview_aggs(fields, interval, size)
    result = es.search(index=flt.indices(es, names), **body)
    total = result["hits"]["total"]["value"]
    return _overview_from(result["aggregations"], total, flt, fields, interval, tz), page_of(result)


def _overview_aggs(fields: tuple[str, ...], interval: str | None, size: int) -> dict[str, Any]:
    aggs: dict[str, Any] = {f"by:{f}": {"terms": {"field": f, "size": size}} for f in fields}
    aggs["customers"] = {"cardinality": {"field": "customer_id"}}
    if interval:
        if interval not in INTERVALS:
            raise ValueError(f"unknown interval {interval!r} (known: {', '.join(INTERVALS)})")
        aggs["over_time"] = _over_time_agg()
    return aggs


def _overview_from(
    found: dict[str, Any],
    total: int,
    flt: MentionFilter,
    fields: tuple[str, ...],
    interval: str | None,
    tz: str,
) -> Overview:
    """The Overview in the aggregations answering `_overview_aggs`, of `total` mentions."""
    over_time = (
        _sentiment_buckets(found["over_time"], interval, ZoneInfo(tz), flt.since, flt.until)
        if interval
        else []
    )
    return Overview(
        total=total,
        counts={f: _counts(found[f"by:{f}"]) for f in fields},
        customers=int(found["customers"]["value"] or 0),
        over_time=over_time,
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
    result = es.search(index=flt.indices(es, names), query=flt.to_query(), **_reach_request(size))
    return _authors_counted(es, names, flt, _widest_reach(result, size))


def _reach_request(size: int) -> dict[str, Any]:
    """The mentions of widest reach, enough of them to find `size` distinct authors most of the time."""
    return {
        "size": size * 10,
        "sort": [{"author.followers": {"order": "desc", "missing": "_last"}}],
        "source_includes": ["author"],
    }


def _widest_reach(result: Any, size: int) -> dict[str, AuthorReach]:
    """The first `size` distinct authors of the hits answering `_reach_request`, not yet counted."""
    authors: dict[str, AuthorReach] = {}
    for hit in result["hits"]["hits"]:
        author = hit["_source"]["author"]
        handle = author.get("handle")
        if handle and handle not in authors and len(authors) < size:
            authors[handle] = AuthorReach(
                handle, author.get("display_name"), author.get("followers") or 0, 0, 0
            )
    return authors


def _authors_counted(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter, authors: dict[str, AuthorReach]
) -> list[AuthorReach]:
    """The authors with how many of the matching mentions, and of the negative ones, are theirs."""
    if not authors:
        return []
    counts = es.search(
        index=flt.indices(es, names),
        size=0,
        query={"bool": {"filter": [flt.to_query(), {"terms": {"author.handle": list(authors)}}]}},
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


MAX_EXPLAINED = 1_000
"""Posts read from a spike window, and from its baseline, to explain it."""


@dataclass
class SpikeExplanation:
    """What a spike is about: the words and hashtags far more frequent than in the baseline before it,
    and the authors and sources who posted most in it."""

    start: datetime
    end: datetime
    posts: int
    terms: list[Distinctive]
    hashtags: list[Distinctive]
    authors: list[tuple[str, int]]
    sources: list[tuple[str, int]]

    def search(self, top: int = 3) -> str:
        """An Inbox search for the spike's posts: its top terms and hashtags, OR'ed (in the query
        language; within the Inbox's search bounds)."""
        parts = [_searchable(d.value) for d in self.terms[:top]]
        parts += [f"hashtag:{_searchable(d.value)}" for d in self.hashtags[: max(top + 1 - len(parts), 0)]]
        return " OR ".join(parts)


def _searchable(word: str) -> str:
    return f'"{word}"' if any(c in word for c in ':*"()') else word


def _posts(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    result = es.search(
        index=indices_for(es, names, start, end),
        size=MAX_EXPLAINED,
        query={
            "bool": {
                "filter": [
                    flt.to_query(),
                    {"range": {"created_at": {"gte": start.isoformat(), "lt": end.isoformat()}}},
                ]
            }
        },
        sort=[{"created_at": "desc"}],
        source_includes=["title", "text", "hashtags", "author.handle", "source"],
    )
    return [h["_source"] for h in result["hits"]["hits"]]


def explain_spike(
    es: Elasticsearch,
    names: IndexNames,
    start: datetime,
    end: datetime,
    baseline_start: datetime,
    flt: MentionFilter | None = None,
    top: int = 5,
) -> SpikeExplanation:
    """Compare the posts of [start, end) with those of [baseline_start, start): distinctive words
    (stop words removed, French and English) and hashtags by smoothed log-odds; busiest authors and
    sources. Two requests."""
    flt = flt or MentionFilter()
    now = _posts(es, names, flt, start, end)
    before = _posts(es, names, flt, baseline_start, start)

    def texts(posts: list[dict[str, Any]]) -> list[set[str]]:
        return [meaningful_words(f"{p.get('title') or ''} {p.get('text') or ''}") for p in posts]

    def tags(posts: list[dict[str, Any]]) -> list[list[str]]:
        return [[h.lower() for h in p.get("hashtags") or []] for p in posts]

    authors = Counter(p["author"]["handle"] for p in now if (p.get("author") or {}).get("handle"))
    sources = Counter(p["source"] for p in now if p.get("source"))
    hashtags = distinctive(tags(now), tags(before), top)
    tagged = {d.value for d in hashtags}
    terms = [d for d in distinctive(texts(now), texts(before), top + len(tagged)) if d.value not in tagged]
    return SpikeExplanation(
        start,
        end,
        len(now),
        terms[:top],
        hashtags,
        sorted(authors.items(), key=lambda a: (-a[1], a[0]))[:3],
        sorted(sources.items(), key=lambda s: (-s[1], s[0]))[:3],
    )


@dataclass
class BrandShare:
    """One brand's share of the mentions of all brands, and how people felt about it."""

    brand: str
    mentions: int
    share: float  # of all brand mentions, 0..1
    positive: int
    negative: int

    @property
    def net_sentiment(self) -> float:
        """(positive - negative) / mentions, in [-1, 1]."""
        return (self.positive - self.negative) / self.mentions if self.mentions else 0.0


@dataclass
class ShareOfVoice:
    """Each brand's share over the period, and per bucket (shares of one bucket sum to 1)."""

    brands: list[BrandShare]
    over_time: list[tuple[datetime, dict[str, float]]]


def shares(counts: dict[str, int]) -> dict[str, float]:
    """Each count as a share of their sum (all 0 when the sum is 0)."""
    total = sum(counts.values())
    return {k: (v / total if total else 0.0) for k, v in counts.items()}


def share_of_voice(
    es: Elasticsearch,
    names: IndexNames,
    brands: list[str],
    flt: MentionFilter | None = None,
    interval: str = "day",
    tz: str = "UTC",
) -> ShareOfVoice:
    """The brand's and its competitors' shares of voice (from the mentions' `topics`), with net
    sentiment per brand, over the period and per hour, day or week of `tz`. One request."""
    flt = flt or MentionFilter()
    aggs = {"brands": _brands_agg(brands), "over_time": _hours_agg()}
    aggs["over_time"]["aggs"] = {"brands": _brand_terms(brands)}
    result = es.search(index=flt.indices(es, names), size=0, query=flt.to_query(), aggs=aggs)
    return _share_from(result["aggregations"], brands, interval, tz)


def _brand_terms(brands: list[str]) -> dict[str, Any]:
    return {"terms": {"field": "topics", "include": brands, "size": max(len(brands), 1)}}


def _brands_agg(brands: list[str]) -> dict[str, Any]:
    return {**_brand_terms(brands), "aggs": {"sentiment": {"terms": {"field": "sentiment.label", "size": 3}}}}


def _share_from(found: dict[str, Any], brands: list[str], interval: str, tz: str) -> ShareOfVoice:
    """The ShareOfVoice in aggregations holding `_brands_agg` as "brands" and, in each hour of
    "over_time", `_brand_terms` as "brands"."""
    counts = {b: 0 for b in brands}
    feelings: dict[str, dict[str, int]] = {b: {} for b in brands}
    for bucket in found["brands"]["buckets"]:
        counts[bucket["key"]] = bucket["doc_count"]
        feelings[bucket["key"]] = {s["key"]: s["doc_count"] for s in bucket["sentiment"]["buckets"]}
    share = shares(counts)
    result_brands = [
        BrandShare(b, counts[b], share[b], feelings[b].get("positive", 0), feelings[b].get("negative", 0))
        for b in sorted(brands, key=lambda b: (-counts[b], b))
    ]
    zone = ZoneInfo(tz)
    per_bucket: dict[datetime, dict[str, int]] = {}
    for hour in found["over_time"]["buckets"]:
        start = bucket_start(_hour(hour), interval, zone)
        into = per_bucket.setdefault(start, dict.fromkeys(brands, 0))
        for b in hour["brands"]["buckets"]:
            into[b["key"]] = into.get(b["key"], 0) + b["doc_count"]
    over_time = [(start, shares(c)) for start, c in sorted(per_bucket.items())]
    return ShareOfVoice(result_brands, over_time)


@dataclass
class PeriodInsights:
    """What the Insights page shows of a period."""

    overview: Overview
    share_of_voice: ShareOfVoice
    authors: list[AuthorReach]


def period_insights(
    es: Elasticsearch,
    names: IndexNames,
    flt: MentionFilter,
    brands: list[str],
    fields: tuple[str, ...] = INSIGHT_FIELDS,
    interval: str = "day",
    tz: str = "UTC",
    authors: int = 10,
    size: int = 20,
) -> PeriodInsights:
    """The period's overview, shares of voice and authors of widest reach, in two requests: one for all
    the figures (one hourly histogram for both charts) with the mentions of widest reach as its hits, one
    for those authors' counts (they must be found first).

    A compared period is read apart (`overview`): in the same request, each period counted by a filter
    aggregation, the stand-in spent more than on two requests, though it read fewer mentions
    (BENCHMARKS.md, "Pages in fewer requests")."""
    aggs = _overview_aggs(fields, interval, size)
    aggs["brands"] = _brands_agg(brands)
    aggs["over_time"]["aggs"]["brands"] = _brand_terms(brands)
    result = es.search(
        index=flt.indices(es, names),
        query=flt.to_query(),
        aggs=aggs,
        track_total_hits=True,
        **_reach_request(authors),
    )
    found = result["aggregations"]
    return PeriodInsights(
        overview=_overview_from(found, result["hits"]["total"]["value"], flt, fields, interval, tz),
        share_of_voice=_share_from(found, brands, interval, tz),
        authors=_authors_counted(es, names, flt, _widest_reach(result, authors)),
    )
