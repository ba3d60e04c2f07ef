"""The sales view: my accounts by recent activity, with trend and open alerts, one click to open one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from core.documents import Alert, Label
from dashboard.text import CATALOGS, plural, t
from index.alerts import ALERTS, create_alerts
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import index_mentions, refresh_mentions
from tests.factories import make_customer, make_mention
from tests.index.test_crm_scope import MINE, shared_account

SALES = "sarah.whitfield@lumio.example"  # the shipped config.yaml's sales user
NOW = datetime.now(UTC).replace(microsecond=0)


def accounts(es: Elasticsearch, names: IndexNames) -> None:
    upsert_customers(
        es,
        names,
        [
            make_customer(
                "C-QUIET",
                full_name="Alice Quiet",
                owner_email=SALES,
                owner_name=None,
                company=None,
                segment=None,
            ),
            make_customer("C-BUSY", full_name="Bruno Busy", owner_email=SALES),
            make_customer("C-OLD", full_name="Chloé Old", owner_email=SALES),
            make_customer("C-NOT-MINE", full_name="Denis Other", owner_email="someone@lumio.example"),
        ],
    )
    negative, positive = Label(label="negative", confidence=0.9), Label(label="positive", confidence=0.9)
    index_mentions(
        es,
        names,
        [
            make_mention("b1", customer_id="C-BUSY", created_at=NOW - timedelta(hours=3), sentiment=negative),
            make_mention("b2", customer_id="C-BUSY", created_at=NOW - timedelta(days=4), sentiment=negative),
            make_mention("b3", customer_id="C-BUSY", created_at=NOW - timedelta(days=40), sentiment=positive),
            make_mention("o1", customer_id="C-OLD", created_at=NOW - timedelta(days=20), sentiment=positive),
            make_mention("n1", customer_id="C-NOT-MINE", created_at=NOW - timedelta(hours=1)),
        ],
    )
    refresh_mentions(es, names)
    create_alerts(
        es,
        names,
        [
            Alert(
                id="al-busy", rule="negative-customer", mention_id="b1", customer_id="C-BUSY",
                recipients=[SALES], created_at=NOW, summary="negative post by Bruno Busy",
            )
        ],
    )  # fmt: skip
    es.indices.refresh(index=ALERTS.alias(names))


def table(at):
    return next(df.value for df in at.dataframe if t("last_mention") in df.value.columns)


def test_my_accounts_are_ordered_by_recent_activity_with_trend_and_open_alerts(
    es: Elasticsearch, names: IndexNames, dashboard
):
    accounts(es, names)
    at = dashboard("pages/customers.py", as_user=SALES)
    rows = table(at)
    assert list(rows[t("name")]) == ["Bruno Busy", "Chloé Old", "Alice Quiet"]  # never mentioned: last
    busy = rows.iloc[0]
    assert busy[t("mentions_30d")] == 2
    assert busy[t("net_sentiment_30d")] == "-1.00"
    assert busy[t("sentiment_trend_30d")] == t("trend_points", points="-200")  # +1.00 the 30 days before
    assert busy[t("open_alerts")] == 1
    quiet = rows.iloc[2]
    assert quiet[t("last_mention")] == "—"
    # A CRM row without a company or segment reads as a dash, never "None"; no owner's name: their email.
    assert (quiet[t("company")], quiet[t("segment")], quiet[t("owner")]) == ("—", "—", SALES)


def test_a_click_on_an_account_opens_it_and_the_picker_still_works(
    es: Elasticsearch, names: IndexNames, dashboard
):
    accounts(es, names)
    at = dashboard("pages/customers.py", as_user=SALES)
    at.session_state["accounts_table"] = {"selection": {"rows": [1], "columns": []}}  # a click on Chloé Old
    at.run(timeout=30)
    assert not at.exception
    assert at.query_params["customer"] == "C-OLD"
    assert at.selectbox(key="customer_pick").value == "C-OLD"
    # choosing another customer in the picker is not undone by the row still selected
    at.selectbox(key="customer_pick").set_value("C-BUSY").run(timeout=30)
    assert at.selectbox(key="customer_pick").value == "C-BUSY"
    assert at.query_params["customer"] == "C-BUSY"


def test_a_shared_accounts_records_of_a_colleagues_customer_are_left_out_and_said_so(
    es: Elasticsearch, names: IndexNames, dashboard
):
    """Julie is Sarah's, Marc at the same account a colleague's: Sarah's page shows Julie's deal and
    ticket and the account's, not Marc's (before: all of them), and one line says two were left out."""
    shared_account(es, names, mine=SALES, theirs="someone@lumio.example", account_owner=SALES)

    at = dashboard("pages/customers.py", as_user=SALES, customer=MINE)

    deals = next(df.value for df in at.dataframe if t("opportunity") in df.value.columns)
    assert set(deals[t("opportunity")]) == {"Fibre pro pour Julie", "Contrat cadre du compte"}
    tickets = next(df.value for df in at.dataframe if t("interaction_subject") in df.value.columns)
    assert set(tickets[t("interaction_subject")]) == {"Appel de Julie", "Visite du compte"}
    shown = [df.value.to_csv() for df in at.dataframe] + [c.value for c in at.caption]
    assert not [text for text in shown if "de Marc" in text]
    assert plural("crm_records_withheld", 2) in [c.value for c in at.caption]

    at.session_state["language"] = "fr"
    at.run(timeout=30)
    assert CATALOGS["fr"].plural("crm_records_withheld", 2) in [c.value for c in at.caption]

    everyone = dashboard("pages/customers.py", customer=MINE)  # an admin reads the whole account
    deals = next(df.value for df in everyone.dataframe if t("opportunity") in df.value.columns)
    assert len(deals) == 3
    left_out = plural("crm_records_withheld", 2).removeprefix("2")
    assert not [c for c in everyone.caption if c.value.endswith(left_out)]
