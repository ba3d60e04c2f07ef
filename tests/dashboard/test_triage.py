"""Triage in the inbox, with AppTest against the real stand-in: saved, recorded, never silently lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from core.documents import document_id
from dashboard.text import plural, t
from dashboard.triage import ANYONE, ME
from index.client import IndexNames
from index.mentions import get_mention, index_mentions
from tests.dashboard.helpers import open_triage
from tests.dashboard.test_pages import mention, shown, unescaped

CM = "community@lumio.example"
ADMIN = "admin@lumio.example"
MARKETER = "marketing@lumio.example"


def mid(native_id: str) -> str:
    return document_id("test", native_id)


def save_button(at: AppTest, mention_id: str):
    (button,) = [b for b in at.button if b.proto.form_id == f"triage_form_{mention_id}"]
    return button


def test_a_triage_change_is_saved_and_recorded_with_who_and_when(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Ma box Lumio clignote.", hours=1)])
    at = dashboard(as_user=CM)
    a = mid("a")
    assert not at.get("selectbox") or not [s for s in at.selectbox if s.key == f"triage_status_{a}"]
    open_triage(at, a)
    at.selectbox(key=f"triage_status_{a}").set_value("answered")
    at.selectbox(key=f"triage_assignee_{a}").set_value(CM)
    at.text_input(key=f"triage_tags_{a}").input("box, outage, box")
    at.text_area(key=f"triage_note_{a}").input("Called back, technician on Monday.")
    before = datetime.now(UTC).replace(microsecond=0)
    save_button(at, a).click().run(timeout=30)

    assert not at.exception and not at.warning
    assert [s.value for s in at.success] == [t("triage_saved")]
    saved = get_mention(es, names, a)
    assert saved.status == "answered"
    assert (saved.triage.assignee, saved.triage.tags) == (CM, ["box", "outage"])
    assert saved.triage.note == "Called back, technician on Monday."
    assert saved.triage.updated_by == CM and saved.triage.updated_at >= before
    assert {(c.field, c.old, c.new) for c in saved.history} == {
        ("status", "new", "answered"),
        ("assignee", None, CM),
        ("tags", None, "box, outage"),
        ("note", None, "Called back, technician on Monday."),
    }
    assert all(c.by == CM and c.at >= before for c in saved.history)
    page = shown(at)
    assert f"{t('status')}: answered" in page  # the card's badge shows the new status
    assert f"Camille Roux · {t('status')}: new → answered" in page  # the history names who


def test_a_second_editor_is_told_who_changed_it_and_overwrites_nothing(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Ma box Lumio clignote.", hours=1)])
    a = mid("a")
    camille, admin = dashboard(as_user=CM), dashboard(as_user=ADMIN)  # both open the inbox
    open_triage(admin, a)
    open_triage(camille, a)

    admin.selectbox(key=f"triage_status_{a}").set_value("closed")
    save_button(admin, a).click().run(timeout=30)
    camille.selectbox(key=f"triage_status_{a}").set_value("answered")
    save_button(camille, a).click().run(timeout=30)

    (warning,) = camille.warning
    at = get_mention(es, names, a).triage.updated_at.strftime("%H:%M")
    assert unescaped(warning.value) == t("triage_conflict", by="Admin Lumio", at=at)
    saved = get_mention(es, names, a)
    assert saved.status == "closed"
    assert [(c.by, c.new) for c in saved.history] == [(ADMIN, "closed")]

    camille.button(key=f"triage_reload_{a}").click().run(timeout=30)
    assert not camille.warning
    assert camille.selectbox(key=f"triage_status_{a}").value == "closed"
    camille.selectbox(key=f"triage_status_{a}").set_value("answered")
    save_button(camille, a).click().run(timeout=30)
    assert get_mention(es, names, a).status == "answered"


def test_bulk_actions_change_every_selected_mention(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            mention("a", "Lumio un.", hours=1),
            mention("b", "Lumio deux.", hours=2),
            mention("c", "Lumio trois.", 3),
        ],
    )
    at = dashboard(as_user=CM)
    at.checkbox(key=f"triage_pick_{mid('a')}").check().run(timeout=30)
    at.checkbox(key=f"triage_pick_{mid('c')}").check().run(timeout=30)
    at.selectbox(key="triage_bulk_status").set_value("in_progress")
    at.selectbox(key="triage_bulk_assignee").set_value(CM)
    at.text_input(key="triage_bulk_tag").input("outage")
    (apply,) = [b for b in at.button if b.label == t("bulk_apply")]
    apply.click().run(timeout=30)

    assert [s.value for s in at.success] == [plural("bulk_done", 2)]
    for native_id in ("a", "c"):
        saved = get_mention(es, names, mid(native_id))
        assert (saved.status, saved.triage.assignee, saved.triage.tags) == ("in_progress", CM, ["outage"])
        assert {c.field for c in saved.history} == {"status", "assignee", "tags"}
    untouched = get_mention(es, names, mid("b"))
    assert untouched.status == "new" and untouched.triage is None and not untouched.history


def test_the_status_filter_and_assigned_to_me_narrow_the_inbox(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1), mention("b", "Lumio deux.", hours=2)])
    at = dashboard(as_user=CM)
    b = mid("b")
    open_triage(at, b)
    at.selectbox(key=f"triage_status_{b}").set_value("in_progress")
    at.selectbox(key=f"triage_assignee_{b}").set_value(CM)
    save_button(at, b).click().run(timeout=30)
    at.sidebar.selectbox(key="inbox_assignee").set_value(ME).run(timeout=30)
    assert [el.value for el in at.text] == ["Lumio deux."]
    at.sidebar.selectbox(key="inbox_assignee").set_value(ANYONE)
    at.sidebar.multiselect(key="inbox_status").set_value(["new"]).run(timeout=30)
    assert [el.value for el in at.text] == ["Lumio un."]


def test_a_marketer_reads_the_inbox_but_cannot_triage(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1)])
    at = dashboard(as_user=MARKETER)
    assert [el.value for el in at.text] == ["Lumio un."]
    assert not at.get("selectbox") or all(not s.key.startswith("triage_") for s in at.selectbox)
    assert not [c for c in at.checkbox if c.key.startswith("triage_pick_")]


def test_recollecting_a_mention_never_overwrites_its_triage(es: Elasticsearch, names: IndexNames, dashboard):
    original = mention("a", "Lumio un.", hours=1)
    index_mentions(es, names, [original])
    at = dashboard(as_user=CM)
    open_triage(at, original.id)
    at.selectbox(key=f"triage_status_{original.id}").set_value("closed")
    save_button(at, original.id).click().run(timeout=30)
    report = index_mentions(es, names, [original.model_copy(update={"collected_at": datetime.now(UTC)})])
    assert report.duplicates == 1
    saved = get_mention(es, names, original.id)
    assert saved.status == "closed" and len(saved.history) == 1
    assert saved.history[0].at > datetime.now(UTC) - timedelta(minutes=1)
