"""The admin page: source health, the CRM mirror, the index and who may sign in (never their hashes)."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from dashboard.text import t
from index.client import IndexNames
from index.documents import SourceState
from index.writes import put_state, upsert_customers
from tests.dashboard.helpers import APP
from tests.dashboard.test_pages import shown
from tests.factories import make_customer

MARKETER = "marketing@lumio.example"


def health(source: str, **data: object) -> SourceState:
    return SourceState(
        id=f"health:{source}", kind="health", source=source, data=data, updated_at=datetime.now(UTC)
    )


def test_admin_sees_each_source_with_its_health(es: Elasticsearch, names: IndexNames, dashboard):
    ran = "2026-11-25T09:00:00+00:00"
    put_state(
        es,
        names,
        health("sample", last_run=ran, items_last_run=342, last_success=ran, consecutive_failures=0),
    )
    at = dashboard("pages/admin.py")
    rows = {row[t("source")]: row for row in at.dataframe[0].value.to_dict("records")}
    assert rows["sample"][t("source_state")] == t("source_state_ok")
    assert rows["sample"][t("items_last_run")] == 342
    assert rows["lumio-news"][t("source_state")] == t("source_state_off")

    failed = health(
        "sample",
        last_run=ran,
        consecutive_failures=2,
        last_error="sample: cannot read samples/mentions.jsonl",
    )
    put_state(es, names, failed)
    at.run(timeout=30)
    rows = {row[t("source")]: row for row in at.dataframe[0].value.to_dict("records")}
    assert rows["sample"][t("source_state")] == t("source_state_failing")
    assert rows["sample"][t("last_error")] == "sample: cannot read samples/mentions.jsonl"


def test_admin_sees_users_and_roles_but_never_a_password_hash(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(es, names, [make_customer("C1"), make_customer("C2")])
    at = dashboard("pages/admin.py")
    users = at.dataframe[1].value
    assert set(users[t("email")]) >= {"admin@lumio.example", MARKETER}
    assert "scrypt" not in users.to_csv() and "scrypt" not in shown(at)
    assert [m.value for m in at.metric if m.label == t("customers_mirrored")] == ["2"]
    assert any("optional features: percolator" in c.value for c in at.caption)


def test_a_marketer_opening_the_admin_page_by_its_address_is_refused(dashboard):
    at = dashboard("pages/insights.py", as_user=MARKETER)
    # The page itself, opened by its address with a marketer's session, refuses before reading anything.
    page = AppTest.from_file(str(APP.parent / "pages" / "admin.py"), default_timeout=30)
    page.session_state["auth"] = {**at.session_state["auth"]}
    page.run(timeout=30)
    assert [e.value for e in page.error] == [t("not_allowed", role=t("role_marketer"))]
    assert not page.dataframe
