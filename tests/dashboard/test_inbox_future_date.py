"""The Inbox says when a post claimed a date in the future (it is listed by when it was collected)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from dashboard.text import t
from ecoute.config import load_settings
from ecoute.engine import Engine
from index.client import IndexNames
from tests.dashboard.test_pages import shown
from tests.reliability.conftest import posts_config, write_posts


def test_the_inbox_flags_a_post_dated_in_the_future(
    tmp_path: Path, es_server, es: Elasticsearch, names: IndexNames, dashboard
):
    folder = tmp_path / "engine"
    folder.mkdir()
    posts = [
        {
            "native_id": "future",
            "platform": "news",
            "author": {"handle": "time-traveller"},
            "text": "Lumio, le futur est là.",
            "created_at": datetime(9999, 12, 31, tzinfo=UTC).isoformat(),
        }
    ]
    config = posts_config(folder, es_server.url, names.prefix, write_posts(folder / "p.jsonl", posts))
    engine = Engine(load_settings(config), es, names)
    engine.prepare()
    assert engine.collect("posts").indexed == 1

    page = shown(dashboard())
    assert t("flag_future_date") in page and t("date_claimed", date="9999-12-31") in page
