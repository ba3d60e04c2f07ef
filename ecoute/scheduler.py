"""APScheduler wiring: each enabled source on its own interval, its refresh, plus the CRM refresh."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.errors import EcouteError
from ecoute.engine import INDEX_DOWN, Engine, refreshable
from ecoute.streams import stream_sources

log = logging.getLogger("ecoute")


def schedule_jobs(engine: Engine, scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """Add one job per enabled polled source (first run now) and the CRM refresh to `scheduler`.

    Sources with `stream: true` are not polled: ecoute/streams.py follows them in threads of their own.
    Every enabled source with `refresh_days` (streamed or not) also gets `refresh:<name>`, which re-reads
    its recent posts every `refresh_interval_seconds` (first run one interval from now).
    """
    scheduler = scheduler or BlockingScheduler(timezone=UTC)
    now = datetime.now(UTC)
    streamed = set(stream_sources(engine))
    for source in engine.settings.sources:
        if not source.enabled or source.name in streamed:
            continue
        scheduler.add_job(
            _collect,
            "interval",
            args=[engine, source.name],
            seconds=source.interval_seconds,
            jitter=source.jitter() or None,
            id=f"source:{source.name}",
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=source.interval_seconds,
        )
    for source in engine.settings.sources:
        if source.enabled and refreshable(source):
            interval = source.refresh_interval_seconds  # type: ignore[union-attr]
            scheduler.add_job(
                _refresh,
                "interval",
                args=[engine, source.name],
                seconds=interval,
                jitter=min(interval // 10, 600) or None,
                id=f"refresh:{source.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=interval,
            )
    if engine.crm_sources():
        scheduler.add_job(
            _import_customers,
            "interval",
            args=[engine],
            seconds=engine.settings.crm.refresh_seconds,
            id="crm:import",
            max_instances=1,
            coalesce=True,
        )
    if engine.crm_reply_notes().sources:
        scheduler.add_job(
            _push_reply_notes,
            "interval",
            args=[engine],
            seconds=engine.settings.reliability.replay_seconds,
            id="crm:replies",
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        _replay_spool,
        "interval",
        args=[engine],
        seconds=engine.settings.reliability.replay_seconds,
        id="spool:replay",
        max_instances=1,
        coalesce=True,
    )
    privacy = engine.settings.privacy
    if privacy.retention_days or privacy.default_retention_days:
        scheduler.add_job(
            _apply_retention,
            "interval",
            args=[engine],
            hours=privacy.retention_check_hours,
            id="gdpr:retention",
            next_run_time=now,
            max_instances=1,
            coalesce=True,
        )
    _schedule_alert_jobs(engine, scheduler)
    return scheduler


def _schedule_alert_jobs(engine: Engine, scheduler: BaseScheduler) -> None:
    """Delivery retries, the spike check (when a spike rule is on) and the daily digest."""
    alerts = engine.settings.alerts
    common = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(
        _alert_job, "interval", args=[engine, "deliver"], seconds=alerts.delivery.retry_job_seconds,
        id="alerts:deliver", **common,
    )  # fmt: skip
    if any(r.kind == "spike" and r.enabled for r in alerts.effective_rules()):
        scheduler.add_job(
            _alert_job, "interval", args=[engine, "spikes"], minutes=alerts.spikes.check_minutes,
            id="alerts:spikes", **common,
        )  # fmt: skip
    scheduler.add_job(
        _alert_job, "cron", args=[engine, "digest"], hour=alerts.digest_hour_utc, minute=0,
        id="alerts:digest", **common,
    )  # fmt: skip


def _alert_job(engine: Engine, job: str) -> None:
    try:
        alerter = engine.alerter
        if job == "deliver":
            report = alerter.retry_due()
            if report.sent or report.failed:
                log.info("alerts: %d delivered, %d failed", report.sent, len(report.failed))
        elif job == "spikes":
            for alert in alerter.check_spikes():
                log.info("alerts: spike: %s", alert.summary)
        else:
            yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
            report = alerter.send_digests(yesterday)
            log.info("alerts: digest of %s: %d sent, %d failed", yesterday, report.sent, len(report.failed))
    except EcouteError as exc:
        log.error("alerts %s: %s", job, exc)
    except INDEX_DOWN as exc:  # the index away for a moment: one line, the next run tries again
        log.warning("alerts %s: index unreachable, will try again: %s", job, exc)
    except Exception:
        log.exception("alerts %s: unexpected failure", job)


def _push_reply_notes(engine: Engine) -> None:
    """Note in their CRM the sent replies whose note failed or never ended (each failure is logged)."""
    try:
        engine.push_reply_notes()
    except EcouteError as exc:
        log.error("crm replies: %s", exc)
    except Exception:
        log.exception("crm replies: unexpected failure")


def _replay_spool(engine: Engine) -> None:
    """Drain the local buffer once the index is back, even when no source is due; forget the journaled
    writes the stand-in has saved, send again those it lost."""
    try:
        engine.confirm_journal()
        engine.replay_spool()
    except EcouteError as exc:
        log.error("spool: %s", exc)
    except Exception:
        log.exception("spool: unexpected failure")


def _apply_retention(engine: Engine) -> None:
    try:
        for source, deleted in engine.apply_retention().items():
            if deleted:
                log.info("retention: %s: %d mentions past their retention deleted", source, deleted)
    except EcouteError as exc:
        log.error("retention: %s", exc)


def _collect(engine: Engine, source: str) -> None:
    # A job must never take the scheduler down: every failure becomes one log line.
    try:
        log.info(engine.collect(source, use_lock=True).line())
    except EcouteError as exc:
        log.error("%s: %s", source, exc)
    except Exception:
        log.exception("%s: unexpected failure", source)


def _refresh(engine: Engine, source: str) -> None:
    """Re-read a source's recent posts for their current counts; any failure is one log line."""
    try:
        log.info(engine.collect(source, use_lock=True, refresh=True).line())
    except EcouteError as exc:
        log.error("%s (refresh): %s", source, exc)
    except Exception:
        log.exception("%s (refresh): unexpected failure", source)


def _import_customers(engine: Engine) -> None:
    try:
        for result in engine.mirror_crm():
            log.info("%s", result if isinstance(result, str) else result.line())
    except EcouteError as exc:
        log.error("crm: %s", exc)
