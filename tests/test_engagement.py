"""Posts that change: a refresh re-reads recent posts and updates their counts, reach and edits in place.

A real local server answers like Mastodon with recorded statuses (Mastodon.py's cassettes) whose counts
are changed between runs; the engine writes to the Elasticsearch stand-in over HTTP.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from elasticsearch import Elasticsearch

from core.documents import MAX_EDITS, Mention, RawPost
from core.errors import ConfigError
from ecoute.config import load_settings
from ecoute.engine import Engine, RunReport
from ecoute.health import source_health
from ecoute.privacy import Person
from ecoute.scheduler import schedule_jobs
from index.aggregations import top_authors
from index.alerts import alerts_for
from index.client import IndexNames
from index.customers import upsert_customers
from index.engagement import changes
from index.mention_search import MentionFilter
from index.mentions import get_mention, get_mentions_versioned
from index.state import source_states
from index.triage import update_triage
from nlp.linking import CustomerDirectory
from nlp.pipeline import mention_id
from tests.collectors.stream_servers import LocalHttpServer, Reply, Seen, fixture_json
from tests.conftest import write_config
from tests.factories import make_customer

TAG_PATH = "/api/v1/timelines/tag/hoot"


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Mastodon:
    """The hashtag timeline and statuses' contexts, from recorded statuses the test may change."""

    def __init__(self, server: LocalHttpServer) -> None:
        self.server = server
        now = datetime.now(UTC)
        hoot = fixture_json("mastodon", "recorded", "mastodonpy_timelines_tag_hoot.json")[0]
        self.recent = {**copy.deepcopy(hoot), "created_at": _iso(now - timedelta(days=1))}
        old = copy.deepcopy(hoot)  # the same real status, published a month ago under another id
        old.update(id="109440153064280001", created_at=_iso(now - timedelta(days=30)))
        old["content"] = "<p>#hoot from last month</p>"
        self.old = old
        self.replies: list[dict[str, Any]] = []
        server.route(TAG_PATH, self._timeline)
        server.route(f"/api/v1/statuses/{self.recent['id']}/context", self._context)

    def _timeline(self, seen: Seen) -> Reply:
        return Reply(body=[self.recent, self.old])

    def _context(self, seen: Seen) -> Reply:
        return Reply(body={"ancestors": [], "descendants": self.replies})

    def source(self, **extra: Any) -> dict[str, Any]:
        return {
            "name": "masto", "type": "mastodon", "instance": self.server.url, "hashtags": ["hoot"],
            "local": True, "requests_per_second": 1000, "jitter_seconds": 0, "max_pages": 1, **extra,
        }  # fmt: skip


@pytest.fixture
def mastodon() -> Iterator[Mastodon]:
    with LocalHttpServer() as server:
        yield Mastodon(server)


def engine_for(tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, *sources: dict) -> Engine:
    settings = load_settings(write_config(tmp_path, es_server.url, names.prefix, sources=list(sources)))
    engine = Engine(settings, es, names)
    engine.prepare()
    return engine


def recent_id(mastodon: Mastodon) -> str:
    return mention_id("masto", mastodon.recent["id"])


def test_a_refresh_updates_counts_in_place_and_never_touches_triage_links_labels_or_text(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    upsert_customers(es, names, [make_customer("C1", handles=["mastodonpy_test"])])
    engine = engine_for(tmp_path, es_server, es, names, mastodon.source())
    first = engine.collect("masto")
    assert (first.indexed, first.updated, first.error) == (2, 0, None)
    mention_key = recent_id(mastodon)
    read = get_mentions_versioned(es, names, [mention_key])[mention_key]
    update_triage(
        es, names, mention_key, {"status": "closed", "note": "answered by phone"}, "cm", read.seq_no,
        read.primary_term,
    )  # fmt: skip
    before = get_mention(es, names, mention_key)
    assert before is not None and before.customer_id == "C1"
    old_before = get_mention(es, names, mention_id("masto", mastodon.old["id"]))

    for status in (mastodon.recent, mastodon.old):
        status.update(favourites_count=5, reblogs_count=2)
        status["account"] = {**status["account"], "followers_count": 1200}
    engine.directory = CustomerDirectory()  # a re-enrichment would now lose the link: none must happen
    refreshed = engine.collect("masto", refresh=True)

    assert (refreshed.indexed, refreshed.duplicates, refreshed.updated) == (0, 1, 1), refreshed.line()
    after = get_mention(es, names, mention_key)
    assert after is not None
    assert (after.engagement.likes, after.engagement.shares, after.author.followers) == (5, 2, 1200)
    assert after.refreshed_at is not None and after.edits == []
    unchanged = {"status", "triage", "history", "link", "customer_id", "sentiment", "intent", "text", "raw"}
    assert after.model_dump(include=unchanged) == before.model_dump(include=unchanged)
    # Outside refresh_days (7 by default) nothing is re-read, so nothing moves.
    assert get_mention(es, names, mention_id("masto", mastodon.old["id"])) == old_before
    # Insights read the stored counts: the author's reach is the current one.
    (author,) = top_authors(es, names, MentionFilter(sources=["masto"]))
    assert (author.handle, author.followers) == ("mastodonpy_test", 1200)


def test_an_edited_post_keeps_its_first_text_and_each_edit_with_when_it_was_seen(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    engine = engine_for(tmp_path, es_server, es, names, mastodon.source())
    engine.collect("masto")
    first_text = get_mention(es, names, recent_id(mastodon)).text  # type: ignore[union-attr]
    mastodon.recent["content"] = "<p>#hoot (hashtag toot), edited: cc @admin</p>"
    seen_from = datetime.now(UTC)
    report = engine.collect("masto", refresh=True)
    assert report.updated == 1
    again = engine.collect("masto", refresh=True)  # the same edit read twice is one edit
    assert again.updated == 0
    stored = get_mention(es, names, recent_id(mastodon))
    assert stored is not None and stored.text == first_text
    (edit,) = stored.edits
    assert edit.text == "#hoot (hashtag toot), edited: cc @admin"
    assert seen_from <= edit.seen_at <= datetime.now(UTC)


def test_at_most_ten_edits_are_kept_newest_last():
    post = RawPost(source="s", platform="p", native_id="1", text="v0", created_at=datetime.now(UTC))
    stored = _as_mention(post)
    for version in range(1, MAX_EDITS + 3):
        fresh = _as_mention(post.model_copy(update={"text": f"v{version}"}))
        doc = changes(stored, fresh, datetime.now(UTC))
        assert doc is not None
        stored = Mention.model_validate({**stored.model_dump(), "edits": doc["edits"]})
    assert [e.text for e in stored.edits] == [f"v{n}" for n in range(3, MAX_EDITS + 3)]
    assert stored.text == "v0"


def _as_mention(post: RawPost) -> Mention:
    from nlp.pipeline import unenriched

    return unenriched(post)


def test_an_unchanged_post_writes_nothing(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    engine = engine_for(tmp_path, es_server, es, names, mastodon.source())
    engine.collect("masto")
    key = recent_id(mastodon)
    version = get_mentions_versioned(es, names, [key])[key]
    report = engine.collect("masto", refresh=True)
    assert (report.duplicates, report.updated, report.indexed) == (1, 0, 0)
    now = get_mentions_versioned(es, names, [key])[key]
    assert (now.seq_no, now.primary_term) == (version.seq_no, version.primary_term)


def test_a_refresh_reads_new_replies_of_active_posts(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    engine = engine_for(tmp_path, es_server, es, names, mastodon.source(replies=True))
    assert engine.collect("masto").indexed == 2
    reply = fixture_json("mastodon", "recorded", "mastodonpy_status_reply.json")
    reply.update(in_reply_to_id=mastodon.recent["id"], created_at=_iso(datetime.now(UTC)))
    mastodon.replies = [reply]
    mastodon.recent["replies_count"] = 1
    report = engine.collect("masto", refresh=True)
    assert (report.indexed, report.updated) == (1, 1), report.line()
    stored = get_mention(es, names, mention_id("masto", reply["id"]))
    assert stored is not None and stored.thread.root_id == mastodon.recent["id"]
    assert get_mention(es, names, recent_id(mastodon)).engagement.replies == 1  # type: ignore[union-attr]


def test_updated_is_reported_in_the_health_record_and_by_the_command_line(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    config = write_config(tmp_path, es_server.url, names.prefix, sources=[mastodon.source()])
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    engine.collect("masto")
    mastodon.recent["favourites_count"] = 9
    command = [sys.executable, "-m", "ecoute", "collect", "masto", "--refresh", "--config", str(config)]
    ran = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    assert "masto (refresh): 1 fetched, 0 new, 1 already indexed, 1 updated" in ran.stdout
    (health,) = source_health(engine.settings, {s.source: s.data for s in source_states(es, names)})
    assert (health.read, health.new, health.updated, health.run_kind) == (1, 0, 1, "refresh")
    listed = subprocess.run(
        [sys.executable, "-m", "ecoute", "sources", "--json", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["name"], row["updated"], row["new"]) == ("masto", 1, 0)


def test_the_refresh_job_and_its_settings(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    engine = engine_for(
        tmp_path, es_server, es, names, mastodon.source(refresh_days=2, refresh_interval_seconds=3600)
    )
    jobs = {job.id: job for job in schedule_jobs(engine, BackgroundScheduler(timezone=UTC)).get_jobs()}
    assert jobs["refresh:masto"].trigger.interval == timedelta(hours=1)
    mastodon.recent["created_at"] = _iso(datetime.now(UTC) - timedelta(days=3))
    report = engine.collect("masto", refresh=True)  # both statuses are older than 2 days
    assert (report.fetched, report.indexed, report.error) == (0, 0, None)
    with pytest.raises(ConfigError, match="refresh_dayz: unknown key"):
        load_settings(
            write_config(tmp_path, es_server.url, names.prefix, sources=[mastodon.source(refresh_dayz=3)])
        )
    with pytest.raises(ConfigError, match="refresh_days"):
        load_settings(
            write_config(tmp_path, es_server.url, names.prefix, sources=[mastodon.source(refresh_days=-1)])
        )
    sample = load_settings(write_config(tmp_path, es_server.url, names.prefix))
    with pytest.raises(ConfigError, match="is not refreshed"):
        Engine(sample, es, names).collect("sample", refresh=True)
    assert not [j for j in schedule_jobs(Engine(sample, es, names), BackgroundScheduler()).get_jobs()
                if j.id.startswith("refresh:")]  # fmt: skip


def test_erasure_reaches_the_words_of_an_edit(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, mastodon: Mastodon
):
    engine = engine_for(tmp_path, es_server, es, names, mastodon.source())
    engine.collect("masto")
    mastodon.recent["content"] = "<p>#hoot (hashtag toot) cc @admin</p>"
    assert engine.collect("masto", refresh=True).updated == 1
    counts = engine.gdpr().erase(Person(handles=["admin"]))
    assert counts["mentions"] == 1
    assert get_mention(es, names, recent_id(mastodon)) is None
    assert get_mention(es, names, mention_id("masto", mastodon.old["id"])) is not None


OWNER = "claire.dubois@lumio.example"
ANGRY = "Lumio, votre service est nul, panne depuis trois jours, je suis furieuse !"


def angry_post(native_id: str, handle: str, followers: int = 40) -> RawPost:
    return RawPost(
        source="stream", platform="mastodon", native_id=native_id, text=f"{ANGRY} ({native_id})",
        url=f"https://mastodon.example/@x/{native_id}", created_at=datetime.now(UTC),
        author={"handle": handle, "display_name": handle, "followers": followers},
    )  # fmt: skip


def test_a_mixed_batch_alerts_each_new_mention_once_and_never_an_update_again(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames
):
    customers = [
        make_customer(f"C{n}", handles=[f"client{n}@mastodon.example"], owner_email=OWNER) for n in (1, 2, 3)
    ]
    upsert_customers(es, names, customers)
    engine = Engine(load_settings(write_config(tmp_path, es_server.url, names.prefix)), es, names)
    engine.prepare()
    first = RunReport(source="stream")
    engine.process([angry_post("p1", "client1@mastodon.example")], first)
    assert first.indexed == 1 and first.alerts >= 1
    alerted_once = len(alerts_for(es, names))

    # p1 again, its author now far more followed (and liked), between two new posts of other customers.
    known = angry_post("p1", "client1@mastodon.example", followers=90_000)
    known.engagement.likes = 300
    mixed = RunReport(source="stream")
    batch = [angry_post("p2", "client2@mastodon.example"), known]
    batch.append(angry_post("p3", "client3@mastodon.example"))
    engine.process(batch, mixed)
    assert (mixed.indexed, mixed.duplicates, mixed.updated) == (2, 1, 1)
    alerts = alerts_for(es, names)
    assert mixed.alerts == 2 * alerted_once and len(alerts) == 3 * alerted_once
    by_mention: dict[str, int] = {}
    for alert in alerts:
        for alerted in {alert.mention_id, *alert.mention_ids}:
            by_mention[alerted] = by_mention.get(alerted, 0) + 1
    assert by_mention == {mention_id("stream", p): alerted_once for p in ("p1", "p2", "p3")}
    # The same batch once more: all known and unchanged. p1's stored reach (90,000) now passes the shipped
    # influencer rule's min_followers, yet an update is never alerted: nothing is raised or written.
    again = RunReport(source="stream")
    engine.process(batch, again)
    assert (again.indexed, again.updated, again.alerts, len(alerts_for(es, names))) == (0, 0, 0, len(alerts))
