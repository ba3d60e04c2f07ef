"""The Inbox's keyboard shortcuts, listed under `?` in the reader's language. The keys themselves are
pressed in Chromium (tests/browser/test_dashboard_in_chromium.py, the community manager's day)."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from dashboard.shortcuts import SHORTCUTS
from dashboard.text import STRINGS
from index.client import IndexNames
from index.mentions import index_mentions
from tests.dashboard.test_pages import mention

CM = "community@lumio.example"


def shortcut_list(at, language: str) -> list[str]:
    (expander,) = [e for e in at.expander if e.label == STRINGS[language]["shortcuts_title"]]
    return [line for md in expander.markdown for line in md.value.splitlines()]


def test_the_inbox_lists_every_shortcut_in_english_and_in_french(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio en panne.", hours=1)])
    at = dashboard(as_user=CM)
    for language in ("en", "fr"):
        at.session_state["language"] = language
        at.run(timeout=30)
        strings = STRINGS[language]
        assert shortcut_list(at, language) == [f"- `{key}` {strings[action]}" for key, action in SHORTCUTS]
    assert [key for key, _ in SHORTCUTS] == ["j", "k", "a", "c", "o", "r", "?"]


def test_those_who_do_not_triage_are_not_offered_the_triage_keys(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio en panne.", hours=1)])
    at = dashboard(as_user="marketing@lumio.example")
    keys = [line.split("`")[1] for line in shortcut_list(at, "en")]
    assert keys == ["j", "k", "o", "?"]
