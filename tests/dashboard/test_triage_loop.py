"""The fast triage loop: one-click actions, Saved beside the mention and Next, select-all, assignees,
a conflict reloaded from the server, readable history, the saved-search picker, exports of every match."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from elasticsearch import Elasticsearch

from core.documents import document_id
from dashboard.text import plural, t
from index.client import IndexNames
from index.mentions import get_mention, get_mentions_versioned, index_mentions
from index.triage import update_triage
from tests.dashboard.helpers import downloads, open_triage
from tests.dashboard.test_pages import mention, shown, texts

CM = "community@lumio.example"
ADMIN = "admin@lumio.example"


def mid(native_id: str) -> str:
    return document_id("test", native_id)


def save_button(at, mention_id: str):
    (button,) = [b for b in at.button if b.proto.form_id == f"triage_form_{mention_id}"]
    return button


def test_assignees_are_the_people_who_triage_and_unassigned_is_offered_once(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1)])
    at = open_triage(dashboard(as_user=CM), mid("a"))
    options = at.selectbox(key=f"triage_assignee_{mid('a')}").options
    assert options.count(t("unassigned")) == 1
    assert set(options) == {t("unassigned"), "Camille Roux", "Admin Lumio"}  # no marketer, no sales


def test_after_a_conflict_reload_shows_the_colleagues_note_and_keeps_it(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Ma box Lumio clignote.", hours=1)])
    a = mid("a")
    camille = open_triage(dashboard(as_user=CM), a)
    camille.text_area(key=f"triage_note_{a}").input("My stale note.")
    update_triage(es, names, a, {"note": "Colleague's note."}, ADMIN, *_version(es, names, a))
    save_button(camille, a).click().run(timeout=30)
    assert camille.warning  # told who changed it

    camille.button(key=f"triage_reload_{a}").click().run(timeout=30)
    assert not camille.warning
    assert camille.text_area(key=f"triage_note_{a}").value == "Colleague's note."
    camille.selectbox(key=f"triage_status_{a}").set_value("answered")
    save_button(camille, a).click().run(timeout=30)
    saved = get_mention(es, names, a)
    assert (saved.status, saved.triage.note) == ("answered", "Colleague's note.")


def _version(es: Elasticsearch, names: IndexNames, mention_id: str) -> tuple[int, int]:
    found = get_mentions_versioned(es, names, [mention_id])[mention_id]  # in its own period index
    return found.seq_no, found.primary_term


def test_one_click_status_and_assign_to_me_show_saved_beside_the_mention_and_next(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1), mention("b", "Lumio deux.", hours=2)])
    a, b = mid("a"), mid("b")
    at = dashboard(as_user=CM)
    at.sidebar.radio(key="inbox_order").set_value("newest").run(timeout=30)
    at.button(key=f"triage_me_{a}").click().run(timeout=30)
    assert get_mention(es, names, a).triage.assignee == CM
    assert [s.value for s in at.success] == [t("triage_saved")]
    (control,) = [c for c in at.get("button_group") if c.proto.id.endswith(f"triage_quick_{a}")]
    control.set_value("in_progress").run(timeout=30)
    at.button(key=f"triage_next_{a}").click().run(timeout=30)
    assert at.selectbox(key=f"triage_status_{b}")  # the next mention's form is open
    assert get_mention(es, names, a).status == "in_progress"


def test_history_reads_names_and_status_labels(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1)])
    a = mid("a")
    update_triage(es, names, a, {"status": "in_progress", "assignee": CM}, ADMIN, *_version(es, names, a))
    at = open_triage(dashboard(as_user=CM), a)
    page = shown(at)
    assert f"{t('unassigned')} → Camille Roux" in page
    assert f"{t('status_new')} → {t('status_in_progress')}" in page
    assert "in_progress" not in page and f"→ {CM}" not in page


def test_community_managers_start_on_needing_attention_marketers_on_newest(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1)])
    assert dashboard(as_user=CM).sidebar.radio(key="inbox_order").value == "attention"
    assert dashboard(as_user="marketing@lumio.example").sidebar.radio(key="inbox_order").value == "newest"


def test_select_all_ticks_every_shown_mention_and_the_bulk_bar_appears(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention(n, f"Lumio {n}.", hours=i + 1) for i, n in enumerate("abc")])
    at = dashboard(as_user=CM)
    at.checkbox(key="inbox_select_all").check().run(timeout=30)
    assert all(at.checkbox(key=f"triage_pick_{mid(n)}").value for n in "abc")
    assert plural("bulk_title", 3) in shown(at)


def test_the_saved_search_picker_clears_once_a_filter_changes(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1)])
    at = dashboard(as_user=CM)
    at.sidebar.multiselect(key="inbox_status").set_value(["new"]).run(timeout=30)
    at.sidebar.text_input(key="inbox_saved_name").input("New ones")
    (save,) = [b for b in at.sidebar.button if b.key == "inbox_save_search"]
    save.click().run(timeout=30)
    assert at.sidebar.selectbox(key="inbox_saved").value
    at.run(timeout=30)
    assert at.sidebar.selectbox(key="inbox_saved").value  # unchanged filters: still named
    at.sidebar.multiselect(key="inbox_status").set_value(["answered"]).run(timeout=30)
    assert at.sidebar.selectbox(key="inbox_saved").value == ""


def _cap(settings_file: Path, rows: int) -> None:
    data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    data.setdefault("dashboard", {})["export_max_rows"] = rows
    settings_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_export_holds_every_match_not_only_the_page(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media
):
    index_mentions(es, names, [mention(f"m{i}", f"Lumio {i}.", hours=i + 1) for i in range(60)])
    at = dashboard(as_user=CM)
    assert len(texts(at)) == 50  # the page shows 50
    at.toggle(key="inbox_export").set_value(True).run(timeout=30)
    rows = list(csv.DictReader(io.StringIO(downloads(at)[t("export_mentions")].decode("utf-8-sig"))))
    assert len(rows) == 60 and not at.warning


def test_an_export_over_the_cap_says_so(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media, settings_file: Path
):
    index_mentions(es, names, [mention(f"m{i}", f"Lumio {i}.", hours=i + 1) for i in range(60)])
    _cap(settings_file, 55)
    capped = dashboard(as_user=CM)
    capped.toggle(key="inbox_export").set_value(True).run(timeout=30)
    rows = list(csv.DictReader(io.StringIO(downloads(capped)[t("export_mentions")].decode("utf-8-sig"))))
    assert len(rows) == 55
    assert [w.value for w in capped.warning] == [t("export_capped", cap="55", total="60")]


def test_a_saved_mention_stays_in_place_until_the_list_is_refreshed(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(
        es,
        names,
        [
            mention("angry", "Lumio, en panne !", hours=2, sentiment="negative"),
            mention("calm", "Lumio, merci.", hours=1),
        ],
    )
    at = dashboard(as_user=CM)  # needing attention first: the angry one on top
    assert texts(at) == ["Lumio, en panne !", "Lumio, merci."]
    angry = mid("angry")
    (control,) = [c for c in at.get("button_group") if c.proto.id.endswith(f"triage_quick_{angry}")]
    control.set_value("answered").run(timeout=30)
    assert get_mention(es, names, angry).status == "answered"
    # the list drawn keeps its order (still first), "Saved." beside it, until refreshed
    assert at.session_state["inbox_listed"][1] == [angry, mid("calm")]
    assert [s.value for s in at.success] == [t("triage_saved")]
    at.button(key="inbox_refresh").click().run(timeout=30)
    assert at.session_state["inbox_listed"][1] == [mid("calm"), angry]
    assert texts(at) == ["Lumio, merci.", "Lumio, en panne !"]
