"""The alerts page in AppTest on the real stand-in: links, sales accounts, acknowledgement, CSV export and
the rule editor (query errors with their position, live preview over the last 7 days, saving)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
from elasticsearch import Elasticsearch

from core.documents import Alert, document_id
from dashboard.export import alerts_frame
from dashboard.text import t
from index.alerts import alerts_for, create_alerts, stored_rules
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions
from tests.factories import make_customer, make_mention

CM = "community@lumio.example"
SALES = "sarah.whitfield@lumio.example"


def recent(native_id: str, text: str, days: float = 1, **overrides):
    return make_mention(
        native_id, text=text, created_at=datetime.now(UTC) - timedelta(days=days), **overrides
    )


def alert(native_id: str, recipient: str, customer_id: str | None = None, rule: str = "negative-by-customer"):
    return Alert(
        id=document_id("alert", native_id),
        rule=rule,
        mention_id=document_id("test", native_id),
        mention_ids=[document_id("test", native_id)],
        customer_id=customer_id,
        recipients=[recipient],
        created_at=datetime.now(UTC) - timedelta(hours=1),
        summary=f"Alert about {native_id}",
        sentiment="negative",
        intent="complaint",
        url=f"https://mastodon.example/@x/{native_id}",
    )


def test_an_alert_links_to_its_mention_customer_and_rule(es: Elasticsearch, names: IndexNames, dashboard):
    create_alerts(es, names, [alert("a1", CM, "C1")])
    at = dashboard("pages/alerts.py", as_user=CM)
    links = {(link.proto.page, link.proto.query_string) for link in at.get("page_link")}
    assert ("customers", "customer=C1") in links
    assert ("alerts", "rule=negative-by-customer") in links
    assert ("alerts", f"alert={document_id('alert', 'a1')}") in links


def test_a_linked_alert_opens_with_its_mention(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(es, names, [recent("a1", "<b>Lumio</b> en panne", customer_id="C1")])
    create_alerts(es, names, [alert("a1", CM, "C1")])
    at = dashboard("pages/alerts.py", as_user=CM, alert=document_id("alert", "a1"))
    texts = [el.value for el in at.text]
    assert "Alert about a1" in texts and "<b>Lumio</b> en panne" in texts  # post text shown as text


def test_a_link_to_an_alert_of_an_older_month_opens_it_and_acknowledges_it_there(
    es: Elasticsearch, names: IndexNames, dashboard
):
    """Alerts live in one index per month: a link names only the id, the alert is found where it is."""
    old = alert("old", CM).model_copy(update={"created_at": datetime.now(UTC) - timedelta(days=100)})
    create_alerts(es, names, [old, alert("new", CM)])
    at = dashboard("pages/alerts.py", as_user=CM, alert=old.id)
    assert "Alert about old" in [el.value for el in at.text]
    at.button(key=f"ack_{old.id}").click().run(timeout=30)
    stored = {a.id: a for a in alerts_for(es, names)}
    assert stored[old.id].status == "acknowledged" and stored[old.id].acknowledged_by == CM
    assert stored[document_id("alert", "new")].status == "new"


def test_a_sales_person_sees_alerts_about_their_accounts(es: Elasticsearch, names: IndexNames, dashboard):
    upsert_customers(es, names, [make_customer("C1", owner_email=SALES), make_customer("C2", owner_email=CM)])
    # Raised before the account was given to this sales person: routed to the community team then.
    create_alerts(es, names, [alert("acct", CM, "C1"), alert("other", CM, "C2")])
    at = dashboard("pages/alerts.py", as_user=SALES)
    assert [el.value for el in at.text] == ["Alert about acct"]
    assert not [b for b in at.button if b.key == "ack_" + document_id("alert", "acct")]  # not theirs to ack


def test_acknowledging_records_who_and_when(es: Elasticsearch, names: IndexNames, dashboard):
    create_alerts(es, names, [alert("k1", CM)])
    at = dashboard("pages/alerts.py", as_user=CM)
    at.button(key=f"ack_{document_id('alert', 'k1')}").click().run(timeout=30)
    (saved,) = alerts_for(es, names)
    assert saved.status == "acknowledged" and saved.acknowledged_by == CM and saved.acknowledged_at


def test_the_alerts_list_exports_as_csv():
    frame = alerts_frame([alert("x1", CM, "C1"), alert("x2", SALES)])
    data = pd.read_csv(io.StringIO(frame.to_csv(index=False)))
    assert list(data["summary"]) == ["Alert about x1", "Alert about x2"]
    assert {"rule", "customer_id", "recipients", "status", "url", "created_at", "count"} <= set(data.columns)
    assert "details" not in data.columns


def test_the_rule_editor_points_at_a_query_mistake(es: Elasticsearch, names: IndexNames, dashboard):
    at = dashboard("pages/alerts.py", as_user=CM, rule="outage-talk")
    at.text_input(key="rule_outage-talk_query").input("lumio AND (panne").run(timeout=30)
    (error,) = at.error
    assert error.value == t("query_error", problem=t("query_error_unclosed_paren"), position=11)
    assert at.code[0].value == "lumio AND (panne\n          ^"
    assert not [b for b in at.button if b.key == "rule_save"]  # nothing to save until the query reads


def test_the_rule_editor_previews_the_last_7_days_and_saves(es: Elasticsearch, names: IndexNames, dashboard):
    index_mentions(
        es,
        names,
        [
            recent("p1", "Lumio en panne à Lyon"),
            recent("p2", "Encore une panne Lumio", days=3),
            recent("p3", "Panne Lumio il y a longtemps", days=20),
            recent("p4", "Lumio marche très bien"),
        ],
    )
    at = dashboard("pages/alerts.py", as_user=CM, rule="outage-talk")
    at.selectbox(key="rule_pick").set_value("").run(timeout=30)
    at.text_input(key="rule__name").input("lyon-outage").run(timeout=30)
    at.text_input(key="rule__query").input("panne NOT lyon").run(timeout=30)
    assert not at.error
    assert t("rule_preview", n=1).replace(":", "\\:") in [m.value for m in at.markdown]
    assert [el.value for el in at.text][-1].endswith("Encore une panne Lumio")
    at.button(key="rule_save").click().run(timeout=30)
    (saved,) = stored_rules(es, names)
    assert saved.name == "lyon-outage" and saved.rule["query"] == "panne NOT lyon" and saved.updated_by == CM


def test_an_alert_card_names_its_customer_the_posts_own_time_the_rule_in_full_and_people(
    es: Elasticsearch, names: IndexNames, dashboard
):
    posted = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3, hours=2)
    upsert_customers(es, names, [make_customer("C1", full_name="Julie Martin")])
    post = make_mention("p1", text="Lumio en panne", customer_id="C1", created_at=posted)
    index_mentions(es, names, [post])
    create_alerts(es, names, [alert("p1", CM, "C1")])
    at = dashboard("pages/alerts.py", as_user=CM)
    at.button(key=f"ack_{document_id('alert', 'p1')}").click().run(timeout=30)
    at.checkbox(key="alerts_open_only").uncheck().run(timeout=30)  # the acknowledged alert too
    shown = " ".join(el.value for el in [*at.markdown, *at.caption]).replace("\\", "")  # unescaped
    assert "Julie Martin" in shown
    assert posted.strftime("%Y-%m-%d %H:%M") in shown  # when the customer wrote, not when the alert was made
    assert t("intent_complaint") in shown
    rule_line = next(c.value.replace("\\", "") for c in at.caption if "negative\\-by\\-customer" in c.value)
    assert t("rule_has_linked_yes") in rule_line and t("negative") in rule_line  # the rule's conditions
    assert "Camille Roux" in shown and CM not in shown  # who acknowledged: a name, not an address
    labels = {link.proto.label for link in at.get("page_link") if link.proto.page == "customers"}
    assert labels == {"Julie Martin"}
