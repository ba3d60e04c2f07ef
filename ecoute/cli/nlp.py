"""`ecoute nlp classify|train|rescore|eval`: the NLP pipeline and its models, by hand."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import typer

from core.errors import EcouteError
from core.progress import counted
from ecoute.cli.common import engine_of
from ecoute.cli.output import json_text, progress_bars, say
from ecoute.config import Settings, load_settings


def classify(texts: list[str] | None, config: Path, author: str | None, input_file: Path | None) -> None:
    """One JSON line per text read (arguments, --input or stdin), in order; a blank one says so."""
    from core.documents import RawPost
    from nlp.classifier import classifier_for
    from nlp.linking import CustomerDirectory
    from nlp.pipeline import enrich

    settings = load_settings(config)
    if texts:
        lines: Iterable[str] = texts
    elif input_file is not None:
        try:
            lines = input_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise EcouteError(f"{input_file}: cannot read ({exc.strerror or exc})") from exc
    else:
        lines = (line.rstrip("\n") for line in sys.stdin)
    classifier = classifier_for(settings)
    fields = {"text", "language", "sentiment", "intent", "intents", "entities", "topics"}

    def flush(batch: list[str]) -> None:
        posts = [
            RawPost(source="cli", platform="cli", native_id=str(i), text=t, author={"handle": author},
                    created_at=datetime.now(UTC))
            for i, t in enumerate(batch) if t.strip()
        ]  # fmt: skip
        mentions = iter(enrich(posts, CustomerDirectory(), settings.brand, classifier=classifier))
        for text in batch:  # a blank line still gets its line of output, so the order holds
            row = next(mentions).model_dump(mode="json", include=fields) if text.strip() else None
            typer.echo(json_text(row or {"text": text, "error": "empty text"}))

    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= settings.nlp.batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)


def train(model: str, train: list[Path] | None, out: Path | None, seed: int, cache: Path | None) -> None:
    """Train one shipped model, all of them, or a fast-style head on given files; print the scores."""
    from nlp.classifier import SHIPPED_MODELS
    from nlp.train import describe, headline, train_files, write_shipped

    if train:
        target = out or SHIPPED_MODELS["fast"]
        with progress_bars() as progress:
            result = train_files(train, target, seed=seed, progress=progress)
        for line in describe(result.metrics):
            say(line)
        say(f"model written to {target}")
        return
    names = list(SHIPPED_MODELS) if model == "all" else [model]
    if any(n not in SHIPPED_MODELS for n in names):
        raise EcouteError(f"--model {model}: known models are fast, accurate and all")
    if out and len(names) > 1:
        raise EcouteError("--out names one directory: choose one --model")
    for name in names:
        target = out or SHIPPED_MODELS[name]
        with progress_bars() as progress:
            result = write_shipped(name, target, seed=seed, cache=cache, progress=progress)
        for source, score in result.metrics["validation"].items():
            say(f"{name:<8} {source:<22} n={score['n']:<5} {headline(score):.3f}  ECE {score['ece']:.3f}")
        for intent, score in result.metrics["cv_intents"].items():
            say(f"{name:<8} cv intent {intent:<22} positives={score['positives']:<4} F1={score['f1']:.3f}")
        say(f"{name} model written to {target}")


def rescore(config: Path, seconds: float) -> None:
    """Re-score with the accurate model for at most `seconds`, then say what it did and what is left."""
    from ecoute.rescoring import Rescorer
    from nlp.classifier import rescoring_classifier_for

    engine = engine_of(config)
    classifier = rescoring_classifier_for(engine.settings)
    if classifier is None:
        raise EcouteError("nlp.models does not end with accurate: nothing re-scores")
    worker = Rescorer(engine, classifier)
    try:
        report = worker.run_for(seconds)
        say(
            f"re-scored {report.rescored} mentions with {worker.model}: {report.changed} changed label, "
            f"{report.alerts} alerts raised, {report.conflicts} changed meanwhile, {worker.pending()} left"
        )
    finally:
        engine.release()


def evaluate(
    eval_files: list[Path] | None, model: Path | None, source: list[str] | None, config: Path
) -> None:
    """The evaluation tables: real validation splits, real intents, the team-written set, linking."""
    from nlp.classifier import load_classifier, model_dir_for
    from nlp.evaluate import (
        evaluate_examples,
        format_real,
        format_reports,
        real_data_scores,
        real_intent_scores,
    )
    from nlp.realdata import SOURCES, intent_sources, read_split
    from nlp.train import DEFAULT_EVAL_FILES, load_examples

    settings = load_settings(config)
    paths = eval_files or list(DEFAULT_EVAL_FILES)
    examples = [e for path in paths for e in load_examples(path)]
    if model:
        classifiers = {model.name: load_classifier(str(model.resolve()))}
    else:
        classifiers = {n: load_classifier(str(model_dir_for(settings, n))) for n in settings.nlp.models}
    if not eval_files:
        # Intents on every real source labelled for them (or on those of --source), per source.
        intents_of = [s for s in intent_sources() if not source or s in source]
        runs = [(real, name) for real in intents_of for name in classifiers]
        with progress_bars() as progress:
            real_rows = real_data_scores(classifiers, source or None, progress)
            intents = {
                (real, name): real_intent_scores(classifiers[name], real)
                for real, name in counted(runs, progress, "scoring intents on real sources", len(runs))
            }
        say("Real posts, validation splits never trained on (nlp/data/real; MODEL_CARD.md):")
        for line in format_real(real_rows):
            say(line)
        for (real, name), scores in intents.items():
            posts, lang = len(read_split(real, "val")), SOURCES[real].lang
            say(f"Intents of {name} on {posts} held-aside real posts ({real}, {lang}):")
            for label, score in scores.items():
                say(
                    f"  {label:<22} n={score.support:<4} P={score.precision:.3f} R={score.recall:.3f} "
                    f"F1={score.f1:.3f}"
                )
    classifier = next(iter(classifiers.values())) if model else classifiers[settings.nlp.models[-1]]
    report, baseline = evaluate_examples(classifier, examples)
    say(f"Team-written set (secondary): {', '.join(str(p) for p in paths)}: {len(examples)} examples")
    for line in format_reports(report, baseline):
        say(line)
    say(_linking_line(settings, classifier))


def _linking_line(settings: Settings, classifier: object) -> str:
    """Linking precision/recall of the sample mentions against the sample CRM (authorship is known)."""
    from ecoute.samples import sample_directory, sample_posts
    from nlp.evaluate import score_links
    from nlp.pipeline import enrich

    posts, gold = sample_posts()
    mentions = enrich(posts, sample_directory(), settings.brand, with_entities=False, classifier=classifier)
    score = score_links([m.customer_id for m in mentions], [g.get("customer_id") for g in gold])
    return (
        f"linking   sample n={len(posts)} customer-authored={score.gold_links} "
        f"linked={score.predicted_links} precision={score.precision:.3f} recall={score.recall:.3f}"
    )
