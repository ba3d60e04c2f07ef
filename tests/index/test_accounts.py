"""Account activity for the sales view, read from the stand-in."""

from __future__ import annotations

from datetime import timedelta

from elasticsearch import Elasticsearch

from core.documents import Alert, Label
from index.accounts import account_activity
from index.alerts import ALERTS, create_alerts
from index.client import IndexNames
from index.mentions import index_mentions, refresh_mentions
from tests.factories import NOW, make_mention

ALERT = {"recipients": [], "created_at": NOW, "summary": "s"}


def _mention(native_id: str, customer: str, days: float, sentiment: str):
    return make_mention(
        native_id,
        customer_id=customer,
        created_at=NOW - timedelta(days=days),
        sentiment=Label(label=sentiment, confidence=0.9),
    )


def test_last_mention_recent_volume_sentiment_trend_and_open_alerts(
    es: Elasticsearch, names: IndexNames
) -> None:
    index_mentions(
        es,
        names,
        [
            # C1: two negatives this month, two positives the month before: net -1 after +1, -200 points
            _mention("a", "C1", 2, "negative"),
            _mention("b", "C1", 5, "negative"),
            _mention("c", "C1", 40, "positive"),
            _mention("d", "C1", 45, "positive"),
            # C2: one neutral long ago only
            _mention("e", "C2", 200, "neutral"),
            # someone else's customer is not asked about
            _mention("f", "C9", 1, "negative"),
        ],
    )
    refresh_mentions(es, names)
    create_alerts(
        es,
        names,
        [
            Alert(id="x1", rule="r", mention_id="a", customer_id="C1", **ALERT),
            Alert(id="x2", rule="r", mention_id="b", customer_id="C1", status="acknowledged", **ALERT),
        ],
    )
    es.indices.refresh(index=ALERTS.alias(names))

    found = account_activity(es, names, ["C1", "C2", "C3"], now=NOW)

    assert set(found) == {"C1", "C2", "C3"}
    c1 = found["C1"]
    assert c1.last_mention_at == NOW - timedelta(days=2)
    assert c1.mentions == 2 and c1.net_sentiment == -1.0 and c1.net_sentiment_before == 1.0
    assert c1.trend_points == -200.0
    assert c1.open_alerts == 1  # the acknowledged one is not open
    c2 = found["C2"]
    assert c2.last_mention_at == NOW - timedelta(days=200)
    assert c2.mentions == 0 and c2.net_sentiment is None and c2.trend_points is None
    assert found["C3"].last_mention_at is None and found["C3"].open_alerts == 0
