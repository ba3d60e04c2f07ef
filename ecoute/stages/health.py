"""Health stage: each run's numbers and its error, kept per source for `ecoute sources` and Admin."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from core.documents import SourceState
from ecoute.health import skip_reasons
from ecoute.stages.run import RunReport
from index.client import IndexNames
from index.state import get_state, put_state


class HealthRecorder:
    """Writes a run's report into its source's health record (failures in a row counted)."""

    def __init__(self, es: Elasticsearch, names: IndexNames) -> None:
        self.es, self.names = es, names

    def record(self, report: RunReport) -> None:
        """Store the run's numbers; an error or a mention not indexed counts as one more failure."""
        state_id = f"health:{report.source}"
        previous = get_state(self.es, self.names, state_id)
        data = dict(previous.data) if previous else {}
        now = datetime.now(UTC).isoformat()
        failed = report.error is not None or bool(report.failed)
        data.update(
            last_run=now,
            items_last_run=report.fetched,
            indexed_last_run=report.indexed,
            skipped_items_last_run=len(report.problems),
            duplicates_last_run=report.duplicates,
            updated_last_run=report.updated,
            last_run_kind="refresh" if report.refresh else "collect",
            skip_reasons=[{"reason": r, "count": n} for r, n in skip_reasons(report.problems)],
            seconds_last_run=round(report.seconds, 3),
        )
        if failed:
            data["last_error"] = (
                report.error or f"{len(report.failed)} mentions not indexed: {report.failed[0]}"
            )
            data["last_error_at"] = now
            data["consecutive_failures"] = int(data.get("consecutive_failures", 0)) + 1
        else:
            data["last_success"] = now
            data["consecutive_failures"] = 0
        put_state(
            self.es,
            self.names,
            SourceState(
                id=state_id, kind="health", source=report.source, data=data, updated_at=datetime.now(UTC)
            ),
        )
