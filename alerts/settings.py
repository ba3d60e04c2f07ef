"""The `alerts:` block of config.yaml: rules, spike detection, channels and who gets what."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from alerts.query import QuerySyntaxError, parse_query
from core.documents import StoredRule

log = logging.getLogger("ecoute.alerts")

Sentiment = Literal["positive", "neutral", "negative"]
Intent = Literal["complaint", "praise", "question", "purchase", "churn_risk", "spam", "other"]
Channel = Literal["email", "webhook"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertRule(Strict):
    """A mention matches when every condition that is set holds (a `spike` rule watches volumes instead)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str = ""
    kind: Literal["mention", "spike"] = "mention"
    enabled: bool = True
    query: str = Field(default="", description='keywords: AND OR NOT, "phrases", prefix*, NEAR/n')
    sentiment: list[Sentiment] = Field(default_factory=list)
    intent: list[Intent] = Field(default_factory=list)
    sentiment_or_intent: bool = Field(
        default=False, description="true: the sentiment or the intent condition is enough, not both"
    )
    linked_customer: bool | None = None
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    sources: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list, description="CRM segment of the linked customer")
    min_account_value: float | None = Field(default=None, ge=0)
    min_followers: int | None = Field(default=None, ge=0, description="author reach")
    recipients: list[str] = Field(
        default_factory=list, description="who hears about mentions with no account owner"
    )
    channels: list[str] | None = Field(
        default=None, description="email, webhook:<name>; unset: alerts.default_channels"
    )
    cooldown_minutes: int = Field(
        default=60, ge=0, description="later matches about the same customer join the open alert"
    )
    group_seconds: int = Field(
        default=300, ge=0, description="a burst about no customer, to the same people, is one alert"
    )

    @field_validator("query")
    @classmethod
    def _query_parses(cls, value: str) -> str:
        if value.strip():
            try:
                parse_query(value)
            except QuerySyntaxError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: list[str] | None) -> list[str] | None:
        for channel in value or []:
            if channel != "email" and not channel.startswith("webhook:"):
                raise ValueError(f"unknown channel {channel!r}: use email or webhook:<name>")
        return value


class SpikeSettings(Strict):
    """Same hour of the week over the last weeks: a spike when the last hour is well above them.

    Volume: the count of the last `window_minutes` against the same window of the week in each of the
    last `weeks` weeks; a spike when count >= mean + k·std (std at least √mean, the Poisson floor) and
    count >= min_mentions. Negative share: negatives / count in the window against the same share over
    the baseline windows; a spike when it is `min_share_increase` higher and there are min_negative.
    """

    weeks: int = Field(default=4, ge=1, le=12)
    window_minutes: int = Field(default=60, ge=10, le=24 * 60)
    k: float = Field(default=3.0, gt=0)
    min_mentions: int = Field(default=10, ge=1)
    min_share_increase: float = Field(default=0.25, gt=0, le=1)
    min_negative: int = Field(default=5, ge=1)
    check_minutes: int = Field(default=15, ge=1, description="how often the spike job runs")


class EmailChannel(Strict):
    """SMTP; the password comes from SMTP_PASSWORD, never from config.yaml."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$|^.+<[^@\s]+@[^@\s]+>$")
    ca_certs: Path | None = Field(default=None, description="trust this CA file (a private relay)")
    timeout_seconds: float = Field(default=10.0, gt=0)


class WebhookChannel(Strict):
    """A generic JSON webhook (HMAC-SHA256 signed) or a Slack-compatible incoming webhook."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    url: str = Field(pattern=r"^https?://")
    format: Literal["generic", "slack"] = "generic"
    secret_env: str = Field(
        default="ECOUTE_WEBHOOK_SECRET", description="environment variable holding the signing secret"
    )
    timeout_seconds: float = Field(default=5.0, gt=0)
    verify_tls: bool = True
    local: bool = Field(
        default=False,
        description="allow private and loopback addresses (an intranet receiver, a test server)",
    )

    def secret(self) -> SecretStr | None:
        value = os.environ.get(self.secret_env)
        return SecretStr(value) if value else None


class ChannelsConfig(Strict):
    email: EmailChannel | None = None
    webhooks: list[WebhookChannel] = Field(default_factory=list)


AlertLanguage = Literal["en", "fr"]


class PersonPreferences(Strict):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    channels: list[Channel] | None = Field(default=None, description="unset: the rule's channels")
    digest: bool = True
    language: AlertLanguage | None = Field(
        default=None, description="their e-mails' language; unset: alerts.language"
    )


class DeliverySettings(Strict):
    max_attempts: int = Field(default=8, ge=1, le=50)
    first_retry_seconds: float = Field(default=30.0, gt=0)
    max_retry_seconds: float = Field(default=3600.0, gt=0)
    retry_job_seconds: int = Field(default=30, ge=5)


class AlertsConfig(Strict):
    builtin_rules: bool = Field(default=True, description="add the built-in rules not redefined here")
    rules: list[AlertRule] = Field(default_factory=list)
    default_recipients: list[str] = Field(
        default_factory=list, description="for rules without recipients of their own"
    )
    default_channels: list[str] = Field(
        default_factory=list, description="for rules without channels; the in-app inbox always"
    )
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    people: list[PersonPreferences] = Field(default_factory=list)
    spikes: SpikeSettings = Field(default_factory=SpikeSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    percolator: bool = Field(
        default=False, description="match with the cluster's percolator when it has one (real Elasticsearch)"
    )
    digest_hour_utc: int = Field(default=7, ge=0, le=23)
    language: AlertLanguage = Field(
        default="en", description="the language of alert e-mails and chat messages; a person's own in people"
    )
    dashboard_url: str = Field(
        default="http://127.0.0.1:8501", description="base of the links in emails and webhooks"
    )

    @model_validator(mode="after")
    def _channels_exist(self) -> AlertsConfig:
        hooks = {w.name for w in self.channels.webhooks}
        for owner, channels in [("default_channels", self.default_channels)] + [
            (f"rules.{r.name}.channels", r.channels or []) for r in self.rules
        ]:
            for channel in channels:
                if channel.startswith("webhook:") and channel.split(":", 1)[1] not in hooks:
                    raise ValueError(f"{owner}: no webhook named {channel.split(':', 1)[1]!r}")
        return self

    def rules_in_effect(self, stored: list[AlertRule] | None = None) -> list[RuleInEffect]:
        """Built-ins, then config.yaml, then rules saved in the dashboard: a later one wins by name, and
        each rule says which of the three it comes from. Disabled rules are included."""
        by_name: dict[str, RuleInEffect] = {}
        layers: list[tuple[RuleOrigin, list[AlertRule]]] = [
            ("builtin", BUILTIN_RULES if self.builtin_rules else []),
            ("config", self.rules),
            ("dashboard", stored or []),
        ]
        for origin, rules in layers:
            for rule in rules:
                by_name[rule.name] = RuleInEffect(rule, origin)
        return list(by_name.values())

    def effective_rules(self, stored: list[AlertRule] | None = None) -> list[AlertRule]:
        """The rules in effect (see `rules_in_effect`), without where each comes from."""
        return [r.rule for r in self.rules_in_effect(stored)]

    def language_of(self, email: str) -> AlertLanguage:
        """The language `email`'s alert e-mails are written in: their own, else alerts.language."""
        return self.preferences(email).language or self.language

    def preferences(self, email: str) -> PersonPreferences:
        for person in self.people:
            if person.email.lower() == email.lower():
                return person
        return PersonPreferences(email=email)


RuleOrigin = Literal["builtin", "config", "dashboard"]


@dataclass(frozen=True)
class RuleInEffect:
    """A rule in effect and where it comes from: built in, config.yaml, or saved in the dashboard."""

    rule: AlertRule
    origin: RuleOrigin


def rules_from_index(stored: list[StoredRule]) -> list[AlertRule]:
    """The dashboard's rules; one that no longer validates is logged and left out, never half-applied."""
    rules = []
    for item in stored:
        try:
            rules.append(AlertRule.model_validate(item.rule))
        except ValueError as exc:
            log.error("rule %s saved in the dashboard is invalid, ignored: %s", item.name, exc)
    return rules


BUILTIN_RULES = [
    AlertRule(
        name="negative-by-customer",
        description="A known customer speaks negatively about us or may leave",
        sentiment=["negative"],
        intent=["churn_risk"],
        sentiment_or_intent=True,
        linked_customer=True,
        min_confidence=0.3,
    ),
    AlertRule(
        name="purchase-intent",
        description="A customer or prospect wants to buy",
        intent=["purchase"],
        min_confidence=0.4,
    ),
    AlertRule(
        name="complaint-high-reach",
        description="A complaint from an author with a wide audience",
        intent=["complaint"],
        min_followers=5000,
        min_confidence=0.4,
    ),
    AlertRule(
        name="topic-spike",
        description="Volume or negative share of a brand or topic far above its usual level",
        kind="spike",
    ),
]
