"""The daily digest: per person, the alerts of the last day in one message, busiest rule first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from alerts.channels import links_for
from alerts.wording import digest_message, digest_subject
from core.catalog import Catalog
from core.documents import Alert


@dataclass
class Digest:
    """One person's digest for one day."""

    recipient: str
    day: date
    alerts: list[Alert]

    def subject(self, words: Catalog) -> str:
        return digest_subject(self.day, self.alerts, words)

    def text(self, dashboard_url: str, said: dict[str, str], words: Catalog) -> str:
        """The digest in `words`' language; `said` holds each alert's summary in it, by alert id."""
        links = {a.id: links_for(a, dashboard_url).mention for a in self.alerts}
        return digest_message(self.day, self.alerts, said, links, words)


def digest_period(day: date) -> tuple[datetime, datetime]:
    """The UTC day `day`, as [start, end)."""
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def build_digests(alerts: list[Alert], day: date, wanted: set[str] | None = None) -> list[Digest]:
    """One digest per recipient who had alerts that day (only `wanted` people when given)."""
    per_person: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        for recipient in alert.recipients:
            if wanted is None or recipient in wanted:
                per_person[recipient].append(alert)
    return [Digest(person, day, found) for person, found in sorted(per_person.items())]
