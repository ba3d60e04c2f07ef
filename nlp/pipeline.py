"""Runs the components in order on a batch: RawPost -> Mention."""

from __future__ import annotations

from datetime import UTC, datetime

from collectors.base import RawPost
from ecoute.config import BrandConfig
from index.documents import Mention, document_id
from nlp.entities import extract_entities
from nlp.intent import classify_intent
from nlp.language import detect_language, normalise
from nlp.linking import CustomerDirectory, link_customer
from nlp.sentiment import score_sentiment


def mention_id(source: str, native_id: str) -> str:
    """Idempotent id: the same post collected twice gets the same id."""
    return document_id(source, native_id)


def topics_of(text: str, brand: BrandConfig) -> list[str]:
    """Which of the brand and its competitors the text names."""
    folded = text.casefold()
    found = []
    for name, keywords in [(brand.name, [brand.name, *brand.keywords]), *brand.competitors.items()]:
        if any(k.casefold() in folded for k in [name, *keywords]):
            found.append(name)
    return found


def enrich(
    posts: list[RawPost],
    directory: CustomerDirectory,
    brand: BrandConfig,
    with_entities: bool = True,
    batch_size: int = 64,
) -> list[Mention]:
    """Language, entities, customer link, sentiment and intent for a batch of posts."""
    if not posts:
        return []
    full_texts = [f"{p.title}. {p.text}" if p.title and p.title not in p.text else p.text for p in posts]
    normalised = [normalise(t) for t in full_texts]
    languages = [
        detect_language(n.for_models, p.language_hint) for n, p in zip(normalised, posts, strict=True)
    ]
    model_texts = [n.for_models for n in normalised]
    entities = (
        extract_entities(model_texts, languages, batch_size=batch_size)
        if with_entities
        else [[] for _ in posts]
    )
    sentiments = score_sentiment(model_texts, languages)
    intents = classify_intent(model_texts, [brand.name, *brand.keywords])
    now = datetime.now(UTC)
    mentions = []
    for i, post in enumerate(posts):
        link = link_customer(post, normalised[i], directory)
        mentions.append(
            Mention(
                id=mention_id(post.source, post.native_id),
                source=post.source,
                platform=post.platform,
                native_id=post.native_id,
                url=post.url,
                author=post.author,
                title=post.title,
                text=post.text,
                language=languages[i],
                created_at=post.created_at,
                collected_at=post.collected_at,
                enriched_at=now,
                thread=post.thread,
                engagement=post.engagement,
                topics=topics_of(full_texts[i], brand),
                hashtags=normalised[i].hashtags,
                entities=entities[i],
                sentiment=sentiments[i],
                intent=intents[i],
                link=link,
                customer_id=link.customer_id if link else None,
                raw=post.raw,
            )
        )
    return mentions
