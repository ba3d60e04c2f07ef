"""What an alert card needs beside the alert: its customer's name, its post's own time, its rule in full,
and people's names instead of their addresses; fetched once for a list of alerts."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from alerts.rules import summary
from alerts.settings import BUILTIN_RULES, AlertRule, rules_from_index
from core.documents import Alert, Customer, Mention
from dashboard.context import Index
from dashboard.render import intent_text
from dashboard.text import number, percent, plural, t
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


_BUILTIN = {rule.name: rule.description for rule in BUILTIN_RULES}


def rule_description(rule: AlertRule) -> str:
    """A rule's description: a built-in rule's own in the reader's language, anyone else's as written."""
    if rule.description and _BUILTIN.get(rule.name) == rule.description:
        return t(f"builtin_rule_{rule.name.replace('-', '_')}")
    return rule.description


def alert_summary(alert: Alert, context: AlertContext) -> str:
    """What an alert is about, in the reader's language: the rule and the post, or the spike's figures.

    Only Écoute's own summary is said again: the stored one stands in when it was written otherwise, or
    when what it was made from is gone or has changed (an erased mention, an edited rule, a spike alert
    raised before its kind and window were kept)."""
    if alert.kind == "spike":
        return spike_headline(alert) or alert.summary
    mention = context.mentions.get(alert.mention_id)
    rule = context.rules.get(alert.rule)
    if mention is None or rule is None or alert.summary != summary(rule, mention):
        return alert.summary
    text = mention.text if len(mention.text) <= 160 else mention.text[:157] + "..."
    return t(
        "alert_summary",
        rule=rule_description(rule) or rule.name,
        author=mention.author.handle or mention.author.display_name or t("anonymous"),
        platform=mention.platform,
        text=text,
    )


def spike_headline(alert: Alert) -> str | None:
    """A spike alert's figures (alerts/spikes.py `Spike.headline`), in the reader's language."""
    details = alert.details
    kind, minutes, history = details.get("kind"), details.get("minutes"), details.get("history")
    if kind not in ("volume", "negative_share") or minutes is None or not isinstance(history, list):
        return None
    values = {"topic": alert.topic or "", "count": number(alert.count), "minutes": number(minutes)}
    if kind == "volume":
        mean = statistics.fmean(history) if history else 0.0
        threshold = float(details.get("threshold", 0))
        return plural(
            "spike_headline_volume",
            len(history),
            mean=number(mean, 1),
            threshold=number(threshold, 1),
            **values,
        )
    negative = int(details.get("negative", 0))
    return plural(
        "spike_headline_negative_share",
        len(history),
        share=percent(negative / alert.count if alert.count else 0.0),
        negative=number(negative),
        usual=percent(float(details.get("baseline_share", 0))),
        **values,
    )


# The shapes of a spike's explanation lines as alerts/spikes.py writes them (alerts/erasure.py reads them).
_TERMS = re.compile(r"^terms: (.+)$")
_TERM = re.compile(r"(\S+) \((\d+) now, usually ([\d.]+)\)")
_AUTHORS = re.compile(r"^authors: (.+)$")
_AUTHOR = re.compile(r"@(\S+) \((\d+) posts?, ([\d,]+) followers\)")
_POST = re.compile(r"^post by @(.+?): (.*)$", re.DOTALL)


def explanation_text(line: str) -> str:
    """One line of a spike's explanation in the reader's language; a line of another shape as stored."""
    if found := _TERMS.match(line):
        terms = _TERM.findall(found[1])
        if terms:
            said = [
                t("spike_term", term=w, now=number(int(n)), usual=number(float(u), 1)) for w, n, u in terms
            ]
            return t("spike_terms", terms=", ".join(said))
    if found := _AUTHORS.match(line):
        authors = _AUTHOR.findall(found[1])
        if authors:
            said = [
                plural(
                    "spike_author", int(n), handle=h, followers=plural("followers", int(f.replace(",", "")))
                )
                for h, n, f in authors
            ]
            return t("spike_authors", authors=", ".join(said))
    if found := _POST.match(line):
        return t("spike_post", author=found[1], text=found[2])
    return line


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
