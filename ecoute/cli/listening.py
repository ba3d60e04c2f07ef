"""`ecoute run`, `ecoute collect` and `ecoute sources`: listening, all of it or one source, and its health."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import typer

from core.errors import EcouteError
from core.text import terminal_text
from ecoute.cli.common import engine_of
from ecoute.cli.dashboard import start_dashboard
from ecoute.cli.output import print_json, progress_bars, say
from ecoute.config import load_settings
from index.client import embedded_server, open_index


def run(config: Path, dashboard: bool) -> None:
    """Everything until Ctrl-C or SIGTERM; stops the embedded stand-in only if it started it here."""
    from ecoute.rescoring import start_rescoring
    from ecoute.scheduler import schedule_jobs
    from ecoute.streams import start_streams
    from ecoute.supervision import IndexWatch

    settings = load_settings(config)
    server = None if settings.elasticsearch.url else embedded_server(settings)
    started_here = server is not None and not server.answers()
    engine = engine_of(config)
    results = engine.mirror_crm()  # a CRM source that fails is one line; the listening still starts
    for failure in (r for r in results if isinstance(r, str)):
        say(f"failed: {failure}", err=True)
    reports = [r for r in results if not isinstance(r, str)]
    written, rejected = sum(r.customers for r in reports), sum(len(r.rejected) for r in reports)
    say(f"crm: {written} customers mirrored, {rejected} rows rejected")
    viewer = start_dashboard(config, engine.settings) if dashboard else None
    scheduler = schedule_jobs(engine)
    # Each live stream in a thread of its own, so a hanging one never holds up the polled sources.
    stop_streams = threading.Event()
    streams = start_streams(engine, stop_streams)
    watch = IndexWatch(engine, server) if server is not None else None
    if watch is not None:  # an embedded stand-in that dies is started again on its data
        watch.start(stop_streams)
    for runner in streams:
        say(f"{runner.source}: following the live stream")
    if start_rescoring(engine, stop_streams):  # the accurate model re-scores stored mentions meanwhile
        say("accurate model: re-scoring stored mentions in the background, newest first")
    # `kill` (SIGTERM) stops as cleanly as Ctrl-C: leases released, children stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    say("scheduler running (Ctrl-C stops)")
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
            say("embedded Elasticsearch stopped (data kept)")


def collect(source: str, config: Path, since: datetime | None, refresh: bool, as_json: bool) -> None:
    """One source once, now, with its pages and posts as progress bars; exit 1 when it failed."""
    if refresh and since:
        raise EcouteError("--refresh re-reads the source's last refresh_days: it takes no --since")
    engine = engine_of(config)
    if since and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    # each problem is logged once, by the engine
    with progress_bars(shown=not as_json) as progress:
        report = engine.collect(source, since=since, refresh=refresh, progress=progress)
    if as_json:
        print_json({"since": since, **report.as_dict()})
    else:
        say(report.line())
    if report.error or report.failed:
        raise typer.Exit(1)


def sources(config: Path, as_json: bool) -> None:
    """Every source's health, as a table or as JSON; the index must already be running."""
    from ecoute.health import source_health
    from index.client import IndexNames
    from index.state import source_states

    settings = load_settings(config)
    es = open_index(settings, start_embedded=False)
    states = source_states(es, IndexNames.of(settings.elasticsearch, settings.index))
    health = source_health(settings, {s.source: s.data for s in states})
    if as_json:
        print_json([h.as_dict() for h in health])
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
    rows = [[terminal_text(cell) for cell in row] for row in rows]  # measured as printed
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)
