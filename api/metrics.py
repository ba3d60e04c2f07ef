"""`/metrics` in Prometheus's text format: ingest rate, lag, queue sizes and source health.

Read at each scrape from the index and the state folder, so it says what Écoute did, whichever process
did it. When the index does not answer, its gauges are left out (never reported as 0) and `ecoute_up` is 0.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from elasticsearch import ApiError, Elasticsearch, TransportError

from ecoute.config import Settings
from ecoute.health import source_health
from ecoute.spool import DeadLetters, Journal, Spool
from index.alerts import ALERTS
from index.client import IndexNames
from index.mentions import count_to_rescore
from index.periods import MENTIONS
from index.state import source_states

log = logging.getLogger("ecoute.api")
LAG_SAMPLE = 200
HEALTH_STATES = ("ok", "warning", "failing", "never_ran", "off")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Exposition:
    """Lines of the text format, each metric with its HELP and TYPE once."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._declared: set[str] = set()

    def add(self, name: str, help_text: str, value: float, kind: str = "gauge", **labels: str) -> None:
        if name not in self._declared:
            self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            self._declared.add(name)
        text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        number = repr(float(value)) if not float(value).is_integer() else str(int(value))
        self.lines.append(f"{name}{{{text}}} {number}" if text else f"{name} {number}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _mentions(
    out: Exposition, es: Elasticsearch, names: IndexNames, settings: Settings, now: datetime
) -> None:
    out.add("ecoute_mentions", "Mentions stored.", es.count(index=MENTIONS.alias(names))["count"])
    recent = es.count(index=MENTIONS.alias(names), query={"range": {"collected_at": {"gte": "now-5m"}}})[
        "count"
    ]
    out.add("ecoute_mentions_collected_5m", "Mentions collected in the last 5 minutes.", recent)
    newest = es.search(
        index=MENTIONS.alias(names),
        size=LAG_SAMPLE,
        sort=[{"collected_at": "desc"}],
        source=["collected_at", "enriched_at"],
    )["hits"]["hits"]
    if newest:
        stamps = [
            (
                datetime.fromisoformat(h["_source"]["collected_at"]),
                datetime.fromisoformat(h["_source"]["enriched_at"]),
            )
            for h in newest
        ]
        out.add(
            "ecoute_newest_mention_age_seconds",
            "Seconds since the newest mention was collected.",
            round((now - stamps[0][0]).total_seconds(), 3),
        )
        lags = [max(0.0, (enriched - collected).total_seconds()) for collected, enriched in stamps]
        for q in (0.5, 0.95):
            out.add(
                "ecoute_enrichment_lag_seconds",
                f"Collected to enriched, over the newest {LAG_SAMPLE} mentions.",
                round(_quantile(lags, q), 3),
                quantile=str(q),
            )
    for model in settings.nlp.models:
        if model != "fast":  # the fast model scores at ingest; the others re-score later
            out.add(
                "ecoute_rescoring_backlog",
                "Stored mentions a model has not scored yet.",
                count_to_rescore(es, names, model),
                model=model,
            )
    open_alerts = es.count(index=ALERTS.alias(names), query={"term": {"status": "new"}})["count"]
    out.add("ecoute_alerts_unacknowledged", "Alerts nobody has acknowledged yet.", open_alerts)


def _sources(out: Exposition, es: Elasticsearch, names: IndexNames, settings: Settings) -> None:
    recorded = {s.source: s.data for s in source_states(es, names)}
    for row in source_health(settings, recorded):
        labels = {"source": row.name, "type": row.type}
        for state in HEALTH_STATES:
            out.add(
                "ecoute_source_state",
                "1 for the state each source is in (ok, warning, failing, never_ran, off).",
                1 if row.state == state else 0,
                state=state,
                **labels,
            )
        out.add("ecoute_source_consecutive_failures", "Failed runs in a row.", row.failures, **labels)
        if row.last_success:
            out.add(
                "ecoute_source_last_success_timestamp_seconds",
                "When the source last ran without error (Unix time).",
                datetime.fromisoformat(row.last_success).timestamp(),
                **labels,
            )
        for what in ("read", "new", "duplicates", "skipped"):
            value = getattr(row, what)
            if value is not None:
                out.add(
                    "ecoute_source_last_run_items",
                    "Items of the source's last run, by what became of them.",
                    value,
                    what=what,
                    **labels,
                )


def _queues(out: Exposition, settings: Settings) -> None:
    state_dir = settings.resolve(settings.state_dir)
    out.add(
        "ecoute_spool_pending", "Writes waiting in the local spool for the index.", Spool(state_dir).pending()
    )
    out.add(
        "ecoute_journal_pending",
        "Acknowledged batches kept until the embedded index has saved them.",
        Journal(state_dir).pending(),
    )
    out.add(
        "ecoute_dead_letters",
        "Documents refused, waiting for `ecoute dlq retry`.",
        len(DeadLetters(state_dir).all()),
    )


def collect_metrics(
    es: Elasticsearch, names: IndexNames, settings: Settings, now: datetime | None = None
) -> str:
    """The exposition text for one scrape."""
    now = now or datetime.now(UTC)
    out = Exposition()
    _queues(out, settings)
    try:
        _mentions(out, es, names, settings, now)
        _sources(out, es, names, settings)
    except (ApiError, TransportError) as exc:
        log.warning("metrics: the index did not answer: %s", type(exc).__name__)
        out.add("ecoute_up", "1 when the index answered this scrape.", 0)
        return out.text()
    out.add("ecoute_up", "1 when the index answered this scrape.", 1)
    return out.text()
