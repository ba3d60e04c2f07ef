"""Lists of mentions are cached per mentions generation: any write shows on the very next run."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from dashboard.text import t
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import delete_mentions, get_mentions_versioned, index_mentions, mark_mentions_changed
from index.periods import MENTIONS
from index.triage import update_triage
from tests.dashboard.test_pages import mention, metric, shown, texts
from tests.factories import make_customer

CM = "community@lumio.example"
ADMIN = "admin@lumio.example"


def test_a_triage_saved_elsewhere_shows_on_the_next_inbox_run(
    es: Elasticsearch, names: IndexNames, dashboard
):
    first = mention("a", "Ma box Lumio clignote.", hours=1)
    index_mentions(es, names, [first])
    at = dashboard(as_user=CM)
    assert f"{t('status')}: new" in shown(at)

    seen = get_mentions_versioned(es, names, [first.id])[first.id]
    update_triage(es, names, first.id, {"status": "answered"}, ADMIN, seen.seq_no, seen.primary_term)
    at.run(timeout=30)

    assert f"{t('status')}: answered" in shown(at)
    assert f"{t('status')}: new" not in shown(at)


def test_new_and_deleted_mentions_show_on_the_next_inbox_run(es: Elasticsearch, names: IndexNames, dashboard):
    old = mention("old", "Lumio, première.", hours=3)
    index_mentions(es, names, [old])
    at = dashboard()
    assert texts(at) == ["Lumio, première."]

    index_mentions(es, names, [mention("new", "Lumio, deuxième.", hours=1)])
    at.run(timeout=30)
    assert texts(at) == ["Lumio, deuxième.", "Lumio, première."]
    assert metric(at, t("inbox_total")) == "2"

    delete_mentions(es, names, [old.id])
    at.run(timeout=30)
    assert texts(at) == ["Lumio, deuxième."]
    assert metric(at, t("inbox_total")) == "1"


def test_the_inbox_reads_its_list_again_only_when_the_generation_changes(
    es: Elasticsearch, names: IndexNames, dashboard
):
    first = mention("a", "Lumio, texte d'origine.", hours=1)
    index_mentions(es, names, [first])
    at = dashboard()
    assert texts(at) == ["Lumio, texte d'origine."]

    # A write that bypasses index/ (so no new generation): the cached list is still shown...
    es.update(index=MENTIONS.alias(names), id=first.id, doc={"text": "Lumio, texte changé."}, refresh=True)
    at.run(timeout=30)
    assert texts(at) == ["Lumio, texte d'origine."]

    # ...until the generation changes.
    mark_mentions_changed(es, names)
    at.run(timeout=30)
    assert texts(at) == ["Lumio, texte changé."]


def test_a_new_mention_of_a_customer_shows_on_the_next_run_of_their_page(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(es, names, [make_customer("C1", full_name="Julie Martin")])
    index_mentions(es, names, [mention("a", "Julie : la box Lumio rame.", hours=3, customer_id="C1")])
    at = dashboard("pages/customers.py", customer="C1")
    assert "Julie : la box Lumio rame." in texts(at)
    assert "Julie : réparée, merci Lumio." not in texts(at)

    index_mentions(es, names, [mention("b", "Julie : réparée, merci Lumio.", hours=1, customer_id="C1")])
    at.run(timeout=30)
    assert "Julie : réparée, merci Lumio." in texts(at)
