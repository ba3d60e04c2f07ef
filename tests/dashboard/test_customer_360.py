"""Customer 360: the CRM record, open deals, interactions, mentions, trend, intents and alerts on one page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from core.documents import Alert, Label, document_id
from crm.mirror import mirror_source
from crm.sources import SqlSourceConfig
from dashboard.export import csv_bytes, customers_frame
from dashboard.text import t
from index.alerts import create_alerts
from index.client import IndexNames
from index.customers import search_customers, upsert_customers
from index.mentions import index_mentions
from tests.crm import crmdb
from tests.dashboard.test_pages import unescaped
from tests.factories import make_customer, make_mention

NOW = datetime.now(UTC).replace(microsecond=0)


def mirror_crm(es: Elasticsearch, names: IndexNames, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    crmdb.build(url)
    config = SqlSourceConfig.model_validate(
        {"name": "crm-db", "type": "sql", "url": url, "mapping": crmdb.MAPPING}
    )
    mirror_source(es, names, config, tmp_path)


def frame(at, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_one_page_shows_record_deals_interactions_timeline_trend_intents_and_alerts(
    es: Elasticsearch, names: IndexNames, dashboard, tmp_path: Path
):
    mirror_crm(es, names, tmp_path)
    index_mentions(
        es,
        names,
        [
            make_mention(
                "j1",
                text="Ma box Lumio redémarre toutes les nuits.",
                customer_id="1",
                created_at=NOW - timedelta(days=9),
                sentiment=Label(label="negative", confidence=0.9),
                intent=Label(label="complaint", confidence=0.8),
            ),
            make_mention(
                "j2",
                text="Réparée, merci Lumio !",
                customer_id="1",
                created_at=NOW - timedelta(days=1),
                sentiment=Label(label="positive", confidence=0.9),
                intent=Label(label="praise", confidence=0.8),
            ),
        ],
    )
    create_alerts(
        es,
        names,
        [
            Alert(
                id=document_id("alert", "j1"),
                rule="negative-by-customer",
                mention_id=document_id("test", "j1"),
                customer_id="1",
                recipients=["claire.dubois@lumio.example"],
                created_at=NOW - timedelta(days=9),
                summary="Julie Martin: ma box redémarre toutes les nuits.",
                sentiment="negative",
                intent="complaint",
            )
        ],
    )
    at = dashboard("pages/customers.py", customer="1")
    markdown = "\n".join(unescaped(m.value) for m in at.markdown)
    assert "Boulangerie Martin" in markdown and "mastodon: julie_m@piaille.example" in markdown
    assert "Claire Dubois <claire.dubois@lumio.example>" in markdown
    assert list(frame(at, t("opportunity"))[t("opportunity")]) == [
        "Fibre pro upgrade"
    ]  # the won deal is closed
    interactions = frame(at, t("interaction_subject"))
    assert list(interactions[t("interaction_subject")]) == ["Box reboots every night", "Invoice copy"]
    intents = frame(at, t("intent"))
    assert sorted(intents[t("intent")]) == ["complaint", "praise"]
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) == 2  # the timeline and the sentiment trend
    assert "Julie Martin: ma box redémarre toutes les nuits." in [el.value for el in at.text]
    assert [el.value for el in at.text][-2:] == [
        "Réparée, merci Lumio !",
        "Ma box Lumio redémarre toutes les nuits.",
    ]


def test_problems_in_the_crm_record_are_shown_beside_it(
    es: Elasticsearch, names: IndexNames, dashboard, tmp_path: Path
):
    mirror_crm(es, names, tmp_path)
    at = dashboard("pages/customers.py", customer="2")
    warnings = [unescaped(w.value) for w in at.warning]
    assert "phone '12': not a possible number" in warnings
    assert [t("open_opportunities_none"), t("interactions_none")] == [
        c.value for c in at.caption if c.value in (t("open_opportunities_none"), t("interactions_none"))
    ]


def test_search_finds_a_customer_by_handle_email_or_company(
    es: Elasticsearch, names: IndexNames, dashboard, tmp_path: Path
):
    mirror_crm(es, names, tmp_path)
    at = dashboard("pages/customers.py")
    for needle, expected in (
        ("@julie_m@piaille.example", "Julie Martin"),
        ("marc@garage.example", "Marc Petit"),
        ("Garage Petit", "Marc Petit"),
        ("marcpetit.bsky.social", "Marc Petit"),
    ):
        at.text_input(key="customer_search").input(needle).run(timeout=30)
        found = frame(at, t("name"))
        assert list(found[t("name")])[0] == expected, needle


def test_the_customer_list_and_a_customers_mentions_download_as_csv(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(
        es,
        names,
        [
            make_customer("C1", full_name="Julie Martin", company="Boulangerie Martin"),
            make_customer("C2", full_name="Marc Petit", company="Garage Petit", email="marc@garage.example"),
        ],
    )
    index_mentions(es, names, [make_mention("m1", text="Marc : la fibre rame.", customer_id="C2")])
    at = dashboard("pages/customers.py")
    at.text_input(key="customer_search").input("Garage").run(timeout=30)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [t("export_customers")]
    at.selectbox(key="customer_pick").select("C2").run(timeout=30)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [t("export_customers"), t("export_mentions")]

    found = search_customers(es, names, "Garage")
    rows = list(csv.DictReader(io.StringIO(csv_bytes(customers_frame(found)).decode("utf-8-sig"))))
    assert [(r["customer_id"], r["full_name"], r["company"], r["email"]) for r in rows] == [
        ("C2", "Marc Petit", "Garage Petit", "marc@garage.example")
    ]
    assert rows[0]["handles"] == "c2@mastodon.example" and rows[0]["owner_name"] == "Claire Dubois"


def test_a_sales_person_sees_their_accounts_listed_and_can_download_them(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(
        es,
        names,
        [
            make_customer("C1", full_name="Julie Martin", owner_email="sarah.whitfield@lumio.example"),
            make_customer("C2", full_name="Marc Petit", owner_email="someone-else@lumio.example"),
        ],
    )
    at = dashboard("pages/customers.py", as_user="sarah.whitfield@lumio.example")
    assert at.checkbox(key="customer_mine").value is True
    assert frame(at, t("name"))[t("name")].tolist() == ["Julie Martin"]
    assert [b.proto.label for b in at.get("download_button")] == [t("export_customers")]
