"""From matches to delivered alerts: write the alerts, record one delivery per recipient and channel,
send them at once, and retry the failed ones with exponential backoff from a scheduled job.

A delivery is recorded as `pending` before anything is sent, claimed with a conditional write while it
is being sent and saved as `sent` or `failed` (with the reason and the number of attempts) after, so a
channel that is down loses nothing and a delivery that succeeded is never sent again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
from elasticsearch import ApiError, Elasticsearch, TransportError
from tenacity import RetryCallState, wait_exponential

from alerts.channels import (
    ChannelError,
    Links,
    links_for,
    send_email,
    send_webhook,
    webhook_client,
)
from alerts.digest import build_digests, digest_period
from alerts.rules import CompiledRule, compile_rule, find_matches, plan_alerts
from alerts.settings import AlertRule, AlertsConfig, WebhookChannel, rules_from_index
from alerts.spikes import find_spikes, spike_alerts
from alerts.wording import alert_message, alert_summary, email_subject, words
from core.catalog import Catalog
from core.config import Secrets
from core.documents import Alert, Delivery, Mention, document_id
from core.errors import IndexUnavailableError
from index.alerts import (
    add_to_alert,
    alerts_for,
    alerts_touching,
    claim_delivery,
    create_alerts,
    create_deliveries,
    due_deliveries,
    get_alert,
    percolate,
    register_rule_queries,
    save_delivery,
    stored_rules,
)
from index.client import IndexNames
from index.mentions import get_mentions_versioned
from nlp.linking import CustomerDirectory

log = logging.getLogger("ecoute.alerts")

RULES_REFRESH_SECONDS = 30.0
STALE_CLAIM = timedelta(minutes=5)
ALERT_GONE = "its alert no longer exists"


def next_attempt(config: AlertsConfig, attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures (exponential backoff), None once they are used up."""
    settings = config.delivery
    if attempts >= settings.max_attempts:
        return None
    wait = wait_exponential(multiplier=settings.first_retry_seconds, max=settings.max_retry_seconds)
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempts
    return now + timedelta(seconds=wait(state))


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: list[str] = field(default_factory=list)


class Alerter:
    """Matches new mentions against every rule and delivers the alerts; one per Engine."""

    def __init__(
        self,
        config: AlertsConfig,
        es: Elasticsearch,
        names: IndexNames,
        secrets: Secrets | None = None,
        percolator: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config, self.es, self.names = config, es, names
        self.secrets = secrets or Secrets()
        self.percolator = percolator
        self.clock = clock
        self._rules: list[CompiledRule] = []
        self._rules_loaded = -1e9
        self._registered: dict[str, dict] | None = None
        self._webhook_clients: dict[str, tuple[WebhookChannel, httpx.Client]] = {}

    # ---- rules ----

    def rules(self, refresh: bool = False) -> list[CompiledRule]:
        """config.yaml's rules overlaid by the dashboard's, reloaded at most every 30 s."""
        if refresh or time.monotonic() - self._rules_loaded > RULES_REFRESH_SECONDS:
            stored = rules_from_index(stored_rules(self.es, self.names))
            self._rules = [compile_rule(r) for r in self.config.effective_rules(stored) if r.enabled]
            self._rules_loaded = time.monotonic()
        return self._rules

    def mention_rules(self) -> list[CompiledRule]:
        return [r for r in self.rules() if r.rule.kind == "mention"]

    # ---- matching ----

    def handle(self, mentions: list[Mention], directory: CustomerDirectory) -> int:
        """Match stored mentions, write and deliver the alerts; returns how many new alerts were raised."""
        rules = self.mention_rules()
        if not mentions or not rules:
            return 0
        percolated = self._percolate(mentions, rules, directory) if self.percolator else None
        matches = find_matches(mentions, rules, directory, self.config.default_recipients, percolated)
        if not matches:
            return 0
        now = self.clock()
        windows = {}
        for match in matches:
            window = (
                timedelta(minutes=match.rule.cooldown_minutes)
                if match.mention.customer_id
                else timedelta(seconds=match.rule.group_seconds)
            )
            since = now - window
            windows[match.group_key] = min(windows.get(match.group_key, since), since)
        existing = alerts_touching(
            self.es,
            self.names,
            [m.mention.id for m in matches],
            [m.dedup_key for m in matches],
            windows,
        )
        plan = plan_alerts(matches, existing, now)
        for alert_id, (mention_ids, keys) in plan.joins.items():
            add_to_alert(self.es, self.names, alert_id, mention_ids, keys, now)
        return len(self.raise_alerts(plan.new, {m.id: m for m in mentions}))

    def _percolate(
        self, mentions: list[Mention], rules: list[CompiledRule], directory: CustomerDirectory
    ) -> dict[str, set[str]]:
        queries = {r.rule.name: r.to_dsl(directory) for r in rules}
        if queries != self._registered:
            register_rule_queries(self.es, self.names, queries)
            self._registered = queries
        return percolate(self.es, self.names, mentions)

    def raise_alerts(self, alerts: list[Alert], mentions: dict[str, Mention] | None = None) -> list[Alert]:
        """Write new alerts and deliver each one now; returns the alerts that were new.

        `mentions`: the alerts' mentions at hand, by id (just stored, perhaps not searchable yet)."""
        created = create_alerts(self.es, self.names, alerts)
        fresh = [a for a in alerts if a.id in created]
        deliveries = [d for a in fresh for d in self.plan_deliveries(a)]
        if deliveries:
            new = create_deliveries(self.es, self.names, deliveries)
            by_alert = {a.id: a for a in fresh}
            self.send([d for d in deliveries if d.id in new], by_alert, mentions)
        return fresh

    # ---- delivery ----

    def plan_deliveries(self, alert: Alert) -> list[Delivery]:
        """One delivery per recipient by email, one per webhook; the in-app inbox is the alert itself."""
        rule = next((r.rule for r in self.rules() if r.rule.name == alert.rule), None)
        channels = (
            rule.channels if rule and rule.channels is not None else None
        ) or self.config.default_channels
        now = self.clock()
        deliveries = []
        for channel in channels:
            if channel == "email":
                targets = [r for r in alert.recipients if _wants(self.config, r, "email")]
            else:
                targets = [",".join(alert.recipients)]
            for target in targets:
                deliveries.append(
                    Delivery(
                        id=document_id(alert.id, channel, target if channel == "email" else ""),
                        alert_id=alert.id,
                        recipient=target,
                        channel=channel,
                        next_attempt_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
        return deliveries

    def send(
        self,
        deliveries: list[Delivery],
        alerts: dict[str, Alert] | None = None,
        mentions: dict[str, Mention] | None = None,
    ) -> DeliveryReport:
        """Attempt each delivery once; a channel that failed in this round is not tried again in it.

        `alerts` and `mentions` at hand (by id) are not read from the index again."""
        report = DeliveryReport()
        down: dict[str, str] = {}
        alerts = dict(alerts or {})
        for delivery in deliveries:
            now = self.clock()
            claimed = claim_delivery(self.es, self.names, delivery.id, now)
            if claimed is None:
                continue
            current: Delivery = claimed.doc
            reason = self._try(current, alerts, down, mentions or {})
            attempts = current.attempts + (0 if reason and reason.startswith("not tried") else 1)
            if reason is None:
                outcome = current.model_copy(
                    update={"status": "sent", "attempts": attempts, "sent_at": now, "updated_at": now,
                            "next_attempt_at": None, "last_error": None}
                )  # fmt: skip
                report.sent += 1
            else:
                if not reason.startswith("not tried"):
                    down[current.channel] = reason
                lost = reason == ALERT_GONE
                retry = None if lost else next_attempt(self.config, attempts, now)
                if retry is None:
                    reason = f"gave up after {attempts} attempts: {reason}"
                outcome = current.model_copy(
                    update={"status": "failed", "attempts": attempts, "last_error": reason,
                            "next_attempt_at": retry, "updated_at": now}
                )  # fmt: skip
                report.failed.append(f"{current.channel} {current.recipient}: {reason}")
                log.warning(
                    "alert %s: %s %s: %s", current.alert_id, current.channel, current.recipient, reason
                )
            save_delivery(self.es, self.names, claimed, outcome)
        return report

    def _try(
        self, delivery: Delivery, alerts: dict[str, Alert], down: dict[str, str], mentions: dict[str, Mention]
    ) -> str | None:
        """One attempt; None when it was sent, else why not."""
        if delivery.channel == "digest":
            return self._send_digest(delivery, mentions)
        alert = alerts.get(delivery.alert_id) or get_alert(self.es, self.names, delivery.alert_id)
        if alert is None:
            return ALERT_GONE
        if delivery.channel in down:
            return f"not tried: {down[delivery.channel]}"
        alerts[alert.id] = alert
        return self._attempt(delivery, alert, mentions)

    def _attempt(self, delivery: Delivery, alert: Alert, mentions: dict[str, Mention]) -> str | None:
        links = links_for(alert, self.config.dashboard_url)
        try:
            self._send_one(delivery, alert, links, mentions)
        except ChannelError as exc:
            return str(exc)
        return None

    def _send_one(self, delivery: Delivery, alert: Alert, links: Links, mentions: dict[str, Mention]) -> None:
        channels = self.config.channels
        if delivery.channel == "email":
            if channels.email is None:
                raise ChannelError("email: alerts.channels.email is not configured")
            reader = words(self.config.language_of(delivery.recipient))
            said = self._said([alert], reader, mentions)[alert.id]
            send_email(
                channels.email, self._smtp_password(), delivery.recipient, email_subject(said, reader),
                alert_message(alert, said, links, reader), alert.id,
            )  # fmt: skip
            return
        name = delivery.channel.split(":", 1)[1]
        hook = next((w for w in channels.webhooks if w.name == name), None)
        if hook is None:
            raise ChannelError(f"webhook {name}: not in alerts.channels.webhooks")
        reader = words(self.config.language)
        text = alert_message(alert, self._said([alert], reader, mentions)[alert.id], links, reader)
        send_webhook(hook, alert, links, self._webhook_client(hook), delivery.id, text)

    def _said(
        self, alerts: list[Alert], reader: Catalog, at_hand: dict[str, Mention] | None = None
    ) -> dict[str, str]:
        """Each alert's summary in the reader's language (alerts/wording.py), by alert id. Its mention is
        the one at hand or read again; the stored summary stands when neither can say it (the mention
        erased, the rule edited, the index away)."""
        mentions = dict(at_hand or {})
        missing = [a.mention_id for a in alerts if a.kind == "mention" and a.mention_id not in mentions]
        rules: dict[str, AlertRule] = {}
        try:
            found = get_mentions_versioned(self.es, self.names, missing) if missing else {}
            mentions |= {i: versioned.mention for i, versioned in found.items()}
            rules = {r.rule.name: r.rule for r in self.rules()}
        except (IndexUnavailableError, ApiError, TransportError) as exc:
            log.warning("alert summaries as stored, the index is away: %s", exc)
        return {a.id: alert_summary(a, mentions.get(a.mention_id), rules.get(a.rule), reader) for a in alerts}

    def _webhook_client(self, hook: WebhookChannel) -> httpx.Client:
        """One guarded client per webhook, kept while its settings stay the same (connections reused)."""
        known = self._webhook_clients.get(hook.name)
        if known is None or known[0] != hook:
            if known is not None:
                known[1].close()
            known = (hook.model_copy(), webhook_client(hook))
            self._webhook_clients[hook.name] = known
        return known[1]

    def _smtp_password(self) -> str | None:
        return self.secrets.smtp_password.get_secret_value() if self.secrets.smtp_password else None

    def _send_digest(self, delivery: Delivery, mentions: dict[str, Mention]) -> str | None:
        email = self.config.channels.email
        if email is None:
            return "email: alerts.channels.email is not configured"
        day = date.fromisoformat(delivery.alert_id.removeprefix("digest:"))
        since, until = digest_period(day)
        alerts = alerts_for(
            self.es, self.names, recipients=[delivery.recipient], since=since, until=until, size=1000
        )
        (digest,) = build_digests(alerts, day, {delivery.recipient}) or [None]
        if digest is None:
            return None  # nothing to say that day (the alerts were removed since)
        reader = words(self.config.language_of(delivery.recipient))
        said = self._said(digest.alerts, reader, mentions)
        try:
            send_email(email, self._smtp_password(), delivery.recipient, digest.subject(reader),
                       digest.text(self.config.dashboard_url, said, reader))  # fmt: skip
        except ChannelError as exc:
            return str(exc)
        return None

    def send_digests(self, day: date) -> DeliveryReport:
        """The daily digest of `day` to every recipient of its alerts who wants one (once per person)."""
        since, until = digest_period(day)
        alerts = alerts_for(self.es, self.names, since=since, until=until, size=5000)
        people = {r for a in alerts for r in a.recipients if self.config.preferences(r).digest}
        now = self.clock()
        deliveries = [
            Delivery(
                id=document_id("digest", d.recipient, day.isoformat()),
                alert_id=f"digest:{day.isoformat()}",
                recipient=d.recipient,
                channel="digest",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for d in build_digests(alerts, day, people)
        ]
        new = create_deliveries(self.es, self.names, deliveries)
        return self.send([d for d in deliveries if d.id in new])

    def check_spikes(self) -> list[Alert]:
        """The spike job: every enabled spike rule over the window ending now; returns new alerts."""
        now = self.clock()
        raised: list[Alert] = []
        for compiled in self.rules():
            rule = compiled.rule
            if rule.kind != "spike":
                continue
            spikes = find_spikes(self.es, self.names, self.config.spikes, now)
            recipients = rule.recipients or self.config.default_recipients
            raised += self.raise_alerts(spike_alerts(self.es, self.names, rule, spikes, recipients, now))
        return raised

    def retry_due(self) -> DeliveryReport:
        """The scheduled job: send every delivery whose next attempt is due (and claims left by a crash)."""
        now = self.clock()
        return self.send(due_deliveries(self.es, self.names, now, now - STALE_CLAIM))


def _wants(config: AlertsConfig, recipient: str, channel: str) -> bool:
    chosen = config.preferences(recipient).channels
    return chosen is None or channel in chosen
