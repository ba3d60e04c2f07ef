"""What an alert card needs beside the alert: its customer's name, its post's own time, its rule in full,
and people's names instead of their addresses; fetched once for a list of alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alerts import wording
from alerts.settings import AlertRule, rules_from_index
from alerts.wording import words
from core.catalog import Catalog
from core.documents import Alert, Customer, Mention
from dashboard.context import Index
from dashboard.render import intent_text
from dashboard.text import current_language, number, t
from index.alerts import stored_rules
from index.customers import get_customers
from index.mention_search import OwnerScope
from index.mentions import get_mentions_versioned


@dataclass
class AlertContext:
    customers: dict[str, Customer] = field(default_factory=dict)
    posted: dict[str, datetime] = field(default_factory=dict)  # mention id -> when it was published
    rules: dict[str, AlertRule] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # email (lower case) -> name
    mentions: dict[str, Mention] = field(default_factory=dict)

    def customer_name(self, alert: Alert) -> str | None:
        customer = self.customers.get(alert.customer_id or "")
        return customer.full_name if customer else None

    def person(self, email: str) -> str:
        """A colleague's name from the dashboard users, or the address when they are not one."""
        return self.people.get(email.lower(), email)


def people_of(index: Index) -> dict[str, str]:
    """Dashboard users and alert recipients by address, with their names."""
    return {user.email.lower(): user.name for user in index.settings.auth.users}


def alert_context(index: Index, alerts: list[Alert], scope: OwnerScope | None) -> AlertContext:
    """Three requests for any number of alerts: customers, mentions, dashboard rules."""
    customers = get_customers(index.es, index.names, [a.customer_id or "" for a in alerts], scope=scope)
    mentions = get_mentions_versioned(index.es, index.names, [a.mention_id for a in alerts], scope=scope)
    saved = rules_from_index(stored_rules(index.es, index.names))
    rules = {r.name: r for r in index.settings.alerts.effective_rules(saved)}
    return AlertContext(
        customers=customers,
        posted={i: found.mention.created_at for i, found in mentions.items()},
        rules=rules,
        people=people_of(index),
        mentions={i: found.mention for i, found in mentions.items()},
    )


def alert_words() -> Catalog:
    """The alerts' own wording (alerts/locales) in the reader's language."""
    return words(current_language())


def rule_description(rule: AlertRule) -> str:
    """A rule's description: a built-in rule's own in the reader's language, anyone else's as written."""
    return wording.rule_description(rule, alert_words())


def alert_summary(alert: Alert, context: AlertContext) -> str:
    """What an alert is about, in the reader's language (alerts/wording.py)."""
    mention, rule = context.mentions.get(alert.mention_id), context.rules.get(alert.rule)
    return wording.alert_summary(alert, mention, rule, alert_words())


def explanation_text(line: str) -> str:
    """One line of a spike's explanation in the reader's language; a line of another shape as stored."""
    return wording.explanation_text(line, alert_words())


def describe_rule(rule: AlertRule) -> str:
    """Every condition the rule sets, in the reader's language, e.g. `query "panne" · sentiment negative`."""
    parts = [t("rule_is_spike")] if rule.kind == "spike" else []
    if rule.query.strip():
        parts.append(t("rule_has_query", query=rule.query))
    joiner = f" {t('rule_or')} " if rule.sentiment_or_intent else " · "
    feelings = []
    if rule.sentiment:
        feelings.append(t("rule_has_sentiment", values=", ".join(t(s) for s in rule.sentiment)))
    if rule.intent:
        feelings.append(t("rule_has_intent", values=", ".join(intent_text(i) for i in rule.intent)))
    if feelings:
        parts.append(joiner.join(feelings))
    if rule.min_confidence:
        parts.append(t("rule_has_confidence", value=number(rule.min_confidence, 2)))
    if rule.linked_customer is not None:
        parts.append(t("rule_has_linked_yes" if rule.linked_customer else "rule_has_linked_no"))
    for key, values in (("rule_has_sources", rule.sources), ("rule_has_languages", rule.languages)):
        if values:
            parts.append(t(key, values=", ".join(values)))
    if rule.segments:
        parts.append(t("rule_has_segments", values=", ".join(rule.segments)))
    if rule.min_account_value is not None:
        parts.append(t("rule_has_min_value", value=number(rule.min_account_value)))
    if rule.min_followers is not None:
        parts.append(t("rule_has_min_followers", value=number(rule.min_followers)))
    conditions = " · ".join(parts) or t("rule_has_nothing")
    description = rule_description(rule)
    return f"{description} — {conditions}" if description else conditions
