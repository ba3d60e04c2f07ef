"""Routing, no floods (dedup, cooldown, bursts) and delivery over real channels: a local SMTP server and
a local HTTP receiver that checks the HMAC signature, including a channel that is down and comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from alerts.delivery import Alerter
from alerts.settings import AlertRule, AlertsConfig
from core.config import Secrets
from core.documents import Label, Mention
from core.signing import ReplayGuard, SignatureError, sign, signed_headers, verify
from index.alerts import alerts_for, deliveries_of
from index.client import IndexNames, free_port
from index.mentions import delete_mentions, index_mentions
from nlp.linking import CustomerDirectory
from tests.alerts.servers import SECRET, smtp_server, webhook_receiver
from tests.factories import make_customer, make_mention

OWNER = "claire.dubois@lumio.example"
CM = "community@lumio.example"
NEGATIVE = Label(label="negative", confidence=0.9)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def config(send_by: list[str] | None = None, **extra) -> AlertsConfig:
    data = {
        "builtin_rules": False,
        "default_recipients": [CM],
        "rules": [
            {"name": "unhappy", "sentiment": ["negative"], "cooldown_minutes": 60, "group_seconds": 300}
        ],
        "default_channels": send_by or [],
        "dashboard_url": "https://ecoute.lumio.example",
    }
    data.update(extra)
    return AlertsConfig.model_validate(data)


def negative(native_id: str, **overrides) -> Mention:
    return make_mention(native_id, text=f"Lumio est en panne ({native_id})", sentiment=NEGATIVE, **overrides)


@pytest.fixture
def directory() -> CustomerDirectory:
    return CustomerDirectory([make_customer("C1", owner_email=OWNER), make_customer("C2", owner_email=None)])


def test_an_alert_about_a_customer_goes_to_the_account_owner(
    es: Elasticsearch, names: IndexNames, directory: CustomerDirectory
):
    team = ["team@lumio.example"]
    settings = config(
        rules=[
            {"name": "unhappy", "sentiment": ["negative"], "recipients": team},
            {"name": "any-negative", "sentiment": ["negative"]},
        ]
    )
    alerter = Alerter(settings, es, names, clock=Clock())
    raised = alerter.handle(
        [negative("a", customer_id="C1"), negative("b", customer_id="C2"), negative("c")], directory
    )
    assert raised == 6  # each mention, once per rule
    routed = {(a.rule, a.customer_id): a.recipients for a in alerts_for(es, names)}
    assert routed == {
        ("unhappy", "C1"): [OWNER],
        ("unhappy", "C2"): ["team@lumio.example"],  # a customer without an owner: the rule's recipients
        ("unhappy", None): ["team@lumio.example"],
        ("any-negative", "C1"): [OWNER],
        ("any-negative", "C2"): [CM],  # no recipients on the rule: the default recipients
        ("any-negative", None): [CM],
    }


def test_one_thread_of_one_customer_alerts_once(es: Elasticsearch, names: IndexNames, directory):
    clock = Clock()
    alerter = Alerter(config(rules=[{"name": "unhappy", "sentiment": ["negative"], "cooldown_minutes": 0}]),
                      es, names, clock=clock)  # fmt: skip
    first = negative("t1", customer_id="C1", thread={"root_id": "root-1"})
    assert alerter.handle([first], directory) == 1
    clock.advance(days=2)
    reply = negative("t2", customer_id="C1", thread={"root_id": "root-1", "parent_id": "t1"})
    other_thread = negative("t3", customer_id="C1")
    assert alerter.handle([reply, first], directory) == 0  # the same thread, and a mention seen again
    assert alerter.handle([other_thread], directory) == 1
    (thread_alert,) = [a for a in alerts_for(es, names) if a.mention_id == first.id]
    assert thread_alert.mention_ids == [first.id, reply.id] and thread_alert.count == 2


def test_a_customer_in_cooldown_joins_the_open_alert(es: Elasticsearch, names: IndexNames, directory):
    clock = Clock()
    alerter = Alerter(config(), es, names, clock=clock)
    assert alerter.handle([negative("c1", customer_id="C1")], directory) == 1
    clock.advance(minutes=30)
    assert alerter.handle([negative("c2", customer_id="C1")], directory) == 0
    clock.advance(minutes=31)  # 61 minutes after the alert: the cooldown is over
    assert alerter.handle([negative("c3", customer_id="C1")], directory) == 1
    counts = sorted((a.count, a.mention_id) for a in alerts_for(es, names))
    assert counts == [(1, negative("c3").id), (2, negative("c1").id)]


def test_a_burst_about_nobody_in_particular_is_one_alert(es: Elasticsearch, names: IndexNames, directory):
    clock = Clock()
    alerter = Alerter(config(), es, names, clock=clock)
    burst = [negative(f"b{i}", author={"handle": f"user{i}"}) for i in range(20)]
    assert alerter.handle(burst[:15], directory) == 1
    clock.advance(seconds=120)
    assert alerter.handle(burst[15:], directory) == 0
    clock.advance(seconds=301)
    assert alerter.handle([negative("later")], directory) == 1
    alerts = sorted(alerts_for(es, names), key=lambda a: a.created_at)
    assert [a.count for a in alerts] == [20, 1]
    assert alerts[0].recipients == [CM]


def test_an_alert_is_emailed_through_a_real_smtp_server(es: Elasticsearch, names: IndexNames, directory):
    port = free_port()
    settings = config(
        ["email"],
        channels={
            "email": {"host": "127.0.0.1", "port": port, "security": "none", "sender": "alerts@lumio.example"}
        },
    )
    with smtp_server(port) as box:
        alerter = Alerter(settings, es, names, secrets=Secrets(smtp_password=None), clock=Clock())
        alerter.handle([negative("m1", customer_id="C1", url="https://mastodon.example/@julie/1")], directory)
    (message,) = box.messages
    assert box.envelopes == [("alerts@lumio.example", [OWNER])]
    assert (
        message["Subject"]
        == "[Écoute] unhappy: @someone@mastodon.example on mastodon: Lumio est en panne (m1)"
    )
    body = message.get_content()
    (alert,) = alerts_for(es, names)
    assert f"https://ecoute.lumio.example/alerts?alert={alert.id}" in body
    assert "https://ecoute.lumio.example/customers?customer=C1" in body
    assert "https://ecoute.lumio.example/alerts?rule=unhappy" in body
    assert "https://mastodon.example/@julie/1" in body
    (delivery,) = deliveries_of(es, names, [alert.id])
    assert (delivery.status, delivery.attempts, delivery.recipient) == ("sent", 1, OWNER)


def test_each_person_reads_an_alert_email_in_their_own_language(
    es: Elasticsearch, names: IndexNames, directory
):
    """The account owner asked for French, the community manager keeps alerts.language (English): each
    e-mail is wholly in its reader's language, a built-in rule's description included."""
    port = free_port()
    settings = config(
        ["email"],
        builtin_rules=True,
        rules=[],
        channels={
            "email": {"host": "127.0.0.1", "port": port, "security": "none", "sender": "alerts@lumio.example"}
        },
        people=[{"email": OWNER, "language": "fr"}],
    )
    owned = negative("fr0", customer_id="C1", url="https://mastodon.example/@julie/0")
    unowned = negative("en0", customer_id="C2", url="https://mastodon.example/@marc/0")
    with smtp_server(port) as box:
        alerter = Alerter(settings, es, names, secrets=Secrets(smtp_password=None), clock=Clock())
        alerter.handle([owned, unowned], directory)
    by_reader = {message["To"]: message for message in box.messages}
    assert set(by_reader) == {OWNER, CM}
    french, english = by_reader[OWNER], by_reader[CM]
    assert french["Subject"] == (
        "[Écoute] Un client connu parle mal de nous ou risque de partir : @someone@mastodon.example sur "
        "mastodon : Lumio est en panne (fr0)"
    )
    assert english["Subject"] == (
        "[Écoute] A known customer speaks negatively about us or may leave: @someone@mastodon.example on "
        "mastodon: Lumio est en panne (en0)"
    )
    french_body, english_body = french.get_content(), english.get_content()
    (alert,) = [a for a in alerts_for(es, names) if a.customer_id == "C1"]
    assert f"Mention : https://ecoute.lumio.example/alerts?alert={alert.id}" in french_body
    assert "Client : https://ecoute.lumio.example/customers?customer=C1" in french_body
    assert "Post d'origine : https://mastodon.example/@julie/0" in french_body
    assert "Règle negative-by-customer : " in french_body
    for english_word in ("Customer:", "Original post", "Rule ", " on mastodon"):
        assert english_word not in french_body
    assert "Customer: https://ecoute.lumio.example/customers?customer=C2" in english_body


def test_an_alert_whose_mention_was_erased_is_emailed_with_its_stored_summary(
    es: Elasticsearch, names: IndexNames, directory
):
    """Nothing is made up when the mention is gone: the stored summary stands, the labels are translated."""
    port = free_port()
    settings = config(
        ["email"],
        channels={
            "email": {"host": "127.0.0.1", "port": port, "security": "none", "sender": "alerts@lumio.example"}
        },
        people=[{"email": OWNER, "language": "fr"}],
        delivery={"max_attempts": 3, "first_retry_seconds": 1},
    )
    clock = Clock()
    alerter = Alerter(settings, es, names, secrets=Secrets(smtp_password=None), clock=clock)
    gone = negative("gone", customer_id="C1")
    index_mentions(es, names, [gone])
    alerter.handle([gone], directory)  # no SMTP server yet: retried later
    (alert,) = alerts_for(es, names)
    delete_mentions(es, names, [alert.mention_id])
    clock.advance(seconds=5)
    with smtp_server(port) as box:
        alerter.retry_due()
    (message,) = box.messages
    assert message["Subject"] == f"[Écoute] {alert.summary}"
    assert "Client : https://ecoute.lumio.example/customers?customer=C1" in message.get_content()


def test_webhooks_are_signed_and_slack_gets_its_own_format(
    es: Elasticsearch, names: IndexNames, directory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ECOUTE_WEBHOOK_SECRET", SECRET)
    with webhook_receiver() as generic, webhook_receiver() as slack:
        settings = config(
            ["webhook:crm", "webhook:chat"],
            channels={
                "webhooks": [
                    {"name": "crm", "url": generic.url, "local": True},
                    {"name": "chat", "url": slack.url, "format": "slack", "local": True},
                ]
            },
        )
        Alerter(settings, es, names, clock=Clock()).handle([negative("w1", customer_id="C1")], directory)
        (posted,) = generic.received
        (chat,) = slack.received
    assert posted.signature_ok is True and generic.refused == []
    payload = posted.json()
    assert payload["type"] == "ecoute.alert"
    assert payload["alert"]["recipients"] == [OWNER] and payload["alert"]["customer_id"] == "C1"
    assert payload["links"]["customer"] == "https://ecoute.lumio.example/customers?customer=C1"
    assert set(chat.json()) == {"text", "blocks"} and "Lumio est en panne (w1)" in chat.json()["text"]


def test_a_channel_that_is_down_is_retried_and_sent_exactly_once(
    es: Elasticsearch, names: IndexNames, directory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ECOUTE_WEBHOOK_SECRET", SECRET)
    port = free_port()  # nothing listens yet: connection refused
    settings = config(
        ["webhook:crm"],
        channels={"webhooks": [{"name": "crm", "url": f"http://127.0.0.1:{port}/hook", "local": True}]},
        delivery={"first_retry_seconds": 30, "max_attempts": 5},
    )
    clock = Clock()
    alerter = Alerter(settings, es, names, clock=clock)
    alerter.handle([negative("d1", customer_id="C1")], directory)
    (alert,) = alerts_for(es, names)
    (delivery,) = deliveries_of(es, names, [alert.id])
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "connect" in (delivery.last_error or "").lower()
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=30)

    with webhook_receiver(status=500) as receiver:
        receiver_url = receiver.url
        settings.channels.webhooks[0].url = receiver_url
        clock.advance(seconds=10)
        assert alerter.retry_due().sent == 0 and receiver.received == []  # not due yet
        clock.advance(seconds=25)
        report = alerter.retry_due()  # due, but the receiver answers 500
        (delivery,) = deliveries_of(es, names, [alert.id])
        assert report.sent == 0 and (delivery.status, delivery.attempts) == ("failed", 2)
        assert "HTTP 500" in (delivery.last_error or "")
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=60)  # backoff doubles

        receiver.status = 200  # the channel comes back
        clock.advance(seconds=61)
        assert alerter.retry_due().sent == 1
        clock.advance(hours=2)
        assert alerter.retry_due().sent == 0  # sent once, never again
        assert len(receiver.received) == 1 and receiver.received[0].signature_ok is True
        assert receiver.received[0].headers["X-Ecoute-Delivery"] == delivery.id
    (delivery,) = deliveries_of(es, names, [alert.id])
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, None)


def test_a_delivery_gives_up_after_its_attempts_with_the_reason(
    es: Elasticsearch, names: IndexNames, directory, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("ECOUTE_WEBHOOK_SECRET", raising=False)
    settings = config(
        ["webhook:crm"],
        channels={"webhooks": [{"name": "crm", "url": "http://127.0.0.1:9/hook", "local": True}]},
        delivery={"max_attempts": 2, "first_retry_seconds": 1},
    )
    clock = Clock()
    alerter = Alerter(settings, es, names, clock=clock)
    alerter.handle([negative("g1")], directory)
    clock.advance(seconds=5)
    alerter.retry_due()
    (delivery,) = deliveries_of(es, names, [a.id for a in alerts_for(es, names)])
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert delivery.last_error == (
        "gave up after 2 attempts: webhook crm: no signing secret in $ECOUTE_WEBHOOK_SECRET"
    )


def test_a_signature_is_refused_when_tampered_old_or_replayed():
    body = b'{"x": 1}'
    headers = signed_headers("s3cret", body, now=1_000_000)
    timestamp, signature = headers["X-Ecoute-Timestamp"], headers["X-Ecoute-Signature"]
    assert verify("s3cret", timestamp, body, signature, now=1_000_010) == 1_000_000
    with pytest.raises(SignatureError, match="does not match"):
        verify("s3cret", timestamp, b'{"x": 2}', signature, now=1_000_010)
    with pytest.raises(SignatureError, match="does not match"):
        verify("other", timestamp, body, signature, now=1_000_010)
    with pytest.raises(SignatureError, match="at most 300s"):
        verify("s3cret", timestamp, body, signature, now=1_000_400)
    with pytest.raises(SignatureError, match="missing"):
        verify("s3cret", None, body, signature)
    guard = ReplayGuard()
    guard.check("s3cret", timestamp, body, signature, now=1_000_001)
    with pytest.raises(SignatureError, match="replay"):
        guard.check("s3cret", timestamp, body, signature, now=1_000_002)
    assert sign("s3cret", 1, b"") != sign("s3cret", 2, b"")


def test_rules_saved_in_the_dashboard_win_by_name():
    settings = config(
        rules=[{"name": "unhappy", "sentiment": ["negative"]}, {"name": "other", "intent": ["praise"]}]
    )
    stored = [AlertRule(name="unhappy", sentiment=["negative"], min_confidence=0.9)]
    rules = {r.name: r for r in settings.effective_rules(stored)}
    assert rules["unhappy"].min_confidence == 0.9 and set(rules) == {"unhappy", "other"}
    with_builtins = {r.name for r in config(builtin_rules=True).effective_rules()}
    assert with_builtins == {
        "unhappy",
        "negative-by-customer",
        "purchase-intent",
        "complaint-high-reach",
        "topic-spike",
    }


def test_rules_in_effect_say_where_each_comes_from_and_list_disabled_ones():
    settings = config(
        builtin_rules=True,
        rules=[{"name": "unhappy", "sentiment": ["negative"]}, {"name": "purchase-intent", "enabled": False}],
    )
    stored = [AlertRule(name="unhappy", sentiment=["negative"], min_confidence=0.9)]
    origins = {r.rule.name: (r.origin, r.rule.enabled) for r in settings.rules_in_effect(stored)}
    assert origins == {
        "negative-by-customer": ("builtin", True),
        "purchase-intent": ("config", False),
        "complaint-high-reach": ("builtin", True),
        "topic-spike": ("builtin", True),
        "unhappy": ("dashboard", True),
    }


def test_cli_lists_every_rule_with_its_origin_even_when_off(
    es: Elasticsearch, names: IndexNames, tmp_path: Path, es_server
):
    """A rule switched off in config.yaml is listed as off, not left out; a dashboard rule says so."""
    from core.documents import StoredRule
    from index.alerts import save_rule
    from tests.conftest import write_config
    from tests.test_cli import run

    rules = [{"name": "purchase-intent", "intent": ["purchase"], "enabled": False}]
    data = yaml.safe_load(write_config(tmp_path, es_server.url, names.prefix).read_text(encoding="utf-8"))
    data["alerts"]["rules"] = rules
    settings_file = tmp_path / "config.yaml"
    settings_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rule = AlertRule(name="panne", query="panne")
    saved = StoredRule(
        id="panne", name="panne", rule=rule.model_dump(mode="json"), updated_by="a@x.example",
        updated_at=datetime.now(UTC),
    )  # fmt: skip
    save_rule(es, names, saved)
    shown = run("alerts", "rules", "--config", str(settings_file), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(line.startswith("purchase-intent (mention, config.yaml, off)") for line in lines)
    assert any(line.startswith("panne (mention, dashboard)") for line in lines)
    assert any(line.startswith("negative-by-customer (mention, built-in)") for line in lines)
