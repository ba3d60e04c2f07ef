"""What a rule would have matched lately: the check the dashboard's rule editor and
`ecoute alerts test-query --days` both show before a rule is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from alerts.rules import compile_rule
from alerts.settings import AlertRule
from core.documents import Mention
from index.client import IndexNames
from index.customers import all_customers
from index.mention_search import mentions_matching
from nlp.linking import CustomerDirectory


@dataclass(frozen=True)
class RulePreview:
    """How many stored mentions of the period the rule finds, and the newest of them."""

    total: int
    newest: list[Mention]


def preview_rule(
    es: Elasticsearch,
    names: IndexNames,
    rule: AlertRule,
    days: int,
    size: int,
    directory: CustomerDirectory | None = None,
) -> RulePreview:
    """Run the rule's compiled query over the last `days` days, as a search; `size` newest kept.

    Without a directory, the customers are read only when the rule looks at segments or account value.
    """
    if directory is None:
        reads_customers = bool(rule.segments) or rule.min_account_value is not None
        directory = CustomerDirectory(all_customers(es, names)) if reads_customers else CustomerDirectory()
    since = datetime.now(UTC) - timedelta(days=days)
    total, newest = mentions_matching(es, names, compile_rule(rule).to_dsl(directory), since, size=size)
    return RulePreview(total, newest)
