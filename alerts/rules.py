"""Rules: which mentions they match (portable matcher or compiled DSL), who hears about them, and how
matches become alerts without floods (dedup per rule + customer + thread, cooldown, burst grouping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.query import Node, Words, evaluate, parse_query, to_dsl
from alerts.settings import AlertRule
from core.documents import Alert, Customer, Mention, document_id
from core.names import author_key
from nlp.linking import CustomerDirectory

NOTHING: dict[str, Any] = {"bool": {"must_not": [{"match_all": {}}]}}


@dataclass
class CompiledRule:
    """A mention rule with its query parsed once."""

    rule: AlertRule
    tree: Node | None

    def matches(self, mention: Mention, directory: CustomerDirectory, found: Words | None = None) -> bool:
        """The portable matcher: every condition of the rule, evaluated on the mention itself."""
        rule = self.rule
        if rule.sources and mention.source not in rule.sources:
            return False
        if rule.languages and mention.language not in rule.languages:
            return False
        if not _labels_match(rule, mention):
            return False
        if rule.linked_customer is not None and (mention.customer_id is not None) != rule.linked_customer:
            return False
        if rule.segments or rule.min_account_value is not None:
            customer = directory.by_id.get(mention.customer_id or "")
            if customer is None or not _customer_fits(rule, customer):
                return False
        if rule.min_followers is not None and (mention.author.followers or 0) < rule.min_followers:
            return False
        if self.tree is None:
            return True
        return evaluate(self.tree, found or mention_words(mention))

    def to_dsl(self, directory: CustomerDirectory) -> dict[str, Any]:
        """The same conditions as Elasticsearch query DSL over `ecoute-mentions`.

        Segment and account value live in the CRM, not on the mention: they become the ids of the
        customers that fit, from the same directory the portable matcher reads.
        """
        rule = self.rule
        filters: list[dict[str, Any]] = []
        if rule.sources:
            filters.append({"terms": {"source": rule.sources}})
        if rule.languages:
            filters.append({"terms": {"language": rule.languages}})
        labels = [
            _label_dsl("sentiment", rule.sentiment, rule.min_confidence),
            _label_dsl("intent", rule.intent, rule.min_confidence),
        ]
        labels = [label for label in labels if label]
        if labels and rule.sentiment_or_intent:
            filters.append({"bool": {"should": labels, "minimum_should_match": 1}})
        else:
            filters.extend(labels)
        if rule.linked_customer is True:
            filters.append({"exists": {"field": "customer_id"}})
        elif rule.linked_customer is False:
            filters.append({"bool": {"must_not": [{"exists": {"field": "customer_id"}}]}})
        if rule.segments or rule.min_account_value is not None:
            ids = sorted(c.customer_id for c in directory.by_id.values() if _customer_fits(rule, c))
            filters.append({"terms": {"customer_id": ids}} if ids else NOTHING)
        if rule.min_followers is not None:
            filters.append({"range": {"author.followers": {"gte": rule.min_followers}}})
        if self.tree is not None:
            filters.append(to_dsl(self.tree))
        return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def compile_rule(rule: AlertRule) -> CompiledRule:
    return CompiledRule(rule, parse_query(rule.query) if rule.query.strip() else None)


def mention_words(mention: Mention) -> Words:
    """The mention's words, and the values field:value reads (as the index holds them)."""
    facets = {
        "source": [mention.source],
        "lang": [mention.language],
        "author": [mention.author.handle] if mention.author.handle else [],
        "sentiment": [mention.sentiment.label],
        "intent": [mention.intent.label],
        "customer": [mention.customer_id] if mention.customer_id else [],
        "hashtag": list(mention.hashtags),
    }
    return Words({"title": mention.title, "text": mention.text}, facets)


def _labels_match(rule: AlertRule, mention: Mention) -> bool:
    checks = []
    if rule.sentiment:
        checks.append(
            mention.sentiment.label in rule.sentiment and mention.sentiment.confidence >= rule.min_confidence
        )
    if rule.intent:
        checks.append(
            mention.intent.label in rule.intent and mention.intent.confidence >= rule.min_confidence
        )
    if not checks:
        return True
    return any(checks) if rule.sentiment_or_intent else all(checks)


def _label_dsl(name: str, values: list[str], min_confidence: float) -> dict[str, Any] | None:
    if not values:
        return None
    conditions: list[dict[str, Any]] = [{"terms": {f"{name}.label": values}}]
    if min_confidence > 0:
        conditions.append({"range": {f"{name}.confidence": {"gte": min_confidence}}})
    return {"bool": {"filter": conditions}}


def _customer_fits(rule: AlertRule, customer: Customer) -> bool:
    if rule.segments and customer.segment not in rule.segments:
        return False
    value = rule.min_account_value
    return value is None or (customer.account_value is not None and customer.account_value >= value)


def rule_matches(rule: AlertRule, mention: Mention, directory: CustomerDirectory | None = None) -> bool:
    """True when every condition the rule sets holds for the mention."""
    return compile_rule(rule).matches(mention, directory or CustomerDirectory())


# ---- routing and grouping -----------------------------------------------------------------------


def route(rule: AlertRule, mention: Mention, directory: CustomerDirectory, fallback: list[str]) -> list[str]:
    """An alert about a linked customer goes to the account owner from the CRM; others to the rule's
    recipients (or the default recipients)."""
    customer = directory.by_id.get(mention.customer_id or "")
    if customer and customer.owner_email:
        return [customer.owner_email.lower()]
    return list(rule.recipients or fallback)


def thread_of(mention: Mention) -> str:
    return f"{mention.source}:{mention.thread.root_id or mention.thread.parent_id or mention.native_id}"


def dedup_key(rule: AlertRule, mention: Mention) -> str:
    """Rule + customer + thread: one alert per conversation, whatever its number of replies."""
    return f"{rule.name}|{mention.customer_id or '-'}|{thread_of(mention)}"


def group_key(rule: AlertRule, mention: Mention, recipients: list[str]) -> str:
    """Matches with the same group key within the rule's window join one alert."""
    if mention.customer_id:
        return f"{rule.name}|customer:{mention.customer_id}"
    return f"{rule.name}|to:{','.join(sorted(recipients))}"


def group_window(rule: AlertRule, mention: Mention) -> timedelta:
    """The cooldown for a customer; for everyone else, the burst window."""
    if mention.customer_id:
        return timedelta(minutes=rule.cooldown_minutes)
    return timedelta(seconds=rule.group_seconds)


@dataclass
class Match:
    rule: AlertRule
    mention: Mention
    recipients: list[str]
    dedup_key: str
    group_key: str


@dataclass
class AlertPlan:
    """What to write for a batch of matches: new alerts, and mentions joining existing alerts."""

    new: list[Alert] = field(default_factory=list)
    joins: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # id -> (mentions, keys)
    skipped: int = 0


def find_matches(
    mentions: list[Mention],
    rules: list[CompiledRule],
    directory: CustomerDirectory,
    fallback: list[str],
    percolated: dict[str, set[str]] | None = None,
) -> list[Match]:
    """Every (rule, mention) pair that matches; `percolated` (rule names by mention id) replaces the
    portable matcher where the cluster has a percolator."""
    matches = []
    for mention in mentions:
        found = mention_words(mention)
        for compiled in rules:
            rule = compiled.rule
            if percolated is not None:
                hit = rule.name in percolated.get(mention.id, set())
            else:
                hit = compiled.matches(mention, directory, found)
            if hit:
                recipients = route(rule, mention, directory, fallback)
                matches.append(
                    Match(
                        rule,
                        mention,
                        recipients,
                        dedup_key(rule, mention),
                        group_key(rule, mention, recipients),
                    )
                )
    return matches


def plan_alerts(matches: list[Match], existing: list[Alert], now: datetime) -> AlertPlan:
    """Turn matches into alerts: a mention or dedup key already alerted is skipped, a match whose group
    has an alert younger than its window joins it, and the rest open new alerts (grouping among
    themselves the same way)."""
    plan = AlertPlan()
    by_mention = {(a.rule, m) for a in existing for m in [a.mention_id, *a.mention_ids]}
    by_key = {k: a for a in existing for k in a.dedup_keys}
    open_groups: dict[str, Alert] = {}
    for alert in sorted(existing, key=lambda a: a.created_at):
        if alert.group_key:
            open_groups[alert.group_key] = alert
    for match in matches:
        rule, mention = match.rule, match.mention
        if (rule.name, mention.id) in by_mention:
            plan.skipped += 1
            continue
        target = by_key.get(match.dedup_key)
        group = open_groups.get(match.group_key)
        if target is None and group is not None and group.created_at >= now - group_window(rule, mention):
            target = group
        if target is not None:
            if any(new is target for new in plan.new):  # grouped in this batch, before it is written
                target.mention_ids.append(mention.id)
                target.dedup_keys.append(match.dedup_key)
                target.count = len(target.mention_ids)
            else:
                mentions, keys = plan.joins.setdefault(target.id, ([], []))
                mentions.append(mention.id)
                keys.append(match.dedup_key)
            by_mention.add((rule.name, mention.id))
            by_key[match.dedup_key] = target
            continue
        alert = Alert(
            id=document_id(rule.name, match.dedup_key),
            rule=rule.name,
            mention_id=mention.id,
            customer_id=mention.customer_id,
            recipients=match.recipients,
            created_at=now,
            updated_at=now,
            summary=summary(rule, mention),
            sentiment=mention.sentiment.label,
            intent=mention.intent.label,
            url=mention.url,
            mention_ids=[mention.id],
            dedup_keys=[match.dedup_key],
            group_key=match.group_key,
            topic=mention.topics[0] if mention.topics else None,
        )
        plan.new.append(alert)
        by_mention.add((rule.name, mention.id))
        by_key[match.dedup_key] = alert
        open_groups[match.group_key] = alert
    return plan


def summary(rule: AlertRule, mention: Mention) -> str:
    who = mention.author.handle or mention.author.display_name or "someone"
    text = mention.text if len(mention.text) <= 160 else mention.text[:157] + "..."
    return f"{rule.description or rule.name}: @{who} on {mention.platform}: {text}"


def author_of(mention: Mention) -> str:
    return author_key(mention.platform, mention.author.handle or mention.author.display_name or "?")
