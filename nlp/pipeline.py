"""Runs the components in order on a batch: RawPost -> Mention."""

from __future__ import annotations

from datetime import UTC, datetime

from collectors.base import RawPost
from ecoute.config import BrandConfig
from index.documents import Label, Mention, document_id
from nlp.classifier import TextClassifier, load_classifier
from nlp.dedup import PostToCheck, StreamDeduplicator
from nlp.entities import entities_in_background
from nlp.intent import switching_to_brand
from nlp.language import detect_language, normalise
from nlp.linking import CustomerDirectory, author_key, resolve_customer


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


def brand_aware_intents(intents: list[Label], text: str, brand_terms: list[str]) -> list[Label]:
    """A "churn" that is someone switching *to* the brand is a purchase: the model cannot know the brand."""
    churn = next((i for i in intents if i.label == "churn_risk"), None)
    if churn is None or not switching_to_brand(text, brand_terms):
        return intents
    rest = [i for i in intents if i.label not in ("churn_risk", "purchase")]
    return sorted([Label(label="purchase", confidence=churn.confidence), *rest], key=lambda i: -i.confidence)


def headline_intent(intents: list[Label]) -> Label | None:
    """The intent a person should act on first: churn risk whenever it applies, else the most confident.

    A customer who says they are leaving usually complains too; losing the account costs more than
    a late answer to the complaint, so churn heads the mention.
    """
    return next((i for i in intents if i.label == "churn_risk"), intents[0] if intents else None)


def enrich(
    posts: list[RawPost],
    directory: CustomerDirectory,
    brand: BrandConfig,
    with_entities: bool = True,
    batch_size: int = 64,
    classifier: TextClassifier | None = None,
    deduplicator: StreamDeduplicator | None = None,
) -> list[Mention]:
    """Language, entities, customer link, sentiment, intents and spam/duplicate flags for a batch of posts.

    `classifier` defaults to the trained model bundled in nlp/models/default, loaded once per process;
    `deduplicator` remembers earlier batches (without one, posts are compared within this batch only).
    """
    if not posts:
        return []
    full_texts = [f"{p.title}. {p.text}" if p.title and p.title not in p.text else p.text for p in posts]
    normalised = [normalise(t) for t in full_texts]
    languages = [
        detect_language(n.for_models, p.language_hint) for n, p in zip(normalised, posts, strict=True)
    ]
    model_texts = [n.for_models for n in normalised]
    entity_job = entities_in_background(model_texts, languages, batch_size) if with_entities else None
    predictions = (classifier or load_classifier()).predict(model_texts, languages)
    entities = entity_job.result() if entity_job else [[] for _ in posts]
    brand_terms = [b.casefold() for b in [brand.name, *brand.keywords]]
    intents = [
        brand_aware_intents(p.intents, t, brand_terms) for p, t in zip(predictions, model_texts, strict=True)
    ]
    ids = [mention_id(p.source, p.native_id) for p in posts]
    flags = (deduplicator or StreamDeduplicator()).flag(
        [
            PostToCheck(id=i, text=t, author=_author_key(p), urls=n.urls)
            for i, t, p, n in zip(ids, full_texts, posts, normalised, strict=True)
        ]
    )
    now = datetime.now(UTC)
    mentions = []
    for i, post in enumerate(posts):
        link, proposal = resolve_customer(post, normalised[i], entities[i], directory)
        mentions.append(
            Mention(
                id=ids[i],
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
                sentiment=predictions[i].sentiment,
                intent=headline_intent(intents[i]) or predictions[i].top_intent,
                intents=intents[i],
                link=link,
                customer_id=link.customer_id if link else None,
                link_proposal=proposal,
                flags=flags[i].flags,
                duplicate_of=flags[i].duplicate_of,
                flag_reasons=flags[i].reasons,
                raw=post.raw,
            )
        )
    return mentions


def _author_key(post: RawPost) -> str | None:
    who = post.author.id or post.author.handle
    return author_key(post.platform, who) if who else None
