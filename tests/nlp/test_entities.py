"""Entities that mean something: the brand and competitors of config.yaml by name, no debris (real spaCy)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import BrandConfig
from core.documents import RawPost
from nlp.entities import extract_entities
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich, entity_terms

FREE = BrandConfig(
    name="Free",
    keywords=["free", "freebox", "free mobile"],
    competitors={"Orange": ["orange"], "SFR": ["sfr"], "Bouygues Telecom": ["bouygues"]},
)
LUMIO = BrandConfig(
    name="Lumio", keywords=["lumio", "@lumiocare", "#lumio"], competitors={"Arcadia": ["arcadia"]}
)


def pairs(text: str, language: str, brand: BrandConfig | None = None) -> set[tuple[str, str]]:
    terms = entity_terms(brand) if brand else ()
    (found,) = extract_entities([text], [language], terms=terms)
    return {(e.text, e.label) for e in found}


def test_the_brand_and_its_competitors_are_named_as_in_config_whatever_the_case():
    found = pairs(
        "Marie est passée de SFR à FREE MOBILE, sa Freebox marche mieux qu'avec orange.", "fr", FREE
    )
    assert {("Free", "brand"), ("SFR", "competitor"), ("Orange", "competitor")} <= found
    assert ("Marie", "person") in found


def test_the_brand_is_never_a_person():
    texts = [
        "Lumio told me to wait another week.",
        "Thanks Lumio, and thanks @LumioCare for the quick fix #lumio",
    ]
    for text in texts:
        found = pairs(text, "en", LUMIO)
        assert ("Lumio", "brand") in found and not any(label == "person" for _, label in found), found


def test_each_brand_gets_its_own_entities_from_the_same_pipeline():
    text = "Je quitte Free pour Lumio, Arcadia était pire."
    assert {("Free", "brand"), ("Lumio", "brand")} <= pairs(text, "fr", FREE) | pairs(text, "fr", LUMIO)
    assert ("Lumio", "brand") not in pairs(text, "fr", FREE)
    assert ("Free", "brand") not in pairs(text, "fr", LUMIO)
    assert ("Arcadia", "competitor") in pairs(text, "fr", LUMIO)


def test_urls_handles_hashtags_greetings_and_punctuation_are_not_entities():
    texts = [
        "Roma and Juventus meet tomorrow http://t.co/2Z6TNRwEV9 see www.example.com/odds",
        "@Monchurodriguez Catch me in Dallas at the @Microsoft event #ATL #DragMeDown !",
        "Bonjour, j’ai un souci avec ma box, c’est la panne svp ! ?",
    ]
    found = extract_entities(texts, ["en", "en", "fr"])
    shown = [e.text for entities in found for e in entities]
    assert "Juventus" in shown and "Dallas" in shown
    for text in shown:
        assert not text.startswith(("@", "#")) and "http" not in text.lower() and "www" not in text
        assert any(c.isalpha() for c in text) and not text.endswith(("’", "'"))
        assert text.lower() not in {"bonjour", "svp", "atl", "dragmedown", "c’", "j’"}


def test_enrich_labels_the_configured_brand():
    post = RawPost(
        source="test",
        platform="mastodon",
        native_id="1",
        text="Trois jours sans internet chez Free, je pars chez Bouygues.",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    (mention,) = enrich([post], CustomerDirectory(), FREE)
    assert {("Free", "brand"), ("Bouygues Telecom", "competitor")} <= {
        (e.text, e.label) for e in mention.entities
    }
