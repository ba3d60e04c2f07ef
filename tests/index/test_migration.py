"""`ecoute index migrate` on the stand-in: an old single-index installation, or the period indices of
the mapping before the lean one (schema version 1), into period indices of this schema version."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from core.documents import Alert, Mention
from index.alerts import ALERTS, acknowledge_alert, alerts_for, create_alerts, get_alert
from index.bulk import create_documents
from index.client import IndexNames
from index.mappings import mapping_for
from index.mention_search import MentionFilter, search_mentions
from index.mentions import count_mentions, index_mentions
from index.migration import CURSOR, legacy_indices, migrate_to_periods
from index.periods import (
    MENTIONS,
    is_current,
    mention_index,
    mention_indices,
    period_bounds,
    period_counts,
    period_index,
    period_indices,
    period_of,
)
from index.state import get_state
from tests.factories import make_mention
from tests.index.test_alert_periods import make_alert
from tests.test_cli import run

NOW = datetime.now(UTC)
V1_MAPPING = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "index" / "mentions-mapping-v1.json").read_text("utf-8")
)


def old_layout(es: Elasticsearch, names: IndexNames, count: int) -> list[Mention]:
    """The mentions in one `<alias>-v1` index, as Écoute made them before period indices."""
    es.indices.delete(index=",".join(mention_indices(es, names)))
    alias = MENTIONS.alias(names)
    old = f"{alias}-v1"
    es.indices.create(index=old, aliases={alias: {"is_write_index": True}}, mappings=V1_MAPPING)
    mentions = [make_mention(f"old{i}", created_at=NOW - timedelta(days=9 * i)) for i in range(count)]
    create_documents(es, old, ((m.id, m) for m in mentions))
    return mentions


def test_migration_resumes_where_it_stopped_and_checks_every_mention(es: Elasticsearch, names: IndexNames):
    mentions = old_layout(es, names, 30)
    # Before migrating, a post collected again is recognised in the old index: no second copy.
    assert index_mentions(es, names, mentions[:3]).duplicates == 3
    assert count_mentions(es, names) == 30

    first = migrate_to_periods(es, names, batch=10, max_batches=1)  # interrupted after one page
    assert not first.finished and first.copied == 10
    assert get_state(es, names, CURSOR) is not None
    assert (
        count_mentions(es, names, MentionFilter(since=NOW - timedelta(days=400))) == 30
    )  # reads still whole

    second = migrate_to_periods(es, names, batch=10)
    assert second.finished and second.copied == 20 and second.already == 0
    assert (second.expected, second.missing, second.removed) == (30, 0, True)
    assert legacy_indices(es, names) == [] and get_state(es, names, CURSOR) is None
    assert all(period_bounds(i) for i in mention_indices(es, names))
    assert sum(period_counts(es, names).values()) == 30 == count_mentions(es, names)
    oldest = mentions[-1]
    assert es.get(index=mention_index(names, oldest.created_at), id=oldest.id)["found"]
    window = MentionFilter(
        since=oldest.created_at - timedelta(hours=1), until=oldest.created_at + timedelta(hours=1)
    )
    assert [h.mention.id for h in search_mentions(es, names, window).hits] == [oldest.id]
    assert migrate_to_periods(es, names).old == []  # nothing left to do


def test_migration_tells_the_mentions_copied_batch_by_batch_then_those_checked(
    es: Elasticsearch, names: IndexNames
):
    old_layout(es, names, 25)
    first = migrate_to_periods(es, names, batch=10, max_batches=1)
    assert first.copied == 10
    heard: list[tuple[str, int, int | None]] = []
    report = migrate_to_periods(es, names, batch=10, progress=lambda *told: heard.append(told))
    assert report.finished and report.copied == 15
    old = report.old[0]
    copied = [told for told in heard if told[0] == f"{old}: mentions copied"]
    assert copied == [(f"{old}: mentions copied", n, 15) for n in (0, 10, 15)]  # what was left after a stop
    checked = [told for told in heard if told[0] == f"{old}: mentions checked"]
    assert checked == [(f"{old}: mentions checked", n, 25) for n in (10, 20, 25)]


def test_cli_migrate_keeps_the_old_index_when_asked(
    es: Elasticsearch, names: IndexNames, settings_file: Path
):
    mentions = old_layout(es, names, 12)
    done = run("index", "migrate", "--keep-old", "--config", str(settings_file), cwd=settings_file.parent)
    assert done.returncode == 0, done.stderr
    assert (
        "migration done: 12 copied" in done.stdout
        and "0 missing" in done.stdout
        and "old index kept" in done.stdout
    )
    assert es.count(index=f"{MENTIONS.alias(names)}-v1")["count"] == 12
    status = run("index", "status", "--config", str(settings_file), cwd=settings_file.parent)
    assert status.returncode == 0, status.stderr
    this_month = sum(1 for m in mentions if mention_index(names, m.created_at) == mention_index(names, NOW))
    layout = "1 shard, 0 replicas, no lifecycle policy"
    assert f"{mention_index(names, NOW)}: {this_month} mentions, {layout}" in status.stdout
    assert f"{period_index(ALERTS, names, NOW)}: 0 alerts, {layout}" in status.stdout  # the alerts' too
    assert f"new indices (one per month): {layout}" in status.stdout
    assert f"{MENTIONS.alias(names)}-v1:" not in status.stdout  # kept aside, not read
    assert count_mentions(es, names) == 12


def v1_periods(es: Elasticsearch, names: IndexNames, mentions: list[Mention]) -> list[str]:
    """These mentions in month indices of schema version 1 (the mapping before the lean one)."""
    es.indices.delete(index=",".join(mention_indices(es, names)))
    made = []
    for mention in mentions:
        index = f"{MENTIONS.alias(names)}-v1-{period_of(mention.created_at, names.granularity)}"
        if index not in made:
            es.indices.create(index=index, aliases={MENTIONS.alias(names): {}}, mappings=V1_MAPPING)
            made.append(index)
        create_documents(es, index, [(mention.id, mention)])
    return made


def test_period_indices_of_the_older_mapping_are_read_then_copied_into_lean_ones(
    es: Elasticsearch, names: IndexNames
):
    mentions = [
        make_mention(f"v1-{i}", created_at=NOW - timedelta(days=20 * i), text=f"Panne de la box Lumio n°{i}")
        for i in range(8)
    ]
    old = v1_periods(es, names, mentions)
    assert legacy_indices(es, names) == sorted(old) and not any(is_current(i) for i in old)
    # Before migrating: searched as before, and a post collected again is found where it is.
    assert count_mentions(es, names, MentionFilter(query="panne", since=NOW - timedelta(days=200))) == 8
    assert index_mentions(es, names, mentions[:2]).duplicates == 2
    index_mentions(es, names, [make_mention("new", text="Panne encore")])  # goes to a lean index
    assert count_mentions(es, names) == 9

    report = migrate_to_periods(es, names, batch=3)
    assert (
        report.finished and (report.copied, report.expected, report.missing) == (8, 8, 0) and report.removed
    )
    assert all(is_current(i) for i in mention_indices(es, names))
    assert count_mentions(es, names) == 9
    assert count_mentions(es, names, MentionFilter(query="panne", since=NOW - timedelta(days=200))) == 9
    oldest = mentions[-1]
    stored = es.get(index=mention_index(names, oldest.created_at), id=oldest.id)["_source"]
    assert Mention.model_validate(stored) == oldest  # fields kept unindexed come back whole
    mapping = es.indices.get_mapping(index=mention_index(names, oldest.created_at))
    properties = next(iter(mapping.values()))["mappings"]["properties"]
    assert properties["native_id"] == {"type": "object", "enabled": False}
    assert "fields" not in properties["text"]
    assert migrate_to_periods(es, names).line().startswith("nothing to migrate")


def old_alerts_layout(es: Elasticsearch, names: IndexNames, count: int) -> list[Alert]:
    """Alerts in the one `<alias>-v1` index Écoute made before alerts had period indices."""
    es.indices.delete(index=",".join(period_indices(es, names, ALERTS)))
    alias = ALERTS.alias(names)
    old = f"{alias}-v1"
    es.indices.create(index=old, aliases={alias: {"is_write_index": True}}, mappings=mapping_for(Alert))
    alerts = [make_alert(f"old{i}", NOW - timedelta(days=25 * i)) for i in range(count)]
    create_documents(es, old, ((a.id, a) for a in alerts))
    return alerts


def test_the_single_alerts_index_is_read_then_copied_into_period_indices(
    es: Elasticsearch, names: IndexNames
):
    alerts = old_alerts_layout(es, names, 7)
    oldest = alerts[-1]
    # Before migrating: listed, got by a link's id, acknowledged in place, and never raised twice.
    assert legacy_indices(es, names, ALERTS) == [f"{ALERTS.alias(names)}-v1"]
    assert get_alert(es, names, oldest.id) == oldest
    assert acknowledge_alert(es, names, oldest.id, "cm@lumio.example", NOW)
    assert create_alerts(es, names, [oldest.model_copy(update={"created_at": NOW})]) == set()
    fresh = make_alert("fresh", NOW)
    assert create_alerts(es, names, [fresh]) == {fresh.id}  # new alerts already go to this month's index
    assert len(alerts_for(es, names, size=100)) == 8

    first = migrate_to_periods(es, names, batch=3, max_batches=1)  # interrupted after one page
    assert not first.finished and first.copied == 3
    assert len(alerts_for(es, names, size=100)) == 8  # the old index is still read: nothing counted twice
    second = migrate_to_periods(es, names, batch=3)
    assert second.finished and second.copied == 4 and (second.expected, second.missing) == (7, 0)
    assert second.removed and legacy_indices(es, names, ALERTS) == []
    assert all(period_bounds(i) and is_current(i) for i in period_indices(es, names, ALERTS))
    assert sum(period_counts(es, names, ALERTS).values()) == 8
    assert es.get(index=period_index(ALERTS, names, oldest.created_at), id=oldest.id)["found"]
    copied = get_alert(es, names, oldest.id)
    assert copied and copied.status == "acknowledged"  # the copy is the alert as it was last written
    assert [
        a.id
        for a in alerts_for(es, names, since=oldest.created_at, until=oldest.created_at + timedelta(hours=1))
    ] == [oldest.id]
