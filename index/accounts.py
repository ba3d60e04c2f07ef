"""What happened on a sales person's accounts: last mention, recent volume, sentiment trend, open alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from index.alerts import ALERTS
from index.client import IndexNames
from index.periods import MENTIONS

MAX_ACCOUNTS = 1_000  # one terms bucket per account, in one request


@dataclass(frozen=True)
class AccountActivity:
    """One customer's public activity over the last `days` days, beside the `days` before."""

    customer_id: str
    last_mention_at: datetime | None = None
    mentions: int = 0
    net_sentiment: float | None = None  # (positive - negative) / mentions, over the last period
    net_sentiment_before: float | None = None  # the same over the period before it
    open_alerts: int = 0

    @property
    def trend_points(self) -> float | None:
        """Change of net sentiment in points (x100) from the period before to the last one."""
        if self.net_sentiment is None or self.net_sentiment_before is None:
            return None
        return round((self.net_sentiment - self.net_sentiment_before) * 100, 1)


def _net(bucket: dict[str, Any]) -> float | None:
    total = bucket["doc_count"]
    if not total:
        return None
    counts = {b["key"]: b["doc_count"] for b in bucket["sentiment"]["buckets"]}
    return (counts.get("positive", 0) - counts.get("negative", 0)) / total


def account_activity(
    es: Elasticsearch, names: IndexNames, customer_ids: list[str], now: datetime, days: int = 30
) -> dict[str, AccountActivity]:
    """Per customer id: the newest mention ever, then mentions and net sentiment over the last `days`
    and the `days` before, and alerts still unacknowledged. Two requests whatever the number of ids."""
    ids = sorted(set(customer_ids))[:MAX_ACCOUNTS]
    if not ids:
        return {}
    recent, before = now - timedelta(days=days), now - timedelta(days=2 * days)
    by_sentiment = {"sentiment": {"terms": {"field": "sentiment.label", "size": 3}}}
    mentions = es.search(
        index=MENTIONS.alias(names),
        size=0,
        query={"terms": {"customer_id": ids}},
        aggs={
            "customers": {
                "terms": {"field": "customer_id", "size": len(ids)},
                "aggs": {
                    # top_hits, not max: the stand-in's max of a date field is null
                    "last": {
                        "top_hits": {"size": 1, "sort": [{"created_at": "desc"}], "_source": ["created_at"]}
                    },
                    "recent": {
                        "filter": {
                            "range": {"created_at": {"gte": recent.isoformat(), "lt": now.isoformat()}}
                        },
                        "aggs": by_sentiment,
                    },
                    "before": {
                        "filter": {
                            "range": {"created_at": {"gte": before.isoformat(), "lt": recent.isoformat()}}
                        },
                        "aggs": by_sentiment,
                    },
                },
            }
        },
    )["aggregations"]["customers"]["buckets"]
    alerts = es.search(
        index=ALERTS.alias(names),
        size=0,
        query={"bool": {"filter": [{"terms": {"customer_id": ids}}, {"term": {"status": "new"}}]}},
        aggs={"customers": {"terms": {"field": "customer_id", "size": len(ids)}}},
    )["aggregations"]["customers"]["buckets"]
    open_alerts = {b["key"]: b["doc_count"] for b in alerts}
    found: dict[str, AccountActivity] = {}
    for bucket in mentions:
        newest = bucket["last"]["hits"]["hits"]
        last = newest[0]["_source"]["created_at"] if newest else None
        found[bucket["key"]] = AccountActivity(
            customer_id=bucket["key"],
            last_mention_at=datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None,
            mentions=bucket["recent"]["doc_count"],
            net_sentiment=_net(bucket["recent"]),
            net_sentiment_before=_net(bucket["before"]),
            open_alerts=open_alerts.get(bucket["key"], 0),
        )
    for customer_id in ids:
        if customer_id not in found:
            found[customer_id] = AccountActivity(customer_id, open_alerts=open_alerts.get(customer_id, 0))
    return found
