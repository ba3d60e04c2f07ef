"""Spike detection on generated mentions with a known injected spike, explained; and the daily digest."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from alerts.delivery import Alerter
from alerts.settings import AlertsConfig, SpikeSettings
from alerts.spikes import find_spikes
from core.documents import Label, Mention
from index.alerts import alerts_for, deliveries_of
from index.client import IndexNames, free_port
from index.mentions import index_mentions
from tests.alerts.servers import smtp_server
from tests.factories import make_mention

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, 10:00
NEG, NEU = Label(label="negative", confidence=0.9), Label(label="neutral", confidence=0.8)
CHATTER = ["Lumio box installée, tout va bien", "Question sur mon forfait Lumio", "Lumio appli mise à jour",
           "Zéphyr Télécom change ses prix", "Arcadia Mobile ouvre une boutique"]  # fmt: skip


def generated(rng: random.Random) -> list[Mention]:
    """Four weeks of ordinary traffic, busier on Monday mornings, then a Lumio outage spike now."""
    mentions: list[Mention] = []
    for hour in range(1, 24 * 7 * 4 + 2):
        start = NOW - timedelta(hours=hour)
        if start.weekday() == 0 and start.hour == 9:  # the Monday-morning rush, every week
            texts = [CHATTER[i % 3] for i in range(rng.randint(4, 7))]
        else:
            texts = rng.sample(CHATTER, rng.randint(0, 1))
        for i, text in enumerate(texts):
            topic = (
                "Zéphyr Télécom" if "Zéphyr" in text else "Arcadia Mobile" if "Arcadia" in text else "Lumio"
            )
            mentions.append(
                make_mention(
                    f"h{hour}-{i}", text=text, topics=[topic], sentiment=NEG if rng.random() < 0.1 else NEU,
                    created_at=start + timedelta(minutes=5 + 9 * i),
                )
            )  # fmt: skip
    for i in range(30):  # the outage: many posts, a few loud authors, the same words
        author = ["fibre_fan", "julie_m", "tech_news"][i % 3] if i < 24 else f"user{i}"
        followers = 50_000 if author == "tech_news" else 100
        mentions.append(
            make_mention(
                f"spike-{i}", text=f"Panne Lumio fibre coupée encore, panne générale ? {i}", topics=["Lumio"],
                created_at=NOW - timedelta(minutes=rng.randint(1, 59)), sentiment=NEG,
                author={"handle": author, "followers": followers},
            )
        )  # fmt: skip
    return mentions


@pytest.fixture
def traffic(es: Elasticsearch, names: IndexNames) -> list[Mention]:
    mentions = generated(random.Random(7))
    assert index_mentions(es, names, mentions).created == len(mentions)
    return mentions


def test_an_injected_spike_is_found_and_explained(es: Elasticsearch, names: IndexNames, traffic):
    spikes = find_spikes(es, names, SpikeSettings(), NOW)
    assert {(s.topic, s.kind) for s in spikes} == {("Lumio", "volume"), ("Lumio", "negative_share")}
    volume = next(s for s in spikes if s.kind == "volume")
    assert volume.count >= 30 and len(volume.history) == 4
    assert all(4 <= n <= 7 for n in volume.history)  # Monday 9-10h is busy every week: the baseline knows
    assert {t for t, _, _ in volume.terms} >= {"panne", "fibre", "coupée"}
    assert [a[0] for a in volume.authors] == ["fibre_fan", "julie_m", "tech_news"]
    assert volume.posts[0].author.handle == "tech_news"  # widest reach first
    assert "usually" in volume.headline() and "same hour of the week, last 4 weeks" in volume.headline()


def test_the_busy_hour_of_the_week_is_no_spike_on_its_own(es: Elasticsearch, names: IndexNames, traffic):
    # A week earlier, the same Monday-morning rush, with no outage: nothing stands out from its baseline.
    assert find_spikes(es, names, SpikeSettings(), NOW - timedelta(weeks=1)) == []


def test_a_spike_raises_one_alert_per_cooldown(es: Elasticsearch, names: IndexNames, traffic):
    clock = [NOW]
    settings = AlertsConfig(default_recipients=["marketing@lumio.example"])
    alerter = Alerter(settings, es, names, clock=lambda: clock[0])
    first = alerter.check_spikes()
    assert sorted(a.summary.split(":")[0] for a in first) == ["Lumio", "Lumio"]
    assert all(a.recipients == ["marketing@lumio.example"] and a.kind == "spike" for a in first)
    assert any(line.startswith("terms: panne") or "panne" in line for line in first[0].details["explanation"])
    clock[0] = NOW + timedelta(minutes=15)
    assert alerter.check_spikes() == []  # same spike, 15 minutes later: within the rule's cooldown


DIGEST_IN = {
    "en": ("[Écoute] 2026-11-20: 3 alerts, 3 mentions", "unhappy: 3 alerts (3 not acknowledged)"),
    "fr": ("[Écoute] 2026-11-20 : 3 alertes, 3 mentions", "unhappy : 3 alertes, dont 3 à traiter"),
}


@pytest.mark.parametrize("language", DIGEST_IN)
def test_the_daily_digest_sums_up_each_persons_day(es: Elasticsearch, names: IndexNames, language: str):
    port = free_port()
    settings = AlertsConfig.model_validate(
        {
            "builtin_rules": False,
            "rules": [{"name": "unhappy", "sentiment": ["negative"], "recipients": ["cm@lumio.example"],
                       "group_seconds": 0}],
            "channels": {"email": {"host": "127.0.0.1", "port": port, "security": "none",
                                   "sender": "a@lumio.example"}},
            "people": [{"email": "quiet@lumio.example", "digest": False},
                       {"email": "cm@lumio.example", "language": language}],
        }
    )  # fmt: skip
    day = date(2026, 11, 20)
    clock = [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)]
    alerter = Alerter(settings, es, names, clock=lambda: clock[0])
    from nlp.linking import CustomerDirectory

    for i in range(3):
        clock[0] += timedelta(hours=1)
        mention = make_mention(f"d{i}", text=f"Lumio nul {i}", sentiment=NEG, thread={"root_id": f"r{i}"})
        alerter.handle([mention], CustomerDirectory())
    with smtp_server(port) as box:
        report = alerter.send_digests(day)
        again = alerter.send_digests(day)
    assert (report.sent, again.sent) == (1, 0)  # once per person and day
    (message,) = box.messages
    assert message["To"] == "cm@lumio.example"
    subject, rule_line = DIGEST_IN[language]
    assert message["Subject"] == subject
    body = message.get_content()
    assert rule_line in body
    assert body.count("/alerts?alert=") == 3
    assert len(alerts_for(es, names)) == 3
    assert [d.status for d in deliveries_of(es, names, ["digest:2026-11-20"])] == ["sent"]
