"""Spikes: a brand or topic far above its own usual level, and what drives it.

Method (parameters in `alerts.spikes`): the last `window_minutes` are compared with the same window of
the week in each of the last `weeks` weeks (same weekday, same hour), so a Monday-morning rush is not a
spike. Volume: a spike when the count >= mean + k·max(std, √mean) (the √mean floor is the Poisson
spread, so a flat history does not make every bump a spike) and count >= min_mentions. Negative share:
a spike when negatives/count exceeds the baseline's share by min_share_increase with at least
min_negative negatives. The explanation names the posts with the widest reach, the terms far more
frequent than in the baseline windows, and the authors who post most.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.query import words
from alerts.settings import AlertRule, SpikeSettings
from core.documents import Alert, Mention, document_id
from index.alerts import alerts_touching
from index.client import IndexNames
from index.mention_search import mentions_about, topic_counts_in_windows
from nlp.explain import stop_words


@dataclass
class Spike:
    """One topic whose volume or negative share in the window stands out from its baseline."""

    topic: str
    kind: str  # "volume" or "negative_share"
    start: datetime
    end: datetime
    count: int
    history: list[int]
    negative: int
    baseline_share: float
    threshold: float
    posts: list[Mention] = field(default_factory=list)
    terms: list[tuple[str, int, float]] = field(default_factory=list)  # term, now, usual per window
    authors: list[tuple[str, int, int]] = field(default_factory=list)  # handle, posts, followers

    @property
    def mean(self) -> float:
        return statistics.fmean(self.history) if self.history else 0.0

    @property
    def share(self) -> float:
        return self.negative / self.count if self.count else 0.0

    def headline(self) -> str:
        weeks = len(self.history)
        minutes = int((self.end - self.start).total_seconds() // 60)
        if self.kind == "volume":
            return (
                f"{self.topic}: {self.count} mentions in the last {minutes} min, usually {self.mean:.1f} "
                f"(same hour of the week, last {weeks} weeks; threshold {self.threshold:.1f})"
            )
        return (
            f"{self.topic}: {self.share:.0%} negative in the last {minutes} min ({self.negative} of "
            f"{self.count}), usually {self.baseline_share:.0%} (same hour of the week, last {weeks} weeks)"
        )

    def explanation(self) -> list[str]:
        lines = []
        if self.terms:
            lines.append("terms: " + ", ".join(f"{t} ({n} now, usually {u:.1f})" for t, n, u in self.terms))
        if self.authors:
            lines.append(
                "authors: " + ", ".join(f"@{h} ({n} posts, {f:,} followers)" for h, n, f in self.authors)
            )
        for post in self.posts:
            who = post.author.handle or post.author.display_name or "someone"
            text = " ".join(post.text.split())
            lines.append(f"post by @{who}: {text[:140]}")
        return lines


def windows_for(now: datetime, settings: SpikeSettings) -> list[tuple[datetime, datetime]]:
    """The current window first, then the same window 1, 2, ... `weeks` weeks earlier."""
    size = timedelta(minutes=settings.window_minutes)
    return [(now - size - timedelta(weeks=w), now - timedelta(weeks=w)) for w in range(settings.weeks + 1)]


def find_spikes(es, names: IndexNames, settings: SpikeSettings, now: datetime) -> list[Spike]:
    """Every topic spiking in the window ending `now`, explained (two requests, plus one per spike)."""
    windows = windows_for(now, settings)
    current, *past = topic_counts_in_windows(es, names, windows)
    spikes = []
    for topic, count in current.total.items():
        history = [p.total.get(topic, 0) for p in past]
        mean = statistics.fmean(history)
        spread = max(statistics.pstdev(history), math.sqrt(mean))
        threshold = mean + settings.k * spread
        negative = current.negative.get(topic, 0)
        past_total = sum(history)
        baseline_share = sum(p.negative.get(topic, 0) for p in past) / past_total if past_total else 0.0
        found = []
        if count >= settings.min_mentions and count >= threshold:
            found.append("volume")
        if (
            negative >= settings.min_negative
            and negative / count >= baseline_share + settings.min_share_increase
        ):
            found.append("negative_share")
        for kind in found:
            spikes.append(
                Spike(
                    topic,
                    kind,
                    windows[0][0],
                    windows[0][1],
                    count,
                    history,
                    negative,
                    baseline_share,
                    threshold,
                )
            )
    for spike in spikes:
        explain(es, names, spike, windows)
    return spikes


def explain(es, names: IndexNames, spike: Spike, windows: list[tuple[datetime, datetime]]) -> None:
    """Fill in the posts, terms and authors that drive a spike."""
    mentions = mentions_about(es, names, spike.topic, windows)
    start, end = windows[0]
    now = [m for m in mentions if start <= m.created_at < end]
    before = [m for m in mentions if not start <= m.created_at < end]
    if spike.kind == "negative_share":
        now = [m for m in now if m.sentiment.label == "negative"] or now
    weeks = max(len(windows) - 1, 1)
    said_now, said_before = _terms(now), _terms(before)
    topic_words = set(words(spike.topic))
    scored = [
        (term, n, said_before[term] / weeks)
        for term, n in said_now.items()
        if n >= 2 and term not in topic_words and n >= 2 * (said_before[term] / weeks + 1)
    ]
    scored.sort(key=lambda t: (-(t[1] + 1) / (t[2] + 1), -t[1], t[0]))
    spike.terms = scored[:5]
    by_author = Counter(m.author.handle for m in now if m.author.handle)
    followers = {m.author.handle: m.author.followers or 0 for m in now}
    spike.authors = [
        (h, n, followers[h]) for h, n in sorted(by_author.items(), key=lambda a: (-a[1], a[0]))[:3]
    ]
    spike.posts = sorted(now, key=_reach, reverse=True)[:3]


def _terms(mentions: list[Mention]) -> Counter[str]:
    """In how many mentions each meaningful word appears (once per mention, so a repeated word is one)."""
    counts: Counter[str] = Counter()
    stop = stop_words()
    for mention in mentions:
        found = {w for w in words(f"{mention.title or ''} {mention.text}") if len(w) > 2 and w not in stop}
        counts.update(found)
    return counts


def _reach(mention: Mention) -> int:
    e = mention.engagement
    return (mention.author.followers or 0) + 10 * (e.likes + e.replies + 2 * e.shares)


def spike_alerts(
    es, names: IndexNames, rule: AlertRule, spikes: list[Spike], recipients: list[str], now: datetime
) -> list[Alert]:
    """One alert per spike, unless the same topic and kind already alerted within the rule's cooldown."""
    keys = {f"{rule.name}|topic:{s.topic}|{s.kind}": s for s in spikes}
    since = now - timedelta(minutes=rule.cooldown_minutes)
    recent = alerts_touching(es, names, [], [], {key: since for key in keys})
    keys = {k: s for k, s in keys.items() if k not in {a.group_key for a in recent}}
    alerts = []
    for key, spike in keys.items():
        top = spike.posts[0] if spike.posts else None
        alerts.append(
            Alert(
                id=document_id(rule.name, key, spike.start.isoformat()),
                rule=rule.name,
                kind="spike",
                mention_id=top.id if top else "",
                recipients=list(recipients),
                created_at=now,
                updated_at=now,
                summary=spike.headline(),
                sentiment="negative" if spike.kind == "negative_share" else "",
                url=top.url if top else None,
                mention_ids=[p.id for p in spike.posts],
                count=spike.count,
                dedup_keys=[f"{key}|{spike.start.isoformat()}"],
                group_key=key,
                topic=spike.topic,
                details={
                    "explanation": spike.explanation(),
                    "kind": spike.kind,
                    "minutes": int((spike.end - spike.start).total_seconds() // 60),
                    "method": "same hour of week",
                    "history": spike.history,
                    "threshold": round(spike.threshold, 2),
                    "negative": spike.negative,
                    "baseline_share": round(spike.baseline_share, 3),
                },
            )
        )
    return alerts
