"""The one-way flow: source -> raw post -> enriched mention -> index -> alerts."""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from alerts.delivery import Alerter
from collectors.base import CollectorError, RawPost
from collectors.registry import build_collector
from crm.mirror import MirrorReport, mirror_source
from crm.registry import legacy_csv_source
from crm.sources import AnyCrmSource
from ecoute.config import Settings
from ecoute.errors import ConfigError, EcouteError
from index.capabilities import detect_capabilities
from index.client import IndexNames
from index.documents import SourceState
from index.queries import all_customers
from index.reviews import customers_with_confirmed_handles, queue_link_reviews, rejected_pairs
from index.writes import (
    acquire_lock,
    ensure_indices,
    get_state,
    index_mentions,
    put_state,
    release_lock,
)
from nlp.classifier import classifier_for
from nlp.dedup import StreamDeduplicator
from nlp.linking import CustomerDirectory, LinkSettings, normalise_handle
from nlp.pipeline import enrich

log = logging.getLogger("ecoute")


class CrmSourceFailed(EcouteError):
    """A CRM source could not be mirrored (its own message says which and why)."""


@dataclass
class RunReport:
    """What one collection run did, for the CLI, the health record and tests."""

    source: str
    fetched: int = 0
    indexed: int = 0
    duplicates: int = 0
    alerts: int = 0
    problems: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        if self.skipped:
            return f"{self.source}: skipped ({self.skipped})"
        if self.error:
            return f"{self.source}: failed: {self.error}"
        return (
            f"{self.source}: {self.fetched} fetched, {self.indexed} new, {self.duplicates} already indexed, "
            f"{self.alerts} alerts, {len(self.problems)} items skipped, {len(self.failed)} not indexed "
            f"({self.seconds:.1f}s)"
        )


class Engine:
    """Holds the settings, the index client and the customer directory for one process."""

    def __init__(self, settings: Settings, es: Elasticsearch, names: IndexNames | None = None) -> None:
        self.settings = settings
        self.es = es
        self.names = names or IndexNames(settings.elasticsearch.index_prefix)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.directory = CustomerDirectory()
        self.deduplicator = StreamDeduplicator(settings.nlp.duplicates)
        self.alerter = Alerter(settings.alerts, es, self.names)

    def prepare(self) -> None:
        """Create missing indices and load the customer directory from the index."""
        ensure_indices(self.es, self.names)
        self.reload_directory()
        if self.settings.alerts.percolator:
            self.alerter.percolator = detect_capabilities(self.es, self.names.prefix).percolator

    def reload_directory(self) -> None:
        linking = self.settings.crm.linking
        self.directory = CustomerDirectory(
            all_customers(self.es, self.names),
            rejected=rejected_pairs(self.es, self.names),
            settings=LinkSettings(apply_above=linking.apply_above, review_above=linking.review_above),
        )

    def crm_sources(self) -> list[AnyCrmSource]:
        """The enabled CRM sources, `crm.customers_csv` first as the source `crm-csv`."""
        crm = self.settings.crm
        legacy = [legacy_csv_source(crm.customers_csv)] if crm.customers_csv else []
        return [*legacy, *(s for s in crm.sources if s.enabled)]

    def mirror_crm(self, full: bool = False, only: str | None = None) -> list[MirrorReport | str]:
        """Refresh every CRM source (or `only` one); a source that fails is one error line, others go on."""
        sources = [s for s in self.crm_sources() if only is None or s.name == only]
        if only and not sources:
            known = ", ".join(s.name for s in self.crm_sources()) or "none"
            raise ConfigError(f"no CRM source named {only!r} in config.yaml (known: {known})")
        results: list[MirrorReport | str] = []
        for source in sources:
            try:
                report = mirror_source(
                    self.es, self.names, source, self.settings.base_dir, self.settings.crm.phone_region, full
                )
            except ConfigError:
                raise
            except EcouteError as exc:
                log.error("%s", exc)
                results.append(str(exc))
                continue
            for rejected in report.rejected:
                log.warning("crm %s: %s", source.name, rejected.line())
            results.append(report)
        self.reload_directory()
        return results

    def refresh_decisions(self) -> None:
        """Decisions taken in the review queue since the directory was loaded apply from now on."""
        for customer in customers_with_confirmed_handles(self.es, self.names):
            for handle in customer.confirmed_handles:
                self.directory.by_confirmed[normalise_handle(handle)] = customer
        self.directory.rejected = rejected_pairs(self.es, self.names)

    def import_customers(self) -> tuple[int, list[str]]:
        """Mirror every CRM source into the index; returns (customers written, rejected rows)."""
        written, rejected = 0, []
        for result in self.mirror_crm():
            if isinstance(result, str):
                raise CrmSourceFailed(result)
            written += result.customers
            rejected += [r.line() for r in result.rejected]
        return written, rejected

    def process(self, posts: list[RawPost], report: RunReport) -> bool:
        """Enrich, index and alert; True when every mention is safely stored."""
        batch = self.settings.nlp.batch_size
        for start in range(0, len(posts), batch):
            mentions = enrich(
                posts[start : start + batch],
                self.directory,
                self.settings.brand,
                with_entities=self.settings.nlp.entities,
                batch_size=batch,
                classifier=classifier_for(self.settings),
                deduplicator=self.deduplicator,
            )
            result = index_mentions(self.es, self.names, mentions)
            # Proposed links wait for a person in the review queue; nothing is applied from them.
            queue_link_reviews(self.es, self.names, mentions)
            report.indexed += result.created
            report.duplicates += result.duplicates
            report.failed += [f"{doc_id}: {reason}" for doc_id, reason in result.failed]
            failed_ids = {doc_id for doc_id, _ in result.failed}
            stored = [m for m in mentions if m.id not in failed_ids]
            # Alerts are deduplicated per rule + customer + thread, so re-processing never alerts twice.
            report.alerts += self.alerter.handle(stored, self.directory)
        return not report.failed

    def collect(self, source_name: str, since: datetime | None = None, use_lock: bool = False) -> RunReport:
        """One run of one source; the cursor advances only once the batch is stored."""
        config = self.settings.source(source_name)
        report = RunReport(source=source_name)
        if use_lock and not acquire_lock(
            self.es,
            self.names,
            f"source:{source_name}",
            self.owner,
            timedelta(seconds=max(config.interval_seconds - 1, 5)),
        ):
            report.skipped = "another ecoute process holds this source"
            return report
        started = time.perf_counter()
        self.refresh_decisions()
        cursor_id = f"cursor:{source_name}"
        cursor_state = get_state(self.es, self.names, cursor_id)
        cursor = {} if since else dict((cursor_state.data if cursor_state else {}) or {})
        try:
            result = build_collector(config, self.settings.base_dir).fetch(cursor)
            report.fetched = len(result.posts)
            report.problems = result.problems
            posts = [p for p in result.posts if since is None or p.created_at >= since]
            if self.process(posts, report):
                now = datetime.now(UTC)
                put_state(
                    self.es,
                    self.names,
                    SourceState(
                        id=cursor_id, kind="cursor", source=source_name, data=result.cursor, updated_at=now
                    ),
                )
        except CollectorError as exc:
            report.error = str(exc)
        except EcouteError as exc:
            report.error = str(exc)
        report.seconds = time.perf_counter() - started
        self._record_health(report)
        for problem in report.problems:
            log.warning("%s", problem)
        return report

    def release(self) -> None:
        """Give up this process's source leases (on shutdown) so another process can take over."""
        for source in self.settings.sources:
            release_lock(self.es, self.names, f"source:{source.name}", self.owner)

    def _record_health(self, report: RunReport) -> None:
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
