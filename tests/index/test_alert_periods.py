"""Alerts in one index per period of their own `created_at`, against the real stand-in: written, listed,
got by id, acknowledged, erased and dropped by retention wherever each is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from core.documents import Alert, document_id
from index.alerts import (
    ALERTS,
    acknowledge_alert,
    add_to_alert,
    alerts_for,
    create_alerts,
    get_alert,
    list_alerts,
)
from index.client import IndexNames
from index.health import index_health
from index.mentions import index_mentions
from index.periods import indices_for, locate, period_index, period_indices
from index.privacy import (
    drop_expired_alert_indices,
    drop_expired_indices,
    erase_person,
    find_person,
)
from tests.factories import make_mention

CM = "community@lumio.example"
JAN = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
MAR = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
NOW = datetime.now(UTC)


def make_alert(native_id: str, created_at: datetime, **overrides: Any) -> Alert:
    data: dict[str, Any] = {
        "id": document_id("alert", native_id),
        "rule": "negative-by-customer",
        "mention_id": document_id("test", native_id),
        "mention_ids": [document_id("test", native_id)],
        "customer_id": "C1",
        "recipients": [CM],
        "created_at": created_at,
        "summary": f"Alert about {native_id}",
        "sentiment": "negative",
        "intent": "complaint",
    }
    data.update(overrides)
    return Alert.model_validate(data)


def alert_ids(es: Elasticsearch, names: IndexNames) -> set[str]:
    es.indices.refresh(index=ALERTS.alias(names))
    hits = es.search(index=ALERTS.alias(names), query={"match_all": {}}, size=100)["hits"]["hits"]
    return {h["_id"] for h in hits}


def test_alerts_of_two_months_land_in_two_indices_and_are_listed_got_and_acknowledged(
    es: Elasticsearch, names: IndexNames
):
    jan, mar = make_alert("jan", JAN), make_alert("mar", MAR)
    assert create_alerts(es, names, [jan, mar]) == {jan.id, mar.id}
    assert es.get(index=period_index(ALERTS, names, JAN), id=jan.id)["found"]
    assert es.get(index=period_index(ALERTS, names, MAR), id=mar.id)["found"]
    assert {period_index(ALERTS, names, d) for d in (JAN, MAR, NOW)} == set(period_indices(es, names, ALERTS))
    assert index_health(es, names).documents[ALERTS.alias(names)] == 2  # the Admin page counts both

    assert [a.id for a in list_alerts(es, names, recipient=CM)] == [mar.id, jan.id]  # newest first
    assert [a.id for a in alerts_for(es, names, recipients=[CM])] == [mar.id, jan.id]
    february_on = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    assert indices_for(es, names, *february_on, ALERTS) == period_index(ALERTS, names, MAR)  # only March's
    assert [a.id for a in alerts_for(es, names, since=february_on[0], until=february_on[1])] == [mar.id]
    assert [a.id for a in list_alerts(es, names, since=JAN - timedelta(days=1), until=JAN)] == []

    # A link names only the id: it is found in its month, as are the writes by id.
    assert get_alert(es, names, jan.id) == jan
    assert acknowledge_alert(es, names, jan.id, CM, NOW)
    acknowledged = get_alert(es, names, jan.id)
    assert acknowledged and acknowledged.status == "acknowledged" and acknowledged.acknowledged_by == CM
    grouped = add_to_alert(es, names, jan.id, ["m-later"], ["k-later"], NOW)
    assert grouped and grouped.count == 2 and grouped.status == "acknowledged"  # nothing lost
    stored = es.get(index=period_index(ALERTS, names, JAN), id=jan.id)["_source"]
    assert stored["mention_ids"] == [jan.mention_id, "m-later"] and stored["acknowledged_by"] == CM
    assert alert_ids(es, names) == {jan.id, mar.id}  # updated where it is, not copied
    assert not acknowledge_alert(es, names, "no-such-alert", CM, NOW)
    assert get_alert(es, names, "no-such-alert") is None


def test_the_same_alert_created_twice_stays_one_even_when_raised_again_another_month(
    es: Elasticsearch, names: IndexNames
):
    first = make_alert("twice", JAN)
    assert create_alerts(es, names, [first]) == {first.id}
    again = first.model_copy(update={"created_at": MAR, "summary": "raised again"})
    assert create_alerts(es, names, [again, again]) == set()
    assert alert_ids(es, names) == {first.id}
    assert locate(es, names, [first.id], ALERTS)[first.id]["_index"] == period_index(ALERTS, names, JAN)
    assert (get_alert(es, names, first.id) or again).summary == first.summary


def test_erasing_a_person_removes_their_alerts_from_every_month(es: Elasticsearch, names: IndexNames):
    julie = {"handle": "julie@mastodon.example", "display_name": "Julie"}
    theirs = [
        make_mention("j-jan", author=julie, created_at=JAN),
        make_mention("j-mar", author=julie, created_at=MAR),
    ]
    index_mentions(es, names, [*theirs, make_mention("other", created_at=JAN)])
    create_alerts(
        es, names, [make_alert("j-jan", JAN, customer_id=None), make_alert("j-mar", MAR, customer_id=None)]
    )
    create_alerts(es, names, [make_alert("other", JAN, customer_id=None)])
    records = find_person(es, names, ["julie@mastodon.example"], [])
    assert {a["id"] for a in records.alerts} == {document_id("alert", "j-jan"), document_id("alert", "j-mar")}
    assert erase_person(es, names, records)["alerts"] == 2
    assert alert_ids(es, names) == {document_id("alert", "other")}


def test_retention_drops_a_whole_expired_alerts_index_and_deletes_by_id_at_its_edge(
    es: Elasticsearch, names: IndexNames
):
    def days(n: float) -> datetime:
        return NOW - timedelta(days=n)

    expired = [make_mention(f"e{i}", created_at=days(200)) for i in range(3)]
    kept = make_mention("kept", source="forever", created_at=days(150))
    index_mentions(es, names, [*expired, kept])
    whole = [make_alert("e0", days(198)), make_alert("e1", days(198))]  # one month of expired alerts only
    edge = [make_alert("e2", days(120)), make_alert("kept", days(120), mention_id=kept.id)]
    create_alerts(es, names, [*whole, *edge])
    old_month, edge_month = period_index(ALERTS, names, days(198)), period_index(ALERTS, names, days(120))
    assert old_month != edge_month

    dropped = {d.index: d for d in drop_expired_indices(es, names, {"test": days(75)})}
    assert old_month in dropped and dropped[old_month].alerts == 2 and not dropped[old_month].sources
    assert not es.indices.exists(index=old_month)
    (mentions_month,) = [d for d in dropped.values() if d.sources]
    assert (
        mentions_month.sources == {"test": 3} and mentions_month.alerts == 3
    )  # all three about its mentions
    assert edge_month in period_indices(es, names, ALERTS)  # it holds an alert about a kept mention
    assert alert_ids(es, names) == {edge[1].id}


def test_an_alerts_month_about_no_stored_mention_is_dropped_and_the_others_kept(
    es: Elasticsearch, names: IndexNames
):
    stored = make_mention("stored", created_at=NOW - timedelta(days=100))
    index_mentions(es, names, [stored])
    spike = make_alert("spike", NOW - timedelta(days=200), kind="spike", mention_id="", mention_ids=["gone"])
    about_stored = make_alert("stored", NOW - timedelta(days=100))
    current = make_alert("now", NOW)
    create_alerts(es, names, [spike, about_stored, current])
    dropped = drop_expired_alert_indices(es, names, NOW - timedelta(days=30))
    assert [(d.index, d.alerts) for d in dropped] == [(period_index(ALERTS, names, spike.created_at), 1)]
    assert alert_ids(es, names) == {about_stored.id, current.id}
    assert period_index(ALERTS, names, NOW) in period_indices(es, names, ALERTS)  # this month's stays
