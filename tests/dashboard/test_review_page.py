"""The review page: a person confirms or rejects proposed links; the data-quality panel beside it."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from core.documents import CustomerLink
from dashboard.pages import page_named
from dashboard.text import t
from ecoute.config import Settings
from ecoute.engine import Engine
from index.client import IndexNames
from index.customers import get_customer, upsert_customers
from index.mentions import get_mention, index_mentions
from index.reviews import list_reviews, queue_link_reviews
from tests.factories import make_customer, make_mention


def propose(es: Elasticsearch, names: IndexNames) -> None:
    upsert_customers(es, names, [make_customer("C1", handles=[])])
    proposal = CustomerLink(
        customer_id="C1",
        method="fuzzy",
        confidence=0.8,
        reason="author name “julie martin” matches Julie Martin (100%): Julie Martin, Boulangerie Martin",
    )
    mention = make_mention(
        "p1",
        author={"handle": "jm74@mastodon.example", "display_name": "Julie Martin"},
        text="Ma box Lumio clignote <b>encore</b>.",
        link_proposal=proposal,
    )
    index_mentions(es, names, [mention])
    queue_link_reviews(es, names, [mention])


def button(at, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def test_confirming_a_proposed_link_writes_the_handle_back_and_links_the_mention(
    es: Elasticsearch, names: IndexNames, dashboard
):
    propose(es, names)
    at = dashboard("pages/review.py", as_user="community@lumio.example")
    page = [el.value for el in at.text]
    assert "• author name “julie martin” matches Julie Martin (100%)" in page
    assert "« Ma box Lumio clignote <b>encore</b>. »" in page  # the post, shown literally
    assert any("Julie Martin" in m.value and "Boulangerie Martin" in m.value for m in at.markdown)
    button(at, t("review_confirm")).click().run(timeout=30)
    assert [s.value for s in at.success] == [t("review_confirmed_done")]
    customer = get_customer(es, names, "C1")
    assert customer is not None and customer.confirmed_handles == ["jm74@mastodon.example"]
    mention = get_mention(es, names, make_mention("p1").id)
    assert mention is not None and mention.customer_id == "C1"
    assert mention.link is not None and "community@lumio.example confirmed" in mention.link.reason
    assert list_reviews(es, names) == []
    assert [i.value for i in at.info] == [t("review_none")]


def test_rejecting_a_proposed_link_keeps_the_mention_unlinked(
    es: Elasticsearch, names: IndexNames, dashboard
):
    propose(es, names)
    at = dashboard("pages/review.py", as_user="community@lumio.example")
    button(at, t("review_reject")).click().run(timeout=30)
    assert [s.value for s in at.success] == [t("review_rejected_done")]
    mention = get_mention(es, names, make_mention("p1").id)
    assert mention is not None and mention.customer_id is None and mention.link_proposal is None
    (decided,) = list_reviews(es, names, status="rejected")
    assert decided.decided_by == "community@lumio.example"


def test_a_marketer_sees_the_queue_but_cannot_decide(es: Elasticsearch, names: IndexNames, dashboard):
    propose(es, names)
    at = dashboard("pages/review.py", as_user="marketing@lumio.example")
    assert not [b for b in at.button if b.label in (t("review_confirm"), t("review_reject"))]
    assert "• author name “julie martin” matches Julie Martin (100%)" in [el.value for el in at.text]


def test_only_community_managers_marketers_and_admins_may_open_the_review_page():
    assert page_named("review").roles == {"community_manager", "marketer", "admin"}


def test_the_quality_panel_counts_the_sample_crm_problems(
    es: Elasticsearch, names: IndexNames, settings: Settings, dashboard
):
    Engine(settings, es, names).import_customers()
    at = dashboard("pages/review.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("quality_customers")] == "60"
    assert metrics[t("quality_duplicates")] == "1"
    assert metrics[t("quality_invalid_email")] == "1"
    assert metrics[t("quality_missing_owner")] == "1"
    assert metrics[t("quality_rejected")] == "0"
    frames = [df.value for df in at.dataframe]
    duplicates = next(f for f in frames if t("quality_value") in f.columns)
    assert duplicates.to_dict("records") == [
        {
            t("quality_value"): "famille.garnier@courriel.example",
            t("quality_customers_with_it"): "C-1024, C-1049",
        }
    ]
    problems = next(f for f in frames if t("quality_detail") in f.columns)
    assert sorted(problems[t("customer_id")]) == ["C-1031", "C-1056"]
