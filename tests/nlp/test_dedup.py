"""Near-duplicate and spam/bot flags, alone and through the engine into the index and the inbox filter."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from core.documents import Author, RawPost
from ecoute.config import Settings
from ecoute.engine import Engine, RunReport
from index.client import IndexNames
from index.mention_search import MentionFilter, search_mentions
from nlp.dedup import DedupSettings, PostToCheck, StreamDeduplicator
from nlp.pipeline import mention_id

GIVEAWAY = "Gagnez un iPhone gratuit avec Lumio ! Cliquez sur ce lien avant minuit pour participer {}"


def check(post_id: str, text: str, author: str = "someone", urls: list[str] | None = None) -> PostToCheck:
    return PostToCheck(id=post_id, text=text, author=author, urls=urls or [])


def test_copies_with_other_handles_and_links_point_at_the_first_post():
    detector = StreamDeduplicator()
    first, second = detector.flag(
        [
            check("a", GIVEAWAY.format("@lumiocare https://win.example/a"), author="bot1"),
            check("b", GIVEAWAY.format("@julie https://win.example/b?utm_source=x"), author="bot2"),
        ]
    )
    assert first.flags == [] and first.duplicate_of is None
    assert second.flags == ["near_duplicate"] and second.duplicate_of == "a"
    assert second.reasons == ["same text as a"]


def test_the_third_account_posting_one_text_makes_it_coordinated():
    detector = StreamDeduplicator()
    results = detector.flag([check(f"p{i}", GIVEAWAY.format(""), author=f"bot{i}") for i in range(4)])
    assert [r.flags for r in results] == [
        [],
        ["near_duplicate"],
        ["near_duplicate", "coordinated"],
        ["near_duplicate", "coordinated"],
    ]
    assert results[3].reasons[-1] == "4 accounts posted this text"
    assert {r.duplicate_of for r in results[1:]} == {"p0"}


def test_one_author_repeating_a_text_is_a_duplicate_but_not_coordinated():
    detector = StreamDeduplicator()
    results = detector.flag([check(f"p{i}", GIVEAWAY.format(""), author="same") for i in range(4)])
    assert [r.flags for r in results[1:]] == [["near_duplicate"]] * 3


def test_different_posts_and_short_replies_are_not_flagged():
    detector = StreamDeduplicator()
    results = detector.flag(
        [
            check("a", "Ma box Lumio redémarre toutes les nuits depuis la mise à jour de mardi"),
            check("b", "Ma box Lumio fonctionne parfaitement depuis la mise à jour de mardi, merci"),
            check("c", "Merci beaucoup !", author="x"),
            check("d", "Merci beaucoup !", author="y"),
            check("e", "Thanks for the tip, I will try that tonight with my Lumio router"),
        ]
    )
    assert [r.flags for r in results] == [[]] * 5


def test_an_author_pushing_the_same_link_is_flagged_from_the_third_time():
    detector = StreamDeduplicator()
    texts = [
        "Best deals on phones this week",
        "Have you seen these prices? Unbelievable",
        "My favourite shop for accessories",
    ]
    results = detector.flag(
        [
            check(f"p{i}", text, author="promo", urls=[f"https://shop.example/deal?ref={i}"])
            for i, text in enumerate(texts)
        ]
        + [
            check(
                "other",
                "A friend sent me this, is it legit?",
                author="friend",
                urls=["https://shop.example/deal"],
            )
        ]
    )
    assert [r.flags for r in results] == [[], [], ["repeated_link"], []]
    assert results[2].reasons == ["promo posted https://shop.example/deal 3 times"]


def test_flagging_a_post_again_gives_the_same_answer():
    detector = StreamDeduplicator()
    detector.flag([check("a", GIVEAWAY.format(""), author="bot1")])
    (again,) = detector.flag([check("a", GIVEAWAY.format(""), author="bot1")])
    assert again.flags == [] and again.duplicate_of is None


def test_posts_older_than_the_window_are_forgotten():
    detector = StreamDeduplicator(DedupSettings(window=3))
    detector.flag([check("old", GIVEAWAY.format(""), author="bot1")])
    detector.flag(
        [
            check(f"filler{i}", f"Sujet numéro {i} sans rapport avec le reste, {'x' * i} fibre et mobile")
            for i in range(3)
        ]
    )
    (late,) = detector.flag([check("late", GIVEAWAY.format(""), author="bot2")])
    assert late.flags == []


def raw(native_id: str, handle: str, text: str) -> RawPost:
    return RawPost(
        source="test",
        platform="mastodon",
        native_id=native_id,
        author=Author(handle=handle),
        text=text,
        created_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )


def test_copies_across_batches_are_flagged_in_the_index_and_hidden_on_request(
    es: Elasticsearch, names: IndexNames, settings: Settings
):
    engine = Engine(
        settings.model_copy(update={"alerts": settings.alerts.model_copy(update={"rules": []})}), es
    )
    engine.names = names
    engine.prepare()
    genuine = raw(
        "g1", "julie@mastodon.example", "La fibre Lumio est enfin arrivée dans notre village, débit top"
    )
    assert engine.process([genuine, raw("c1", "bot1@spam.example", GIVEAWAY.format("#1"))], RunReport("test"))
    later = [raw(f"c{i}", f"bot{i}@spam.example", GIVEAWAY.format(f"#{i}")) for i in (2, 3)]
    assert engine.process(later, RunReport("test"))

    every = {
        h.mention.native_id: h.mention for h in search_mentions(es, names, MentionFilter(), size=10).hits
    }
    assert every["c3"].flags == ["near_duplicate", "coordinated"]
    assert every["c2"].duplicate_of == mention_id("test", "c1")
    assert every["g1"].flags == [] and every["c1"].flags == []
    quiet = search_mentions(es, names, MentionFilter(hide_noise=True), size=10).hits
    assert {h.mention.native_id for h in quiet} == {"g1", "c1"} - _spam_labelled(every)


def _spam_labelled(mentions: dict) -> set[str]:
    """The first copy stays unless the classifier itself called it spam: both hide it."""
    return {native_id for native_id, m in mentions.items() if m.intent.label == "spam"}
