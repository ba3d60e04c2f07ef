"""Match enriched mentions against the configured rules and route each alert."""

from __future__ import annotations

from datetime import UTC, datetime

from ecoute.config import AlertRule
from index.documents import Alert, Mention, document_id
from nlp.linking import CustomerDirectory


def rule_matches(rule: AlertRule, mention: Mention) -> bool:
    """True when every condition the rule sets holds for the mention."""
    if rule.sentiment and mention.sentiment.label not in rule.sentiment:
        return False
    if rule.intent and mention.intent.label not in rule.intent:
        return False
    if rule.linked_customer is not None and (mention.customer_id is not None) != rule.linked_customer:
        return False
    if rule.sources and mention.source not in rule.sources:
        return False
    labels = [mention.sentiment] if rule.sentiment else []
    labels += [mention.intent] if rule.intent else []
    return all(label.confidence >= rule.min_confidence for label in labels)


def raise_alerts(
    mentions: list[Mention], rules: list[AlertRule], directory: CustomerDirectory
) -> list[Alert]:
    """One alert per (rule, mention); about a linked customer it goes to the account owner."""
    now = datetime.now(UTC)
    alerts = []
    for mention in mentions:
        for rule in rules:
            if not rule_matches(rule, mention):
                continue
            customer = directory.by_id.get(mention.customer_id or "")
            owner = customer.owner_email if customer else None
            recipients = [owner] if owner else list(rule.recipients)
            alerts.append(
                Alert(
                    id=document_id(rule.name, mention.id),
                    rule=rule.name,
                    mention_id=mention.id,
                    customer_id=mention.customer_id,
                    recipients=recipients,
                    created_at=now,
                    summary=_summary(rule, mention),
                    sentiment=mention.sentiment.label,
                    intent=mention.intent.label,
                    url=mention.url,
                )
            )
    return alerts


def _summary(rule: AlertRule, mention: Mention) -> str:
    who = mention.author.handle or mention.author.display_name or "someone"
    text = mention.text if len(mention.text) <= 160 else mention.text[:157] + "..."
    return f"{rule.description or rule.name}: @{who} on {mention.platform}: {text}"
