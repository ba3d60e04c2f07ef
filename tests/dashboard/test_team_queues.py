"""Team queues, hand-offs and service targets in the Inbox, routing on Admin, and the Team page (AppTest)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.documents import Label, Triage, TriageChange
from dashboard.pages import page_named
from dashboard.text import t
from ecoute.service import median
from index.client import EmbeddedServer, IndexNames
from index.mentions import get_mention, index_mentions
from tests.conftest import write_config
from tests.dashboard.helpers import downloads, open_triage
from tests.dashboard.test_pages import hours_ago as posted_hours_ago
from tests.dashboard.test_pages import mention, shown, unescaped
from tests.dashboard.test_triage import mid, save_button
from tests.test_routing import ROUTING

CM = "community@lumio.example"
ADMIN = "admin@lumio.example"


@pytest.fixture
def settings_file(tmp_path: Path, es_server: EmbeddedServer, names: IndexNames) -> Path:
    """The shipped config.yaml with routing rules, team queues and service targets."""
    targets = {"complaint": "2h", "question": "8h"}
    return write_config(tmp_path, es_server.url, names.prefix, routing=ROUTING, service_targets=targets)


def routed_to(team: str, rule: str, hours: float) -> dict:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours)
    by = f"routing:{rule}"
    return {
        "triage": Triage(team=team, updated_by=by, updated_at=at),
        "history": [TriageChange(at=at, by=by, field="team", new=team)],
    }


def intent(label: str) -> Label:
    return Label(label=label, confidence=0.9)


def test_a_team_queue_shows_its_mentions_and_a_hand_off_moves_one_with_its_trace(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(
        es,
        names,
        [
            mention("c", "Ma box Lumio est en panne.", hours=1, intent=intent("complaint"),
                    **routed_to("support", "complaints-to-support", 1)),
            mention("q", "How do I reset my Lumio box?", hours=1, intent=intent("question"),
                    **routed_to("community", "questions-to-community", 1)),
            mention("o", "Lumio publishes its report.", hours=1),
        ],
    )  # fmt: skip
    at = dashboard(as_user=CM)
    at.selectbox(key="inbox_team").set_value("support").run(timeout=30)
    assert [b.key for b in at.button if b.key and b.key.startswith("triage_toggle_")] == [
        f"triage_toggle_{mid('c')}"
    ]
    toggle = at.button(key=f"triage_toggle_{mid('c')}")
    assert t("team_line", team="support") in unescaped(toggle.label)  # the team on the card

    open_triage(at, mid("c"))
    assert f"{t('routing_by', rule='complaints-to-support')} · {t('team')}: — → support" in shown(at)
    at.selectbox(key=f"triage_team_{mid('c')}").set_value("sales")
    save_button(at, mid("c")).click().run(timeout=30)
    assert not at.exception and [s.value for s in at.success] == [t("triage_saved")]

    handed = get_mention(es, names, mid("c"))
    assert handed.triage.team == "sales"
    assert [(c.by, c.field, c.old, c.new) for c in handed.history][-1] == (CM, "team", "support", "sales")
    at.button(key="inbox_refresh").click().run(timeout=30)  # a saved list keeps its order until refreshed
    assert not [b for b in at.button if b.key == f"triage_toggle_{mid('c')}"]  # gone from support's queue
    at.selectbox(key="inbox_team").set_value("sales").run(timeout=30)  # its form is still open
    assert "Camille Roux · Team: support → sales" in shown(at)  # the hand-off, shown in the new queue


def test_past_target_shows_only_untriaged_mentions_older_than_their_target(
    es: Elasticsearch, names: IndexNames, dashboard
):
    index_mentions(
        es,
        names,
        [
            mention("late", "Ma box Lumio est en panne.", hours=3, intent=intent("complaint")),
            mention("fresh", "Ma box Lumio clignote.", hours=1, intent=intent("complaint")),
            mention("done", "Plus de réseau Lumio.", hours=5, intent=intent("complaint"), status="answered"),
            mention("ask", "How do I reset my Lumio box?", hours=5, intent=intent("question")),
        ],
    )
    at = dashboard(as_user=CM)
    assert shown(at).count(t("past_target_badge", target="2h")) == 1  # on "late" only
    at.checkbox(key="inbox_past_target").check().run(timeout=30)
    toggles = [b.key for b in at.button if b.key and b.key.startswith("triage_toggle_")]
    assert toggles == [f"triage_toggle_{mid('late')}"]


def table(at, column: str, nth: int = 0):
    """The nth dataframe on the page that has this column."""
    return [d.value for d in at.dataframe if column in d.value.columns][nth]


def test_admin_lists_the_routing_rules_the_teams_and_the_targets(dashboard):
    at = dashboard("pages/admin.py")
    rules = table(at, t("routing_rule")).to_dict("records")
    assert [r[t("routing_rule")] for r in rules] == [r["name"] for r in ROUTING["rules"]]
    conditions = ", ".join(t(f"intent_{i}") for i in ("complaint", "churn_risk"))
    assert rules[0][t("routing_when")] == t(
        "routing_condition", condition=t("routing_when_intents"), values=conditions
    )
    assert rules[1][t("routing_to")] == f"{t('team')}: sales · {t('routing_owner')}"
    teams = table(at, t("team_members")).to_dict("records")
    assert {r[t("team")]: r[t("team_members")] for r in teams}["community"] == "Camille Roux, Marc Lemaire"
    targets = table(at, t("target_intent")).to_dict("records")
    assert [(r[t("target_intent")], r[t("target")]) for r in targets] == [
        ("complaint", "2h"),
        ("question", "8h"),
    ]


def answered_after(native_id: str, hours_ago: float, took: float, by: str, **overrides):
    at = posted_hours_ago(hours_ago)  # the same clock as mention(): collected at exactly this time
    history = [TriageChange(at=at + timedelta(hours=took), by=by, field="status", old="new", new="answered")]
    return mention(native_id, "Lumio.", hours=hours_ago, status="answered", history=history, **overrides)


def test_the_team_page_shows_each_persons_times_and_exports_them(
    es: Elasticsearch, names: IndexNames, dashboard, recorded_media
):
    index_mentions(
        es,
        names,
        [
            answered_after("a", 48, 1, CM, intent=intent("complaint")),
            answered_after("b", 30, 3, CM, intent=intent("complaint")),
            answered_after("c", 20, 2, ADMIN, intent=intent("question")),
            mention("d", "Lumio ?", hours=10, intent=intent("question")),
        ],
    )
    at = dashboard("pages/team.py", as_user=CM)
    assert not at.exception
    page = shown(at)
    assert f"{t('team_response_rate')}: 75%" in page
    people = table(at, t("col_key"), 0).to_dict("records")
    camille = next(r for r in people if r[t("col_key")] == "Camille Roux")
    assert (camille[t("col_responded")], camille[t("col_response_median")]) == (2, median([1.0, 3.0]))
    assert camille[t("col_response_p90")] == 3.0
    intents = {r[t("col_key")]: r for r in table(at, t("col_key"), 2).to_dict("records")}
    assert intents["question"][t("col_response_rate")] == 0.5

    exported = downloads(at)[t("team_export")].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {(r[t("col_dimension")], r[t("col_key")]) for r in rows} >= {
        ("person", "Camille Roux"),
        ("person", "Admin Lumio"),
        ("intent", "complaint"),
    }


def test_the_team_page_is_for_managers_not_sales():
    assert page_named("team").roles == {"community_manager", "marketer", "admin"}
