"""Any text is safe: poison posts are enriched by the real pipeline, bounded, and storable as UTF-8 JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.config import BrandConfig
from core.documents import RawPost
from nlp.language import MAX_EXTRACTED, MODEL_CHARS, for_models, normalise, storable
from nlp.linking import CustomerDirectory
from nlp.pipeline import enrich
from tests.factories import make_customer

BRAND = BrandConfig(name="Lumio", keywords=["lumio"], competitors={"Zéphyr Télécom": ["zéphyr", "zephyr"]})
LONG = ("Ma box Lumio ne marche plus depuis ce matin, le support ne répond pas. " * 15_000)[:1_000_000]
POISON = {
    "lone surrogate": "Ma box Lumio \ud800 ne marche plus \udfff depuis hier",
    "NUL bytes": "Ma box\x00 Lumio\x00\x00 ne marche plus",
    "control characters": "My \x1b[31mLumio\x1b[0m router \x07\x08 keeps\x7f\x85 dropping",
    "1,000,000 characters": LONG,
    "10,000 hashtags": " ".join(f"#lumio{i}" for i in range(10_000)),
    "1,000,000 word characters": "a" * 1_000_000,  # an email pattern tried from every position was quadratic
    "1,000,000 at signs and dots": "@a." * 333_333,
    "only a surrogate": "\ud800",
    "empty": "",
}


def post(text: str, **extra) -> RawPost:
    return RawPost(
        source="test",
        platform="mastodon",
        native_id=str(abs(hash(text))),
        text=text,
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        **extra,
    )


@pytest.mark.parametrize("text", POISON.values(), ids=POISON.keys())
def test_enrich_returns_a_storable_mention_for_any_text(text: str):
    (mention,) = enrich([post(text)], CustomerDirectory(), BRAND)
    stored = mention.model_dump_json().encode("utf-8")  # what the index, spool and dead letters write
    assert len(mention.text) == len(text) and len(mention.hashtags) <= MAX_EXTRACTED
    assert len(stored) < 8 * len(text) + 10_000


def test_a_poison_post_does_not_spoil_the_rest_of_its_batch():
    good = post("My Lumio router keeps dropping the connection every evening, so annoying")
    mentions = enrich([post(POISON["lone surrogate"]), good, post(LONG)], CustomerDirectory(), BRAND)
    assert [m.native_id for m in mentions][1] == good.native_id
    assert mentions[1].language == "en" and mentions[1].sentiment.label == "negative"


def test_a_lone_surrogate_is_stored_as_the_replacement_character_wherever_it_is():
    raw = RawPost(
        source="test",
        platform="mastodon",
        native_id="s1",
        title="Titre \udc80",
        text="Ma box \ud800 Lumio",
        author={"display_name": "Jo \ud801", "handle": "jo"},
        raw={"text": "\ud800", "nested": [{"k\udfff": "v"}]},
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    (mention,) = enrich([raw], CustomerDirectory(), BRAND)
    assert mention.text == "Ma box \ufffd Lumio" and mention.title == "Titre \ufffd"
    assert mention.author.display_name == "Jo \ufffd"
    assert mention.raw == {"text": "\ufffd", "nested": [{"k\ufffd": "v"}]}
    json.dumps(mention.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")


def test_storable_joins_surrogate_pairs_and_keeps_everything_else():
    assert storable("\ud83d\ude00 ok\x00") == "😀 ok\x00"
    assert storable("a\ud800b") == "a\ufffdb"


def test_models_read_a_bounded_cleaned_prefix():
    cleaned = for_models("x\x00y \ud800 https://t.example/a\n\n" + "mot " * 10_000)
    assert (
        MODEL_CHARS - 4 <= len(cleaned) <= MODEL_CHARS
        and cleaned.startswith("x y mot mot")
        and "https" not in cleaned
    )
    assert for_models(cleaned) == cleaned


def test_hashtags_handles_and_links_are_bounded_and_distinct():
    text = " ".join(f"#Tag{i % 150} @user{i} https://x.example/{i}" for i in range(10_000))
    found = normalise(text)
    assert found.hashtags == [f"tag{i}" for i in range(MAX_EXTRACTED)]
    assert len(found.handles) == len(found.urls) == MAX_EXTRACTED


def test_a_link_that_cannot_be_parsed_does_not_break_customer_linking():
    customer = make_customer(
        "C-1", first_name="Lucy", last_name="Cox", company="Wrenfield Accounting",
        email="lucy.cox@wrenfield-accounting.example",
    )  # fmt: skip
    text = "My router died again, see https://[oops/x"
    (mention,) = enrich(
        [post(text, author={"display_name": "Lucy Cox", "handle": "lcox99"})],
        CustomerDirectory([customer]),
        BRAND,
    )
    assert normalise(text).urls == [] and mention.text == text
