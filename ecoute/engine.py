"""The one-way flow: source -> raw post -> enriched mention -> index -> alerts.

`Engine` coordinates the stages in `ecoute/stages/`, handing each its own config block.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial

from elasticsearch import Elasticsearch

from alerts.delivery import Alerter
from collectors.base import CollectorError
from core.config import Secrets
from core.documents import Mention, RawPost, Reply
from core.errors import EcouteError
from core.progress import Progress
from crm.mirror import MirrorReport
from crm.sources import AnyCrmSource
from ecoute.config import Settings
from ecoute.privacy import Gdpr
from ecoute.spool import DeadLetters, Journal, LocalCursors, Spool
from ecoute.stages.collection import Collection, refreshable
from ecoute.stages.crm import Crm, CrmReplyNotes, CrmSourceFailed
from ecoute.stages.enrichment import NOT_ENRICHED, Enrichment
from ecoute.stages.health import HealthRecorder
from ecoute.stages.privacy import Privacy
from ecoute.stages.recovery import Recovery
from ecoute.stages.run import INDEX_DOWN, RunReport
from ecoute.stages.storage import UNKNOWN_PROCESS, Storage
from index.capabilities import detect_capabilities
from index.client import IndexNames
from index.mentions import VersionedMention
from index.schema import ensure_indices
from nlp.classifier import classifier_for
from nlp.linking import CustomerDirectory
from replies.outbox import Outbox

__all__ = [
    "INDEX_DOWN",
    "NOT_ENRICHED",
    "UNKNOWN_PROCESS",
    "CrmSourceFailed",
    "Engine",
    "RunReport",
    "refreshable",
]

log = logging.getLogger("ecoute")


class Engine:
    """Holds the settings, the index client and the stages for one process, and runs them in order."""

    def __init__(self, settings: Settings, es: Elasticsearch, names: IndexNames | None = None) -> None:
        self.settings = settings
        self.es = es
        self.names = names or IndexNames.of(settings.elasticsearch, settings.index)
        owner = f"{socket.gethostname()}:{os.getpid()}"
        state_dir = settings.resolve(settings.state_dir)
        self.spool, self.dead_letters = Spool(state_dir), DeadLetters(state_dir)
        self.local_cursors = LocalCursors(state_dir)
        self.journal = Journal(state_dir)
        self.secrets = Secrets()
        key = self.secrets.ecoute_pseudonym_key
        pseudonym_key = key.get_secret_value() if key else None
        self.alerter = Alerter(settings.alerts, es, self.names)
        self.crm = Crm(es, self.names, settings.crm, settings.base_dir)
        self.enrichment = Enrichment(
            settings.nlp,
            settings.brand,
            settings.routing,
            settings.privacy,
            pseudonym_key,
            partial(classifier_for, settings),
            self.dead_letters,
        )
        self.storage = Storage(
            es, self.names, settings.reliability, self.alerter, self.spool, self.journal, self.dead_letters
        )
        self.recovery = Recovery(self.storage)
        self.collection = Collection(es, self.names, settings.base_dir, state_dir, owner, self.local_cursors)
        self.privacy = Privacy(
            es, self.names, state_dir, settings.privacy, pseudonym_key, [s.name for s in settings.sources]
        )
        self.health = HealthRecorder(es, self.names)
        # Set whenever new mentions are stored, so the re-scoring worker looks again at once.
        self.mentions_stored = self.storage.mentions_stored

    @property
    def owner(self) -> str:
        """This process, as the leases it holds name it."""
        return self.collection.owner

    @owner.setter
    def owner(self, owner: str) -> None:
        self.collection.owner = owner

    @property
    def directory(self) -> CustomerDirectory:
        """The customers mentions are linked to, as the CRM stage loaded them."""
        return self.crm.directory

    @directory.setter
    def directory(self, directory: CustomerDirectory) -> None:
        self.crm.directory = directory

    def prepare(self) -> None:
        """Create missing indices and load the customer directory from the index."""
        ensure_indices(self.es, self.names, self.settings.index)
        self.storage.which_index_process()
        self.reload_directory()
        if self.settings.alerts.percolator:
            self.alerter.percolator = detect_capabilities(self.es, self.names.prefix).percolator

    # -- CRM ------------------------------------------------------------------------------------------

    def reload_directory(self) -> None:
        self.crm.reload_directory()

    def crm_sources(self) -> list[AnyCrmSource]:
        """The enabled CRM sources, `crm.customers_csv` first as the source `crm-csv`."""
        return self.crm.sources()

    def mirror_crm(
        self, full: bool = False, only: str | None = None, progress: Progress | None = None
    ) -> list[MirrorReport | str]:
        """Refresh every CRM source (or `only` one); a source that fails is one error line, others go on.

        `progress` hears each source's rows as they are read.
        """
        return self.crm.mirror(full, only, progress)

    def refresh_decisions(self) -> None:
        """Decisions taken in the review queue since the directory was loaded apply from now on."""
        self.crm.refresh_decisions()

    def import_customers(self) -> tuple[int, list[str]]:
        """Mirror every CRM source into the index; returns (customers written, rejected rows)."""
        return self.crm.import_customers()

    def crm_reply_notes(self) -> CrmReplyNotes:
        """The CRM sources that note sent replies (`push_replies`)."""
        return CrmReplyNotes(self.crm.sources(), self.settings.base_dir)

    def push_reply_notes(self, at_once: bool = False) -> list[Reply]:
        """Note in their CRM the sent replies whose note failed or never ended; each reply as it ends.
        A failed one waits longer after each failure, unless `at_once`."""
        notes = self.crm_reply_notes()
        if not notes.sources:
            return []
        outbox = Outbox(self.es, self.names, self.settings.replies, self.settings.sources, crm=notes)
        return outbox.push_pending(at_once=at_once)

    # -- enrich, store, alert -------------------------------------------------------------------------

    def process(self, posts: list[RawPost], report: RunReport, progress: Progress | None = None) -> bool:
        """Enrich, index and alert; True when every mention is safely stored; `progress` hears the posts
        handled after each batch (step "<source>: posts stored").

        Batches flow through two stages: while one batch is indexed and alerted, the next is enriched in
        a worker thread (the index's round trips leave the CPU free for the models). Batches are still
        stored and alerted in order, and enrichment itself stays one batch at a time, in order. Batches
        are not refreshed one by one: the index makes them searchable within its refresh interval (1 s),
        and the run ends with one refresh, so what it stored is searchable once it returns.
        """
        batch = self.settings.nlp.batch_size
        self.storage.begin_run()
        chunks = [posts[start : start + batch] for start in range(0, len(posts), batch)]
        if not chunks:
            return True
        written_before = report.indexed + report.updated
        if progress is not None:
            progress(f"{report.source}: posts stored", 0, len(posts))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoute-enrich") as enricher:
            upcoming = enricher.submit(self._prepare, chunks[0], report)
            for position in range(len(chunks)):
                mentions, known = upcoming.result()
                if position + 1 < len(chunks):
                    upcoming = enricher.submit(self._prepare, chunks[position + 1], report)
                self.storage.store_and_alert(mentions, report, self.directory, known)
                if progress is not None:
                    done = min(len(posts), (position + 1) * batch)
                    progress(f"{report.source}: posts stored", done, len(posts))
        if report.indexed + report.updated > written_before and not self.storage.index_down:
            self.storage.refresh()
        if not self.storage.index_down:
            with contextlib.suppress(*INDEX_DOWN):  # the journal keeps them; the next run looks again
                self.confirm_journal()
        # Refused and unenrichable mentions wait in the dead-letter file, unreachable-index ones in the spool.
        return True

    def _prepare(
        self, posts: list[RawPost], report: RunReport
    ) -> tuple[list[Mention], list[tuple[VersionedMention, Mention]]]:
        """New posts of a batch, enriched, and the posts already stored with what they say now."""
        fresh, known = self.storage.split_known(posts)
        return (self.enrichment.enrich(fresh, self.directory, report) if fresh else []), known

    def replay_spool(self) -> int:
        """Write what was spooled while the index was away, oldest first; returns the writes acknowledged."""
        return self.recovery.replay_spool(self.directory)

    def confirm_journal(self) -> int:
        """Forget the journaled writes the stand-in has saved; write again those a gone process held."""
        return self.recovery.confirm_journal(self.directory)

    def retry_dead_letters(
        self, ids: set[str] | None = None, progress: Progress | None = None
    ) -> tuple[int, int]:
        """Index the dead letters again (all, or `ids`); returns (stored now, still refused); `progress`
        hears the letters enriched again."""
        directory = self.directory

        def enriched_again(reason: str, mention: Mention) -> Mention:
            return self.enrichment.enriched_again(reason, mention, directory)

        return self.recovery.retry_dead_letters(directory, enriched_again, ids, progress)

    # -- privacy --------------------------------------------------------------------------------------

    def gdpr(self) -> Gdpr:
        return self.privacy.gdpr()

    def apply_retention(self) -> dict[str, int]:
        """Delete mentions older than each source's retention (privacy.retention_days)."""
        return self.privacy.apply_retention()

    # -- collection -----------------------------------------------------------------------------------

    def collect(
        self,
        source_name: str,
        since: datetime | None = None,
        use_lock: bool = False,
        refresh: bool = False,
        progress: Progress | None = None,
    ) -> RunReport:
        """One run of one source; the cursor advances only once the batch is stored.

        `refresh` re-reads the source's last `refresh_days` instead (its cursor is neither used nor
        moved): posts already indexed get their current counts, reach and edits, new ones are indexed.
        `progress` hears the pages read, then the posts stored.
        """
        config = self.settings.source(source_name)
        report = RunReport(source=source_name, refresh=refresh)
        if refresh:
            since = self.collection.refresh_start(config)
        self.storage.begin_run()
        lease = self.collection.lease_length(config, refresh)
        if use_lock and not self.collection.take_lease(source_name, refresh, lease):
            report.skipped = "another ecoute process holds this source"
            return report
        started = time.perf_counter()
        try:
            self.confirm_journal()  # before the spool: what it holds was acknowledged earlier
            self.replay_spool()
            self.refresh_decisions()
        except INDEX_DOWN as exc:
            log.warning(
                "%s: index unavailable, collecting with the customers known so far: %s", source_name, exc
            )
        cursor = {} if since else self.collection.cursor(source_name)
        # A run slower than the lease's ttl keeps its lease: no second process starts the source meanwhile.
        keeper = self.collection.keep_lease(source_name, refresh, lease) if use_lock else None
        try:
            result = self.collection.fetch(config, cursor, since, progress)
            report.fetched = len(result.posts)
            report.problems = result.problems
            posts = [p for p in result.posts if since is None or p.created_at >= since]
            if self.process(posts, report, progress):
                self.storage.delete(source_name, result.deletions, report)
                if not refresh:
                    self.collection.store_cursor(source_name, result.cursor)
        except CollectorError as exc:
            report.error = str(exc)
        except EcouteError as exc:
            report.error = str(exc)
        finally:
            if keeper is not None:
                keeper.stop()
        report.seconds = time.perf_counter() - started
        try:
            self.health.record(report)
        except INDEX_DOWN as exc:
            log.warning("%s: health not recorded: %s", source_name, exc)
        for problem in report.problems:
            log.warning("%s", problem)
        return report

    def delete_native(self, source: str, native_ids: list[str]) -> int:
        """Remove the mentions of posts the platform reported deleted; returns how many were indexed."""
        report = RunReport(source=source)
        self.storage.delete(source, native_ids, report)  # their alerts go too; spooled if the index is away
        return report.deleted

    def record_health(self, report: RunReport) -> None:
        """Store a run's health record (a stream records each micro-batch as a run)."""
        self.health.record(report)

    def release(self) -> None:
        """Give up this process's source leases (on shutdown) so another process can take over."""
        self.collection.release([source.name for source in self.settings.sources])
