"""NLP v1 components on realistic French and English posts (real models, no stubs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.config import BrandConfig
from core.documents import RawPost
from nlp.entities import entities_in_background, extract_entities
from nlp.intent import classify_intent
from nlp.language import detect_language, normalise
from nlp.linking import CustomerDirectory, link_customer
from nlp.pipeline import enrich, mention_id, topics_of
from nlp.sentiment import score_sentiment
from tests.factories import make_customer

BRAND = BrandConfig(name="Lumio", keywords=["lumio"], competitors={"Zéphyr Télécom": ["zéphyr", "zephyr"]})


def post(text: str, handle: str | None = None, **extra) -> RawPost:
    return RawPost(
        source="test",
        platform="mastodon",
        native_id=str(abs(hash(text))),
        text=text,
        author={"handle": handle},
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        **extra,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ma box Lumio redémarre toute seule depuis ce matin, c'est pénible", "fr"),
        ("My Lumio router keeps dropping the connection every evening", "en"),
        ("@LumioCare merci pour l'aide rapide hier soir ! https://t.example/x", "fr"),
        ("Dieser Router ist wirklich sehr langsam geworden", "other"),
    ],
)
def test_language_is_french_english_or_other(text: str, expected: str):
    assert detect_language(text) == expected


def test_normalise_pulls_out_urls_handles_hashtags_and_emails_but_keeps_emoji():
    found = normalise("Panne 😡 #Lumio @LumioCare écrivez à jane.roy@acme.example https://x.example/a")
    assert found.hashtags == ["lumio"]
    assert found.handles == ["lumiocare"]
    assert found.emails == ["jane.roy@acme.example"]
    assert found.urls == ["https://x.example/a"]
    assert "😡" in found.for_models and "https://" not in found.for_models


def test_entities_come_from_the_pipeline_of_each_language():
    texts = ["Marie Dupont habite à Lyon et travaille chez Airbus.", "Tom Baker moved to London last year."]
    fr, en = extract_entities(texts, ["fr", "en"])
    assert {"text": "Lyon", "label": "place"} in [e.model_dump() for e in fr]
    assert {"text": "London", "label": "place"} in [e.model_dump() for e in en]
    assert any(e.label == "person" and "Tom Baker" in e.text for e in en)


def test_entities_from_the_worker_thread_match_the_direct_call_in_order():
    texts = ["Marie Dupont habite à Lyon et travaille chez Airbus.", "Tom Baker moved to London last year."]
    jobs = [entities_in_background(texts[::step], ["fr", "en"][::step]) for step in (1, -1)]
    assert [job.result() for job in jobs] == [
        extract_entities(texts, ["fr", "en"]),
        extract_entities(texts[::-1], ["en", "fr"]),
    ]


def test_sentiment_reads_clear_praise_and_clear_anger_in_both_languages():
    labels = score_sentiment(
        [
            "Service client au top, merci beaucoup, je suis ravie !",
            "Honteux, inadmissible, je suis furieux contre ce service horrible",
            "Absolutely love the new app, great job!",
            "Terrible service, worst provider ever, I hate this.",
        ],
        ["fr", "fr", "en", "en"],
    )
    assert [label.label for label in labels] == ["positive", "negative", "positive", "negative"]
    assert all(0.5 <= label.confidence <= 1.0 for label in labels)


def test_intent_tells_churn_from_purchase_by_who_the_author_switches_to():
    labels = classify_intent(
        [
            "Je passe chez Zéphyr le mois prochain, j'en ai marre",
            "Thinking of switching to Lumio fibre, any feedback?",
            "Switching to Lumio next week, finally",
            "Gagnez un iPhone gratuit, cliquez ici !!!",
            "Comment activer le roaming sur mon forfait ?",
        ],
        ["Lumio", "lumio"],
    )
    assert [label.label for label in labels] == ["churn_risk", "purchase", "purchase", "spam", "question"]


def test_a_post_by_a_customer_handle_is_linked_with_the_reason():
    customer = make_customer("C-7", handles=["julie.martin@mamot.example"], company="Boulangerie Martin")
    directory = CustomerDirectory([customer])
    text = "Toujours pas de connexion"
    link = link_customer(post(text, handle="@Julie.Martin@mamot.example"), normalise(text), directory)
    assert link is not None and link.customer_id == "C-7" and link.method == "handle"
    assert (
        link.reason == "handle @julie.martin@mamot.example is on record for Julie Martin, Boulangerie Martin"
    )
    assert link_customer(post(text, handle="someone.else"), normalise(text), directory) is None


def test_an_email_in_the_text_links_when_the_handle_is_unknown():
    directory = CustomerDirectory([make_customer("C-8", email="tom@northwind.example", handles=[])])
    text = "Contact me at tom@northwind.example about the outage"
    link = link_customer(post(text, handle="unknown"), normalise(text), directory)
    assert link is not None and (link.customer_id, link.method) == ("C-8", "email")


def test_topics_name_the_brand_and_competitors_mentioned():
    assert topics_of("Lumio ou Zephyr, lequel choisir ?", BRAND) == ["Lumio", "Zéphyr Télécom"]
    assert topics_of("Rien à voir", BRAND) == []


def test_enrich_builds_a_complete_mention_with_an_idempotent_id():
    directory = CustomerDirectory([make_customer("C-9", handles=["client9"])])
    raw = post("Je résilie mon abonnement Lumio, panne depuis trois jours, c'est honteux !", handle="client9")
    (mention,) = enrich([raw], directory, BRAND)
    assert mention.id == mention_id("test", raw.native_id)
    assert (mention.language, mention.customer_id, mention.topics) == ("fr", "C-9", ["Lumio"])
    assert mention.sentiment.label == "negative"
    assert mention.intent.label == "churn_risk"


def test_the_platforms_own_hashtags_join_those_read_in_the_text():
    tagged = post("La box #Lumio redémarre", hashtags=["Panne", "lumio"])
    (mention,) = enrich([tagged], CustomerDirectory(), BRAND)
    assert mention.hashtags == ["lumio", "panne"]


def test_a_post_its_source_gave_no_date_is_flagged_undated():
    (undated, dated) = enrich(
        [post("Lumio, article sans date", dated=False), post("Lumio, article daté")],
        CustomerDirectory(),
        BRAND,
    )
    assert undated.flags == ["undated"] and dated.flags == []
