"""Runs the components in order on a batch: RawPost -> Mention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from core.config import BrandConfig
from core.documents import Label, Mention, RawPost, as_utc, document_id
from core.names import author_key
from nlp.classifier import Prediction, TextClassifier, load_classifier
from nlp.dedup import PostToCheck, StreamDeduplicator
from nlp.entities import BrandTerm, entities_in_background
from nlp.intent import switching_to_brand
from nlp.language import MAX_EXTRACTED, SUPPORTED, detect_language, normalise, storable_value
from nlp.linking import CustomerDirectory, resolve_customer


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


def entity_terms(brand: BrandConfig) -> tuple[BrandTerm, ...]:
    """Every name, keyword, product and handle of the brand and its competitors, for the entity ruler."""
    terms = [BrandTerm("brand", brand.name, k) for k in dict.fromkeys([brand.name, *brand.keywords])]
    for name, keywords in brand.competitors.items():
        terms += [BrandTerm("competitor", name, k) for k in dict.fromkeys([name, *keywords])]
    return tuple(t for t in terms if t.phrase.strip())


def storable_post(post: RawPost) -> RawPost:
    """The post with each lone surrogate, wherever it is (text, title, author, raw payload), replaced by
    U+FFFD: a mention carrying one could not be written as UTF-8 JSON to the index, spool or dead letters."""
    data = post.model_dump()
    clean = storable_value(data)
    return post if clean == data else RawPost.model_validate(clean)


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


def full_text(title: str | None, text: str) -> str:
    """What the models read of a post: its title (when the text does not already hold it), then its text."""
    return f"{title}. {text}" if title and title not in text else text


def relabel(mentions: list[Mention], classifier: TextClassifier, brand: BrandConfig) -> list[Mention]:
    """The same mentions with sentiment, intents and `model` from `classifier`; nothing else changes.

    Used to re-score stored mentions with the accurate model: triage, links and flags stay as they are.
    """
    if not mentions:
        return []
    texts = [normalise(full_text(m.title, m.text)).for_models for m in mentions]
    labels = mention_labels(classifier.predict(texts, [m.language for m in mentions]), texts, brand)
    return [m.model_copy(update=fields) for m, fields in zip(mentions, labels, strict=True)]


def mention_labels(
    predictions: list[Prediction], texts: list[str], brand: BrandConfig
) -> list[dict[str, Any]]:
    """The label fields of each mention (sentiment, headline intent, intents, model) from its prediction."""
    brand_terms = [b.casefold() for b in [brand.name, *brand.keywords]]
    labels = []
    for prediction, text in zip(predictions, texts, strict=True):
        intents = brand_aware_intents(prediction.intents, text, brand_terms)
        labels.append(
            {
                "sentiment": prediction.sentiment,
                "intent": headline_intent(intents) or prediction.top_intent,
                "intents": intents,
                "model": prediction.model or None,
            }
        )
    return labels


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
    Any text is safe: every model reads a bounded, cleaned prefix (nlp/language.py `for_models`), and
    the mention stores the post as written, lone surrogates replaced by U+FFFD (`storable_post`).
    """
    if not posts:
        return []
    posts = [storable_post(p) for p in posts]
    full_texts = [full_text(p.title, p.text) for p in posts]
    normalised = [normalise(t) for t in full_texts]
    languages = [
        detect_language(n.for_models, p.language_hint) for n, p in zip(normalised, posts, strict=True)
    ]
    model_texts = [n.for_models for n in normalised]
    entity_job = (
        entities_in_background(model_texts, languages, batch_size, entity_terms(brand))
        if with_entities
        else None
    )
    predictions = (classifier or load_classifier()).predict(model_texts, languages)
    entities = entity_job.result() if entity_job else [[] for _ in posts]
    labels = mention_labels(predictions, model_texts, brand)
    ids = [mention_id(p.source, p.native_id) for p in posts]
    flags = (deduplicator or StreamDeduplicator()).flag(
        [
            PostToCheck(id=i, text=n.for_models, author=_author_key(p), urls=n.urls)
            for i, p, n in zip(ids, posts, normalised, strict=True)
        ]
    )
    now = datetime.now(UTC)
    mentions = []
    for i, post in enumerate(posts):
        link, proposal = resolve_customer(post, normalised[i], entities[i], directory)
        mentions.append(
            Mention(
                **carried(post),
                id=ids[i],
                language=languages[i],
                enriched_at=now,
                topics=topics_of(full_texts[i], brand),
                hashtags=_hashtags(normalised[i].hashtags, post.hashtags),
                entities=entities[i],
                **labels[i],
                link=link,
                customer_id=link.customer_id if link else None,
                link_proposal=proposal,
                flags=[*flags[i].flags, *date_flags(post)],
                duplicate_of=flags[i].duplicate_of,
                flag_reasons=flags[i].reasons,
            )
        )
    return mentions


def unenriched(post: RawPost) -> Mention:
    """The post as a mention no model has read (neutral and "other" at confidence 0), for the dead-letter
    file when enriching it failed: the post is kept, with the reason beside it."""
    post = storable_post(post)
    hint = (post.language_hint or "").lower()[:2]
    nothing = Label(label="other", confidence=0.0)
    return Mention(
        **carried(post),
        id=mention_id(post.source, post.native_id),
        language=hint if hint in SUPPORTED else "other",
        enriched_at=datetime.now(UTC),
        sentiment=Label(label="neutral", confidence=0.0),
        intent=nothing,
        flags=date_flags(post),
    )


CARRIED = ("source", "platform", "native_id", "url", "author", "title", "text", "created_at", "collected_at",
           "thread", "engagement", "raw")  # fmt: skip
"""What a mention keeps of its post as collected."""


def _hashtags(in_text: list[str], listed: list[str]) -> list[str]:
    """The hashtags read in the text, then those only the platform lists (lower case, each once)."""
    found = dict.fromkeys(in_text)
    for tag in listed[:MAX_EXTRACTED]:
        found.setdefault(tag.lstrip("#").lower())
    return [t for t in found if t]


FUTURE_TOLERANCE = timedelta(days=1)
"""How far past its collection a post's date may lie (time zones, clocks) before it is not believed."""


def claims_future(post: RawPost) -> bool:
    """Whether the post says it was published more than a day after it was collected."""
    return as_utc(post.created_at) > as_utc(post.collected_at) + FUTURE_TOLERANCE


def date_flags(post: RawPost) -> list[Literal["future_date", "undated"]]:
    """`future_date` for a date not believed, `undated` for a post whose source gave none (it is dated
    when it was collected)."""
    return ["future_date"] if claims_future(post) else [] if post.dated else ["undated"]


def carried(post: RawPost) -> dict:
    """What the mention keeps of its post. A date in the future is kept as `published_claimed` and the
    mention is dated when it was collected, so it cannot sit on top of the newest-first inbox forever."""
    kept = {name: getattr(post, name) for name in CARRIED}
    if claims_future(post):
        kept["created_at"], kept["published_claimed"] = post.collected_at, post.created_at
    return kept


def _author_key(post: RawPost) -> str | None:
    who = post.author.id or post.author.handle
    return author_key(post.platform, who) if who else None
