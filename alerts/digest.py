"""The daily digest: per person, the alerts of the last day in one message, busiest rule first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from alerts.channels import links_for
from core.documents import Alert


@dataclass
class Digest:
    """One person's digest for one day."""

    recipient: str
    day: date
    alerts: list[Alert]

    @property
    def subject(self) -> str:
        mentions = sum(a.count for a in self.alerts)
        return f"[Écoute] {self.day.isoformat()}: {len(self.alerts)} alerts, {mentions} mentions"

    def text(self, dashboard_url: str) -> str:
        by_rule: dict[str, list[Alert]] = defaultdict(list)
        for alert in self.alerts:
            by_rule[alert.rule].append(alert)
        lines = [f"Your Écoute alerts for {self.day.isoformat()} (UTC).", ""]
        for rule, alerts in sorted(by_rule.items(), key=lambda r: (-len(r[1]), r[0])):
            open_ = sum(a.status == "new" for a in alerts)
            lines.append(f"{rule}: {len(alerts)} alerts ({open_} not acknowledged)")
            for alert in sorted(alerts, key=lambda a: a.created_at):
                grouped = f" [+{alert.count - 1} more]" if alert.count > 1 else ""
                summary = " ".join(alert.summary.split())
                lines.append(f"  {alert.created_at:%H:%M} {summary[:160]}{grouped}")
                lines.append(f"    {links_for(alert, dashboard_url).mention}")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


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
