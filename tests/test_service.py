"""Service targets and the team's figures: exact on hand-built histories, and read from the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.documents import Alert, AlertTimes, Handled, Label, TriageChange
from core.errors import ConfigError
from ecoute.config import load_settings
from ecoute.service import ServiceTargets, p90, team_stats
from index.alerts import ALERTS, create_alerts
from index.client import IndexNames
from index.mention_search import MentionFilter, past_target_of, search_mentions
from index.mentions import index_mentions
from index.team import alert_times, handled_mentions
from tests.conftest import write_config
from tests.factories import make_mention

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
ANA, BEN = "ana@lumio.example", "ben@lumio.example"


def change(hours: float, by: str, new: str, field: str = "status", old: str | None = None) -> TriageChange:
    return TriageChange(at=T0 + timedelta(hours=hours), by=by, field=field, old=old, new=new)


def item(n: int, *changes: TriageChange, status: str = "new", intent: str = "complaint", **kw) -> Handled:
    return Handled(
        id=f"m{n}",
        source=kw.get("source", "mastodon"),
        intent=intent,
        team=kw.get("team"),
        collected_at=T0,
        status=status,
        history=list(changes),
    )


def test_p90_is_the_nearest_rank():
    assert p90([float(v) for v in range(1, 11)]) == 9.0
    assert p90([5.0, 1.0, 3.0]) == 5.0
    assert p90([]) is None


def test_figures_per_person_source_and_intent_are_exact():
    items = [
        item(
            1, change(0, "routing:r", "support", "team"), change(1, ANA, "in_progress"), status="in_progress"
        ),
        item(2, change(2, ANA, "answered"), status="answered"),
        item(3, change(3, BEN, "in_progress"), change(7, BEN, "closed"), status="closed", source="reddit"),
        item(4, change(4, BEN, "answered"), change(5, BEN, "new"), status="new", intent="question"),
        item(5, change(6, ANA, "ignored"), status="ignored", intent="spam"),  # needs no answer
        item(6, intent="question"),  # nobody yet
    ]
    stats = team_stats(items, [], ServiceTargets(), T0, T0 + timedelta(days=1))
    rows = {(r.dimension, r.key): r for r in stats.rows}

    ana, ben = rows[("person", ANA)], rows[("person", BEN)]
    assert (ana.responded, ana.response_median_h, ana.response_p90_h) == (2, 1.5, 2.0)
    assert (ana.closed, ana.close_median_h) == (2, 4.0)  # m2 answered at 2h, m5 ignored at 6h
    assert (ben.responded, ben.response_median_h, ben.response_p90_h) == (2, 3.5, 4.0)
    assert (ben.closed, ben.close_median_h, ben.close_p90_h) == (1, 7.0, 7.0)  # m4 was reopened
    assert ana.mentions == 3 and ben.mentions == 2

    complaint = rows[("intent", "complaint")]
    assert (complaint.mentions, complaint.responded, complaint.response_rate) == (3, 3, 1.0)
    assert (complaint.response_median_h, complaint.close_median_h) == (2.0, 4.5)
    assert rows[("intent", "question")].response_rate == 0.5
    assert rows[("intent", "spam")].response_rate is None  # ignored without a response: not counted
    assert rows[("source", "reddit")].close_median_h == 7.0
    assert (stats.mentions, stats.responded, stats.response_rate) == (5, 4, 0.8)


def test_the_backlog_follows_the_history_and_routing_is_nobodys_response():
    items = [
        item(1, change(0, "routing:r", "in_progress"), change(30, ANA, "answered"), status="answered"),
        item(2, change(10, ANA, "closed"), status="closed"),
        Handled("old", "x", "other", None, T0 - timedelta(days=3), "new"),  # collected before: backlog only
    ]
    stats = team_stats(items, [], ServiceTargets(), T0, T0 + timedelta(days=2))
    assert stats.backlog == [(T0 + timedelta(days=1), 2), (T0 + timedelta(days=2), 1)]
    rows = {(r.dimension, r.key): r for r in stats.rows}
    assert rows[("person", ANA)].response_median_h == 30.0
    assert stats.mentions == 2


def test_alerts_acknowledged_within_their_target():
    targets = ServiceTargets(complaint="2h", question="8h")
    alerts = [
        AlertTimes("complaint", T0, T0 + timedelta(hours=1)),
        AlertTimes("complaint", T0, T0 + timedelta(hours=3)),
        AlertTimes("question", T0, T0 + timedelta(hours=3)),
        AlertTimes("complaint", T0, None),
        AlertTimes("praise", T0, None),  # no target: not counted
    ]
    stats = team_stats([], alerts, targets, T0, T0 + timedelta(days=1))
    assert (stats.alerts_within_target, stats.alerts_with_target) == (2, 4)
    strict = team_stats([], alerts, ServiceTargets(complaint="2h", alerts="30m"), T0, T0 + timedelta(days=1))
    assert (strict.alerts_within_target, strict.alerts_with_target) == (0, 5)


def test_targets_are_validated_durations(tmp_path: Path):
    targets = ServiceTargets(complaint="2h", question="1.5d", purchase="45m")
    assert targets.by_intent() == {
        "complaint": timedelta(hours=2),
        "question": timedelta(hours=36),
        "purchase": timedelta(minutes=45),
    }
    for bad, problem in (
        ({"complaint": "2 hours"}, r"service_targets\.complaint: .*'2 hours' is not a duration"),
        ({"complaint": "0h"}, r"service_targets\.complaint: .*longer than zero"),
        ({"complaints": "2h"}, r"service_targets\.complaints: unknown key"),
    ):
        config = write_config(tmp_path, "http://127.0.0.1:9", "svc", service_targets=bad)
        with pytest.raises(ConfigError, match=problem):
            load_settings(config)


def test_past_target_finds_untriaged_mentions_older_than_their_intents_target(
    es: Elasticsearch, names: IndexNames
):
    now = datetime.now(UTC)

    def aged(native_id: str, intent: str, hours: float, status: str = "new"):
        at = now - timedelta(hours=hours)
        label = Label(label=intent, confidence=0.9)
        return make_mention(native_id, intent=label, created_at=at, collected_at=at, status=status)

    index_mentions(
        es,
        names,
        [
            aged("late-complaint", "complaint", 3),
            aged("fresh-complaint", "complaint", 1),
            aged("answered-complaint", "complaint", 5, status="answered"),
            aged("fresh-question", "question", 5),
            aged("late-question", "question", 9),
            aged("old-praise", "praise", 100),  # no target
        ],
    )
    targets = ServiceTargets(complaint="2h", question="8h")
    flt = MentionFilter(past_target=past_target_of(targets.by_intent()))
    found = sorted(h.mention.native_id for h in search_mentions(es, names, flt).hits)
    assert found == ["late-complaint", "late-question"]


def test_the_history_and_alert_times_are_read_page_by_page(es: Elasticsearch, names: IndexNames):
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    until = since + timedelta(days=2)
    history = [TriageChange(at=since + timedelta(hours=2), by=ANA, field="status", old="new", new="answered")]
    inside = [
        make_mention(f"in-{i}", collected_at=since + timedelta(hours=1), status="answered", history=history)
        for i in range(7)
    ]
    before = [
        # still open: in the backlog; written months before, so it sits in another period index
        make_mention(
            "before-open", collected_at=since - timedelta(days=5), created_at=since - timedelta(days=70)
        ),
        make_mention("before-closed", collected_at=since - timedelta(days=5), status="closed"),
        make_mention("after", collected_at=until + timedelta(hours=1)),
    ]
    index_mentions(es, names, [*inside, *before])
    found = handled_mentions(es, names, since, until, page_size=3)
    assert sorted(h.id for h in found) == sorted([m.id for m in inside] + [before[0].id])
    one = next(h for h in found if h.id == inside[0].id)
    assert (one.status, one.intent, one.collected_at, one.history) == (
        "answered",
        "other",
        since + timedelta(hours=1),
        history,
    )

    alert = Alert(
        id="a1",
        rule="r",
        mention_id=inside[0].id,
        recipients=[ANA],
        created_at=since + timedelta(hours=1),
        summary="s",
        intent="complaint",
        status="acknowledged",
        acknowledged_at=since + timedelta(hours=2),
    )
    create_alerts(es, names, [alert])
    es.indices.refresh(index=ALERTS.alias(names))
    assert alert_times(es, names, since, until) == [
        AlertTimes("complaint", since + timedelta(hours=1), since + timedelta(hours=2))
    ]
