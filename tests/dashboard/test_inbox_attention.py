"""Inbox ordered by what needs a person first, and triage forms opened one mention at a time."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from core.documents import CustomerLink, Label, document_id
from dashboard.text import t
from index.client import IndexNames
from index.mention_search import MentionFilter, attention_reasons, search_mentions
from index.mentions import get_mentions_versioned, index_mentions
from index.triage import update_triage
from tests.dashboard.helpers import open_triage
from tests.dashboard.test_pages import mention, texts

CM = "community@lumio.example"


def linked(customer_id: str) -> dict:
    return {
        "customer_id": customer_id,
        "link": CustomerLink(
            customer_id=customer_id, method="handle", confidence=1.0, reason="handle on record"
        ),
    }


def seed(es: Elasticsearch, names: IndexNames) -> None:
    sure_complaint = Label(label="complaint", confidence=0.93)
    index_mentions(
        es,
        names,
        [
            mention("newest", "Lumio, question sur la fibre.", hours=1),
            mention(
                "angry-customer", "Lumio, toujours en panne !", hours=5, intent=sure_complaint, **linked("C1")
            ),
            mention("angry", "Lumio, encore une coupure.", hours=4, sentiment="negative"),
            mention("unsure", "Lumio, bof.", hours=2, intent=Label(label="complaint", confidence=0.4)),
            mention("customer", "Lumio, merci.", hours=3, **linked("C2")),
            mention("answered", "Lumio, résilié, je pars.", hours=0.5, sentiment="negative", **linked("C3")),
        ],
    )


def test_needing_attention_puts_untriaged_unhappy_customers_first_then_newest(
    es: Elasticsearch, names: IndexNames
):
    seed(es, names)
    answered = search_mentions(es, names, MentionFilter(query="résilié")).hits[0].mention
    seen = get_mentions_versioned(es, names, [answered.id])[answered.id]
    update_triage(es, names, answered.id, {"status": "answered"}, CM, seen.seq_no, seen.primary_term)

    page = search_mentions(es, names, MentionFilter(), order="attention")
    assert [h.mention.native_id for h in page.hits] == [
        "angry-customer",  # new, a complaint the model is sure of, a customer
        "angry",  # new, surely negative
        "customer",  # new, a linked customer
        "newest",  # new: newest first among the rest (an unsure complaint counts as nothing)
        "unsure",
        "answered",  # already answered: last, though the newest and a customer
    ]
    assert page.total == 6
    # The reasons shown beside each card are the ones the query scored.
    assert [attention_reasons(h.mention) for h in page.hits] == [
        ["untriaged", "unhappy", "customer"],
        ["untriaged", "unhappy"],
        ["untriaged", "customer"],
        ["untriaged"],
        ["untriaged"],
        ["unhappy", "customer"],
    ]
    newest = search_mentions(es, names, MentionFilter())
    assert newest.hits[0].mention.native_id == "answered"


def test_needing_attention_keeps_filters_and_highlights(es: Elasticsearch, names: IndexNames):
    seed(es, names)
    flt = MentionFilter(query="coupure", sentiments=["negative"])
    page = search_mentions(es, names, flt, order="attention")
    assert [h.mention.native_id for h in page.hits] == ["angry"]
    assert page.hits[0].highlights == ["Lumio, encore une «coupure»."]
    flt = MentionFilter(query="Lumio", sentiments=["negative"])
    assert [h.mention.native_id for h in search_mentions(es, names, flt, order="attention").hits] == [
        "answered",
        "angry",
    ]


def test_the_inbox_order_can_be_switched_to_needing_attention(
    es: Elasticsearch, names: IndexNames, dashboard
):
    seed(es, names)
    at = dashboard(as_user=CM)
    assert texts(at)[0] == "Lumio, résilié, je pars."
    answered = document_id("test", "answered")
    open_triage(at, answered)
    at.selectbox(key=f"triage_status_{answered}").set_value("answered")
    (save,) = [b for b in at.button if b.proto.form_id == f"triage_form_{answered}"]
    save.click().run(timeout=30)
    at.button(key="inbox_refresh").click().run(timeout=30)  # a saved list keeps its order until refreshed

    at.sidebar.radio(key="inbox_order").set_value("attention").run(timeout=30)
    assert texts(at) == [
        "Lumio, toujours en panne !",
        "Lumio, encore une coupure.",
        "Lumio, merci.",
        "Lumio, question sur la fibre.",
        "Lumio, bof.",
        "Lumio, résilié, je pars.",
    ]
    assert t("inbox_shown_attention", shown=6, total=6) in [c.value for c in at.caption]
    reasons = ", ".join(t(f"attention_{r}") for r in ("untriaged", "unhappy", "customer"))
    assert t("attention_because", reasons=reasons) in [c.value for c in at.caption]
