"""Customer 360: the CRM record, open deals, interactions, mentions, trend, intents and alerts on one page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from crm.mirror import mirror_source
from crm.sources import SqlSourceConfig
from dashboard.text import t
from index.client import IndexNames
from index.documents import Alert, Label, document_id
from index.writes import index_mentions, write_alerts
from tests.crm import crmdb
from tests.dashboard.test_pages import unescaped
from tests.factories import make_mention

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
    write_alerts(
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
