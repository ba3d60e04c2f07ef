"""Inbox assignee filter: anyone, me, nobody or one known user; saved searches keep it."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from core.documents import SavedSearch, Triage, document_id
from dashboard.text import t
from dashboard.triage import ANYONE, ME
from index.client import IndexNames
from index.mention_search import UNASSIGNED
from index.mentions import index_mentions
from index.searches import save_search
from tests.dashboard.test_pages import mention, texts

CM = "community@lumio.example"
ADMIN = "admin@lumio.example"


def seed(es: Elasticsearch, names: IndexNames) -> None:
    index_mentions(
        es,
        names,
        [
            mention("nobody", "Lumio, personne.", hours=1),
            mention("camille", "Lumio, pour Camille.", hours=2, triage=Triage(assignee=CM)),
            mention("admin", "Lumio, pour l'admin.", hours=3, triage=Triage(assignee=ADMIN)),
            mention("tagged", "Lumio, étiquetée.", hours=4, triage=Triage(tags=["box"])),
        ],
    )


def test_the_assignee_filter_shows_mine_nobodys_or_one_persons_mentions(
    es: Elasticsearch, names: IndexNames, dashboard
):
    seed(es, names)
    at = dashboard(as_user=CM)
    picker = at.sidebar.selectbox(key="inbox_assignee")
    assert picker.label == t("assignee")
    assert picker.options[:3] == [t("assignee_anyone"), t("assignee_me"), t("unassigned")]
    assert {"Camille Roux", "Admin Lumio"} <= set(picker.options[3:])  # the configured users, by name
    assert len(texts(at)) == 4

    picker.set_value(ME).run(timeout=30)
    assert texts(at) == ["Lumio, pour Camille."]
    at.sidebar.selectbox(key="inbox_assignee").set_value(UNASSIGNED).run(timeout=30)
    assert texts(at) == ["Lumio, personne.", "Lumio, étiquetée."]
    at.sidebar.selectbox(key="inbox_assignee").set_value(ADMIN).run(timeout=30)
    assert texts(at) == ["Lumio, pour l'admin."]
    at.sidebar.selectbox(key="inbox_assignee").set_value(ANYONE).run(timeout=30)
    assert len(texts(at)) == 4


def test_a_saved_search_keeps_unassigned(es: Elasticsearch, names: IndexNames, dashboard):
    seed(es, names)
    at = dashboard(as_user=CM)
    at.sidebar.selectbox(key="inbox_assignee").set_value(UNASSIGNED).run(timeout=30)
    at.sidebar.text_input(key="inbox_saved_name").input("À attribuer").run(timeout=30)
    at.sidebar.button(key="inbox_save_search").click().run(timeout=30)

    later = dashboard(as_user=CM)
    assert len(texts(later)) == 4
    later.sidebar.selectbox(key="inbox_saved").select("À attribuer").run(timeout=30)
    assert later.sidebar.selectbox(key="inbox_assignee").value == UNASSIGNED
    assert texts(later) == ["Lumio, personne.", "Lumio, étiquetée."]


def test_a_search_saved_before_the_assignee_filter_still_loads(
    es: Elasticsearch, names: IndexNames, dashboard
):
    seed(es, names)
    for name, filters in (("Mine", {"inbox_mine": True}), ("Negative", {"inbox_sentiment": ["negative"]})):
        save_search(
            es,
            names,
            SavedSearch(
                id=document_id("saved-search", CM, name.casefold()),
                owner=CM,
                name=name,
                filters=filters,
                created_at=datetime.now(UTC),
            ),
        )
    at = dashboard(as_user=CM)
    at.sidebar.selectbox(key="inbox_saved").select("Mine").run(timeout=30)
    assert not at.exception
    assert at.sidebar.selectbox(key="inbox_assignee").value == ME  # "assigned to me" then
    assert texts(at) == ["Lumio, pour Camille."]
    at.sidebar.selectbox(key="inbox_saved").select("Negative").run(timeout=30)
    assert at.sidebar.selectbox(key="inbox_assignee").value == ANYONE
    assert texts(at) == []
