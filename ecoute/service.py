"""Service targets per intent and the team's figures, computed from the triage history (no I/O).

Definitions (every time is measured from `collected_at`, when Écoute first held the mention and a person
could first see it; changes by routing rules, `by` = "routing:<rule>", are never a person's work):

* first response: the first status change by a person to `in_progress` or `answered`; the person
  credited is who made it.
* close: the last status change to `answered`, `closed` or `ignored`, counted only while the mention is
  still in one of those statuses (a reopened mention is open again); credited to who made it.
* response rate: mentions with a first response / mentions collected in the period, leaving out those
  ignored without any response (spam and off-topic posts need no answer).
* median: the middle value (the mean of the two middle ones for an even count); p90: nearest rank, the
  value at position ceil(0.9 n) of the sorted times.
* backlog at a moment T: mentions collected by T whose status at T (from the history; `new` before
  any change) was `new` or `in_progress`.
* past target: a mention still `new` whose intent has a target and that was collected longer ago than it.
* alert acknowledged within target: acknowledged no later than `service_targets.alerts` (or, unset, the
  target of the alert's intent) after it was raised; alerts with no target are not counted.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from core.documents import AlertTimes, Handled, TriageChange
from ecoute.routing import ROUTED_BY

RESPONSE_STATUSES = frozenset({"in_progress", "answered"})
CLOSED_STATUSES = frozenset({"answered", "closed", "ignored"})
OPEN_STATUSES = frozenset({"new", "in_progress"})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """ "30m", "2h", "1.5d", "90s" (a timedelta passes through); ValueError otherwise."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    else:
        found = _DURATION.match(str(value))
        if not found:
            raise ValueError(f"{value!r} is not a duration: write e.g. 30m, 2h or 1d")
        seconds = float(found.group(1)) * _UNITS[found.group(2)]
    if seconds <= 0:
        raise ValueError(f"{value!r}: a target must be longer than zero")
    return timedelta(seconds=seconds)


def duration_text(value: timedelta) -> str:
    """The shortest of "1d", "2h", "30m", "90s" that is exact."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(duration_text)]


class ServiceTargets(BaseModel):
    """The `service_targets:` block: how soon each intent should get a first response."""

    model_config = ConfigDict(extra="forbid")

    complaint: Duration | None = None
    churn_risk: Duration | None = None
    question: Duration | None = None
    purchase: Duration | None = None
    praise: Duration | None = None
    other: Duration | None = None
    spam: Duration | None = None
    alerts: Duration | None = None  # acknowledgement target for alerts; unset: their intent's target

    def by_intent(self) -> dict[str, timedelta]:
        """The intents that have a target, with it."""
        found = {name: getattr(self, name) for name in type(self).model_fields if name != "alerts"}
        return {name: value for name, value in found.items() if value is not None}

    def for_alert(self, intent: str) -> timedelta | None:
        return self.alerts or self.by_intent().get(intent)


@dataclass
class Row:
    """Figures for one person, source, intent or team; times in hours, None when there is none."""

    dimension: str
    key: str
    mentions: int = 0
    responded: int = 0
    response_rate: float | None = None
    response_median_h: float | None = None
    response_p90_h: float | None = None
    closed: int = 0
    close_median_h: float | None = None
    close_p90_h: float | None = None


@dataclass
class TeamStats:
    rows: list[Row]
    backlog: list[tuple[datetime, int]]
    alerts_with_target: int = 0
    alerts_within_target: int = 0
    mentions: int = 0
    responded: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.mentions if self.mentions else None

    @property
    def alerts_rate(self) -> float | None:
        return self.alerts_within_target / self.alerts_with_target if self.alerts_with_target else None


def _by_person(history: Iterable[TriageChange]) -> list[TriageChange]:
    return [c for c in history if c.field == "status" and not c.by.startswith(ROUTED_BY)]


def first_response(item: Handled) -> TriageChange | None:
    return next((c for c in _by_person(item.history) if c.new in RESPONSE_STATUSES), None)


def close(item: Handled) -> TriageChange | None:
    if item.status not in CLOSED_STATUSES:
        return None
    closes = [c for c in _by_person(item.history) if c.new in CLOSED_STATUSES]
    return closes[-1] if closes else None


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    """Nearest rank: the value at position ceil(0.9 n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _hours(change: TriageChange, item: Handled) -> float:
    return max((change.at - item.collected_at).total_seconds(), 0.0) / 3600


def status_at(item: Handled, moment: datetime) -> str | None:
    """The status at `moment`; None when it was not collected yet."""
    if item.collected_at > moment:
        return None
    status = "new"
    for change in item.history:
        if change.field == "status" and change.at <= moment and change.new:
            status = change.new
    return status


def _row(dimension: str, key: str, items: list[Handled], with_rate: bool) -> Row:
    responses = [(first_response(i), i) for i in items]
    closes = [(close(i), i) for i in items]
    response_hours = [_hours(c, i) for c, i in responses if c]
    close_hours = [_hours(c, i) for c, i in closes if c]
    row = Row(dimension, key, mentions=len(items), responded=len(response_hours), closed=len(close_hours))
    row.response_median_h, row.response_p90_h = median(response_hours), p90(response_hours)
    row.close_median_h, row.close_p90_h = median(close_hours), p90(close_hours)
    if with_rate:
        counted = [i for i in items if not (i.status == "ignored" and first_response(i) is None)]
        row.response_rate = row.responded / len(counted) if counted else None
    return row


def _person_rows(items: list[Handled]) -> list[Row]:
    responses: dict[str, list[float]] = defaultdict(list)
    closes: dict[str, list[float]] = defaultdict(list)
    touched: dict[str, set[str]] = defaultdict(set)
    for item in items:
        first, last = first_response(item), close(item)
        if first:
            responses[first.by].append(_hours(first, item))
            touched[first.by].add(item.id)
        if last:
            closes[last.by].append(_hours(last, item))
            touched[last.by].add(item.id)
    rows = []
    for person in sorted(touched):
        r, c = responses[person], closes[person]
        rows.append(
            Row(
                "person",
                person,
                mentions=len(touched[person]),
                responded=len(r),
                response_median_h=median(r),
                response_p90_h=p90(r),
                closed=len(c),
                close_median_h=median(c),
                close_p90_h=p90(c),
            )
        )
    return rows


def backlog(
    items: list[Handled], since: datetime, until: datetime, step: timedelta
) -> list[tuple[datetime, int]]:
    """The open mentions at `since + step`, `since + 2·step`… up to `until` (and at `until` itself)."""
    moments, moment = [], since + step
    while moment < until:
        moments.append(moment)
        moment += step
    moments.append(until)
    return [(m, sum(1 for i in items if status_at(i, m) in OPEN_STATUSES)) for m in moments]


def team_stats(
    items: list[Handled],
    alerts: list[AlertTimes],
    targets: ServiceTargets,
    since: datetime,
    until: datetime,
    step: timedelta = timedelta(days=1),
) -> TeamStats:
    """The figures for mentions collected in [since, until); `items` may hold older mentions still open
    in the period, which count in the backlog only."""
    period = [i for i in items if since <= i.collected_at < until]
    rows = _person_rows(period)
    groups: tuple[tuple[str, Callable[[Handled], str | None]], ...] = (
        ("source", lambda i: i.source),
        ("intent", lambda i: i.intent),
        ("team", lambda i: i.team),
    )
    for dimension, key_of in groups:
        grouped: dict[str, list[Handled]] = defaultdict(list)
        for item in period:
            key = key_of(item)
            if key:
                grouped[key].append(item)
        rows += [_row(dimension, key, grouped[key], with_rate=True) for key in sorted(grouped)]
    total = _row("all", "all", period, with_rate=True)
    counted = [i for i in period if not (i.status == "ignored" and first_response(i) is None)]
    stats = TeamStats(rows=rows, backlog=backlog(items, since, until, step))
    stats.mentions, stats.responded = len(counted), total.responded
    for alert in alerts:
        target = targets.for_alert(alert.intent)
        if target is None or not since <= alert.created_at < until:
            continue
        stats.alerts_with_target += 1
        if alert.acknowledged_at and alert.acknowledged_at - alert.created_at <= target:
            stats.alerts_within_target += 1
    return stats
