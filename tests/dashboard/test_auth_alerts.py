"""Sign-in, roles, sessions, the alerts page and the language switch, with AppTest on the real stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from core.documents import Alert, document_id
from dashboard.text import STRINGS, t
from index.alerts import create_alerts, list_alerts
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions
from tests.dashboard.helpers import APP, DEMO_PASSWORD, sign_in
from tests.dashboard.test_pages import mention, shown
from tests.factories import make_customer

SALES = "sarah.whitfield@lumio.example"
OTHER_SALES = "thomas.lefebvre@lumio.example"
CM = "community@lumio.example"


@pytest.fixture
def signed_out(monkeypatch: pytest.MonkeyPatch, settings_file: Path) -> AppTest:
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))
    return AppTest.from_file(str(APP), default_timeout=30).run(timeout=30)


def alert(native_id: str, recipient: str, customer_id: str | None, hours: float = 1) -> Alert:
    return Alert(
        id=document_id("alert", native_id),
        rule="negative-by-customer",
        mention_id=document_id("test", native_id),
        customer_id=customer_id,
        recipients=[recipient],
        created_at=datetime.now(UTC) - timedelta(hours=hours),
        summary=f"Alert about {native_id}",
        sentiment="negative",
        intent="complaint",
    )


def test_a_wrong_password_is_refused_and_shows_no_data(
    es: Elasticsearch, names: IndexNames, signed_out: AppTest
):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    at = sign_in(signed_out, CM, "not-the-password")
    assert [e.value for e in at.error] == [t("sign_in_wrong")]
    assert "Lumio secret du jour." not in [el.value for el in at.text]
    at = sign_in(at, "nobody@lumio.example", DEMO_PASSWORD)
    assert [e.value for e in at.error] == [t("sign_in_wrong")]
    assert DEMO_PASSWORD not in shown(at) and "scrypt$" not in shown(at)


def test_the_right_password_opens_the_inbox(es: Elasticsearch, names: IndexNames, browser):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    at = sign_in(browser.tab(), CM)
    assert [el.value for el in at.text] == ["Lumio secret du jour."]
    # AppTest lists app.py's sidebar (the "Signed in as" line) on a tab's first page only: a new tab
    browser.keep(at)
    assert t("signed_in_as", name="Camille Roux", role=t("role_community_manager")) in shown(browser.tab())


def test_an_expired_session_asks_to_sign_in_again(es: Elasticsearch, names: IndexNames, signed_out: AppTest):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    at = sign_in(signed_out, CM)
    at.session_state["auth"] = {
        **at.session_state["auth"],
        "expires": datetime.now(UTC) - timedelta(seconds=1),
    }
    at.run(timeout=30)
    assert [i.value for i in at.info] == [t("session_expired")]
    assert "Lumio secret du jour." not in [el.value for el in at.text]
    assert at.text_input(key="sign_in_password").value == ""


def test_signing_out_ends_the_session(es: Elasticsearch, names: IndexNames, browser):
    browser.keep(sign_in(browser.tab(), CM))
    at = browser.tab()  # AppTest shows app.py's sidebar on a tab's first page only: a fresh tab
    at.sidebar.button(key="sign_out").click().run(timeout=30)
    assert "auth" not in at.session_state
    assert at.text_input(key="sign_in_email")


def test_a_sales_person_sees_only_the_alerts_of_their_accounts(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(
        es, names, [make_customer("C1", owner_email=SALES), make_customer("C2", owner_email=OTHER_SALES)]
    )
    create_alerts(es, names, [alert("mine", SALES, "C1"), alert("theirs", OTHER_SALES, "C2", hours=2)])
    at = dashboard("pages/alerts.py", as_user=SALES)
    assert [el.value for el in at.text] == ["Alert about mine"]
    assert not at.get("button_group")  # no way to switch to everyone's alerts


def test_a_sales_person_cannot_open_the_inbox(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    at = dashboard("pages/alerts.py", as_user=SALES)
    at.switch_page("pages/inbox.py").run(timeout=30)
    assert not at.exception
    assert "Lumio secret du jour." not in [el.value for el in at.text]
    assert [e.value for e in at.error] == [t("not_allowed", role=t("role_sales"))]


def test_acknowledging_an_alert_is_saved_and_clears_it(es: Elasticsearch, names: IndexNames, dashboard):
    create_alerts(es, names, [alert("one", CM, None), alert("two", CM, None, hours=3)])
    at = dashboard("pages/alerts.py", as_user=CM)
    assert [el.value for el in at.text] == ["Alert about one", "Alert about two"]
    at.button(key=f"ack_{document_id('alert', 'one')}").click().run(timeout=30)
    assert [el.value for el in at.text] == ["Alert about two"]
    assert [a.summary for a in list_alerts(es, names, status="acknowledged")] == ["Alert about one"]


def test_a_sales_person_starts_on_their_own_accounts(es: Elasticsearch, names: IndexNames, dashboard):
    upsert_customers(
        es,
        names,
        [
            make_customer("C1", full_name="Julie Martin", owner_email=SALES),
            make_customer("C2", full_name="Marc Petit", owner_email=OTHER_SALES),
        ],
    )
    at = dashboard("pages/customers.py", as_user=SALES)
    assert [o.split(" · ")[0] for o in at.selectbox(key="customer_pick").options] == ["Julie Martin"]
    assert at.checkbox(key="customer_mine").disabled  # their own accounts are all a sales person reads


def test_the_interface_switches_to_french(es: Elasticsearch, names: IndexNames, browser):
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1)])
    browser.keep(sign_in(browser.tab(), CM))
    at = browser.tab()  # AppTest lists app.py's sidebar on a tab's first page only
    at.sidebar.selectbox(key="language").set_value("fr").run(timeout=30)
    assert [title.value for title in at.title] == [STRINGS["fr"]["inbox_title"]]
    assert any(m.label == STRINGS["fr"]["inbox_total"] and m.value == "1" for m in at.metric)
