"""A post that claims a date in the future is dated when it was collected, flagged, and keeps its claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from core.documents import RawPost
from ecoute.config import load_settings
from ecoute.engine import NOT_ENRICHED, Engine
from index.client import IndexNames
from index.mention_search import MentionFilter, search_mentions
from index.mentions import get_mention
from nlp.pipeline import unenriched
from tests.reliability.conftest import posts_config, write_posts

FAR_FUTURE = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)


def post(native_id: str, text: str, created_at: datetime) -> dict:
    return {
        "native_id": native_id,
        "platform": "news",
        "author": {"handle": f"author-{native_id}"},
        "text": text,
        "created_at": created_at.isoformat(),
    }


def run(tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, name: str, posts: list[dict]):
    folder = tmp_path / name
    folder.mkdir()
    config = posts_config(folder, es_server.url, names.prefix, write_posts(folder / "p.jsonl", posts))
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    return engine.collect("posts")


def test_a_post_dated_9999_does_not_stay_on_top_of_the_inbox(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames
):
    now = datetime.now(UTC)
    soon = now + timedelta(hours=6)  # a clock or time zone off by hours: believed
    first = run(
        tmp_path,
        es_server,
        es,
        names,
        "first",
        [
            post("future", "Lumio, le futur est là.", FAR_FUTURE),
            post("soon", "Lumio ouvre demain matin.", soon),
            post("old", "Lumio, hier soir.", now - timedelta(hours=20)),
        ],
    )
    assert first.indexed == 3
    later = run(tmp_path, es_server, es, names, "later", [post("later", "Lumio répond.", datetime.now(UTC))])
    assert later.indexed == 1

    hits = [h.mention for h in search_mentions(es, names, MentionFilter()).hits]
    assert [m.native_id for m in hits] == ["soon", "later", "future", "old"]
    future = hits[2]
    assert future.published_claimed == FAR_FUTURE and future.flags == ["future_date"]
    assert future.created_at == future.collected_at < hits[1].created_at
    assert hits[0].created_at == soon and hits[0].published_claimed is None and hits[0].flags == []
    shown = search_mentions(es, names, MentionFilter(hide_noise=True)).hits
    assert "future" in [h.mention.native_id for h in shown]  # a wrong date is not a duplicate or spam


def test_a_future_post_retried_from_the_dead_letters_is_dated_and_flagged_again(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames
):
    config = posts_config(tmp_path, es_server.url, names.prefix, write_posts(tmp_path / "p.jsonl", []))
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    raw = RawPost(
        source="posts", platform="news", native_id="future", text="Lumio, demain.", created_at=FAR_FUTURE
    )
    letter = unenriched(raw)  # what a post no model could read waits as
    assert letter.created_at == raw.collected_at and letter.published_claimed == FAR_FUTURE
    engine.dead_letters.add(
        [(letter.id, "posts", f"{NOT_ENRICHED}: TypeError", letter.model_dump(mode="json"))]
    )

    assert engine.retry_dead_letters() == (1, 0)
    stored = get_mention(es, names, letter.id)
    assert stored is not None and stored.model == "fast"  # enriched again from its post
    assert stored.created_at == raw.collected_at and stored.published_claimed == FAR_FUTURE
    assert stored.flags == ["future_date"]
