"""The one-way flow: source -> raw post -> enriched mention -> index -> alerts."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from elasticsearch import ApiError, Elasticsearch, TransportError

from alerts.delivery import Alerter
from collectors.base import CollectorError
from collectors.registry import build_collector
from core.config import Secrets
from core.documents import Mention, RawPost, SourceState
from core.errors import ConfigError, EcouteError, IndexUnavailableError
from core.names import normalise_handle
from crm.mirror import MirrorReport, mirror_source
from crm.sources import AnyCrmSource, configured_sources
from ecoute.config import Settings
from ecoute.faults import crash_point
from ecoute.health import skip_reasons
from ecoute.privacy import Gdpr, pseudonymise
from ecoute.routing import route, routed
from ecoute.spool import DeadLetters, Journal, LocalCursors, Spool, SpooledOp
from index.bulk import BulkReport
from index.capabilities import detect_capabilities, standin_process
from index.client import IndexNames
from index.customers import all_customers
from index.engagement import known_mentions, update_known
from index.mentions import VersionedMention, index_mentions, refresh_mentions
from index.privacy import delete_mentions_and_alerts
from index.reviews import customers_with_confirmed_handles, queue_link_reviews, rejected_pairs
from index.schema import ensure_indices
from index.state import LeaseKeeper, acquire_lock, get_state, put_state, release_lock
from nlp.classifier import classifier_for
from nlp.dedup import StreamDeduplicator
from nlp.language import storable
from nlp.linking import CustomerDirectory, LinkSettings
from nlp.pipeline import enrich, mention_id, unenriched

log = logging.getLogger("ecoute")
NOT_ENRICHED = "not enriched"
"""How a dead letter's reason starts when enriching the post failed (retrying enriches it again)."""
# What the client raises when the index is away or refuses the request as a whole.
INDEX_DOWN = (ApiError, TransportError, IndexUnavailableError)
UNKNOWN_PROCESS = "0"
"""Journal tag of writes acknowledged before Écoute could tell which index process took them."""


def refreshable(config: object) -> int:
    """The days a source re-reads on each refresh; 0 when it has no refresh (not read over HTTP, or off)."""
    return int(getattr(config, "refresh_days", 0) or 0)


class CrmSourceFailed(EcouteError):
    """A CRM source could not be mirrored (its own message says which and why)."""


@dataclass
class RunReport:
    """What one collection run did, for the CLI, the health record and tests."""

    source: str
    fetched: int = 0
    indexed: int = 0
    duplicates: int = 0
    updated: int = 0
    refresh: bool = False
    alerts: int = 0
    spooled: int = 0
    deleted: int = 0
    problems: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        name = f"{self.source} (refresh)" if self.refresh else self.source
        if self.skipped:
            return f"{name}: skipped ({self.skipped})"
        if self.error:
            return f"{name}: failed: {self.error}"
        extra = f", {self.spooled} spooled until the index is back" if self.spooled else ""
        extra += f", {self.deleted} deleted on the platform" if self.deleted else ""
        extra += " (see `ecoute dlq list`)" if self.failed else ""
        return (
            f"{name}: {self.fetched} fetched, {self.indexed} new, {self.duplicates} already indexed, "
            f"{self.updated} updated, {self.alerts} alerts, {len(self.problems)} items skipped, "
            f"{len(self.failed)} not indexed"
            f"{extra} ({self.seconds:.1f}s)"
        )


class Engine:
    """Holds the settings, the index client and the customer directory for one process."""

    def __init__(self, settings: Settings, es: Elasticsearch, names: IndexNames | None = None) -> None:
        self.settings = settings
        self.es = es
        self.names = names or IndexNames.of(settings.elasticsearch, settings.index)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.directory = CustomerDirectory()
        self.deduplicator = StreamDeduplicator(settings.nlp.duplicates)
        state_dir = settings.resolve(settings.state_dir)
        self.spool, self.dead_letters = Spool(state_dir), DeadLetters(state_dir)
        self.local_cursors = LocalCursors(state_dir)
        self.journal = Journal(state_dir)
        # The stand-in process that answered last (None: a real cluster, whose acknowledgement is durable).
        self._index_process: str | None = UNKNOWN_PROCESS
        self._index_process_known = False
        self.secrets = Secrets()
        self._index_down = False
        self.alerter = Alerter(settings.alerts, es, self.names)
        # Set whenever new mentions are stored, so the re-scoring worker looks again at once instead of
        # polling the index (on the stand-in every search reads every mention).
        self.mentions_stored = threading.Event()
        # The mention indices written since the last refresh: only those are refreshed.
        self._unrefreshed: set[str] = set()

    def prepare(self) -> None:
        """Create missing indices and load the customer directory from the index."""
        ensure_indices(self.es, self.names)
        self._which_index_process()
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
        return [s for s in configured_sources(crm.customers_csv, crm.sources) if s.enabled]

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
        """Enrich, index and alert; True when every mention is safely stored.

        Batches flow through two stages: while one batch is indexed and alerted, the next is enriched in
        a worker thread (the index's round trips leave the CPU free for the models). Batches are still
        stored and alerted in order, and enrichment itself stays one batch at a time, in order. Batches
        are not refreshed one by one: the index makes them searchable within its refresh interval (1 s),
        and the run ends with one refresh, so what it stored is searchable once it returns.
        """
        batch = self.settings.nlp.batch_size
        self._index_down = False  # tried again on every run; within a run, once away means spool the rest
        chunks = [posts[start : start + batch] for start in range(0, len(posts), batch)]
        if not chunks:
            return True
        written_before = report.indexed + report.updated
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoute-enrich") as enricher:
            upcoming = enricher.submit(self._prepare, chunks[0], report)
            for position in range(len(chunks)):
                mentions, known = upcoming.result()
                if position + 1 < len(chunks):
                    upcoming = enricher.submit(self._prepare, chunks[position + 1], report)
                self._store_and_alert(mentions, report, known)
        if report.indexed + report.updated > written_before and not self._index_down:
            try:  # one refresh per run: a refresh per batch cost more than the bulk write itself
                refresh_mentions(self.es, self.names, self._unrefreshed)
                self._unrefreshed.clear()
            except IndexUnavailableError as exc:  # stored; searchable at the index's next own refresh
                log.warning("mentions stored, not refreshed yet: %s", exc)
        if not self._index_down:
            with contextlib.suppress(*INDEX_DOWN):  # the journal keeps them; the next run looks again
                self.confirm_journal()
        # Refused and unenrichable mentions wait in the dead-letter file, unreachable-index ones in the spool.
        return True

    def _prepare(
        self, posts: list[RawPost], report: RunReport
    ) -> tuple[list[Mention], list[tuple[VersionedMention, Mention]]]:
        """Split a batch into new posts, enriched, and posts already stored, each with its stored version
        and what it says now (read as collected: no model runs again on a post already indexed).

        When the index cannot be asked, every post counts as new: creating by id keeps that harmless.
        """
        known: dict[str, VersionedMention] = {}
        if not self._index_down:
            try:
                known = known_mentions(
                    self.es, self.names, [mention_id(p.source, p.native_id) for p in posts]
                )
            except INDEX_DOWN as exc:
                log.warning("cannot tell known posts from new ones, all treated as new: %s", exc)
        fresh, pairs = [], []
        for post in posts:
            stored = known.get(mention_id(post.source, post.native_id))
            if stored is None:
                fresh.append(post)
            else:
                pairs.append((stored, unenriched(post)))
        return (self._enrich(fresh, report) if fresh else []), pairs

    def _enrich(self, posts: list[RawPost], report: RunReport | None = None) -> list[Mention]:
        """Enrich a batch; if that fails, post by post, and a post that still fails goes to the dead letters
        with its reason (unenriched) while the rest of the batch goes on. Configuration errors still stop."""
        try:
            return self._enrich_batch(posts)
        except EcouteError:
            raise
        except Exception as exc:  # one bad post must not stop the source: find it
            log.warning("enrichment failed for a batch of %d, trying each post: %r", len(posts), exc)
        mentions, failed = [], []
        for post in posts:
            try:
                mentions += self._enrich_batch([post])
            except EcouteError:
                raise
            except Exception as exc:
                reason = storable(f"{NOT_ENRICHED}: {type(exc).__name__}: {exc}")[:500]
                failed += [(m, reason) for m in self._pseudonymised([unenriched(post)])]
        self.dead_letters.add([(m.id, m.source, why, m.model_dump(mode="json")) for m, why in failed])
        if report is not None:
            report.failed += [f"{m.id}: {why}" for m, why in failed]
        return mentions

    def _enrich_batch(self, posts: list[RawPost]) -> list[Mention]:
        mentions = enrich(
            posts,
            self.directory,
            self.settings.brand,
            with_entities=self.settings.nlp.entities,
            batch_size=self.settings.nlp.batch_size,
            classifier=classifier_for(self.settings),
            deduplicator=self.deduplicator,
        )
        return self._routed(self._pseudonymised(mentions))

    def _routed(self, mentions: list[Mention]) -> list[Mention]:
        """New mentions placed in their team queue or with their person by the routing rules (once, at
        ingest: a stored mention is never written again by collection, so it is never re-routed)."""
        rules = self.settings.routing.rules
        if not rules:
            return mentions
        now = datetime.now(UTC).replace(microsecond=0)
        customers = self.directory.by_id
        return [routed(m, route(m, customers.get(m.customer_id or ""), rules), now) for m in mentions]

    def _pseudonymised(self, mentions: list[Mention]) -> list[Mention]:
        return pseudonymise(mentions, self.settings.privacy, self._pseudonym_key())

    def _store_and_alert(
        self,
        mentions: list[Mention],
        report: RunReport,
        known: list[tuple[VersionedMention, Mention]] | None = None,
    ) -> None:
        """Store the new mentions, update the known ones in place, then alert.

        Known mentions are alerted only as first stored (never as updated), so a count or a follower
        number that grew never raises a new alert, while one stored by an earlier run that stopped
        before alerting still gets its alert now (alerts are deduplicated by mention id).
        """
        crash_point("enriched")
        known = known or []
        acknowledged_by = self._journal_tag()
        result = self._store(mentions, report)
        crash_point("indexed")
        # Proposed links wait for a person in the review queue; nothing is applied from them.
        self._queue_reviews([m for m in mentions if m.id not in result.deferred])
        report.indexed += result.created
        if result.created:
            self.mentions_stored.set()
        report.duplicates += result.duplicates
        report.failed += [f"{doc_id}: {reason}" for doc_id, reason in result.failed]
        failed_ids = {doc_id for doc_id, _ in result.failed} | set(result.deferred)
        stored = [m for m in mentions if m.id not in failed_ids]
        already = self._update_known(known, report)
        # Alerts are deduplicated per rule + customer + thread, so re-processing never alerts twice.
        if stored:
            try:
                report.alerts += self.alerter.handle(stored, self.directory)
            except INDEX_DOWN:  # replaying the stored mentions raises their alerts again, by id
                self._index_down = True
                self.spool.append([self._spooled(m) for m in stored])
        # Journaled after the alerts, so the alerts are as old as the journal says the batch is.
        self._journal([self._spooled(m) for m in stored], acknowledged_by)
        crash_point("alerted")
        if already:
            try:  # after the new ones: a failure here never costs a new mention its alert
                report.alerts += self.alerter.handle(already, self.directory)
            except INDEX_DOWN as exc:  # stored already: the next run that reads them alerts them
                log.warning("alerts of known mentions not checked now: %s", exc)

    def _update_known(
        self, known: list[tuple[VersionedMention, Mention]], report: RunReport
    ) -> list[Mention]:
        """Write the changed counts, reach and edits of mentions already stored; returns those to alert,
        as first stored. Unchanged ones write nothing; with the index away, nothing is written and the
        next refresh reads them again."""
        if not known:
            return []
        report.duplicates += len(known)
        if self._index_down:
            return []
        try:
            result = update_known(self.es, self.names, known, datetime.now(UTC))
        except INDEX_DOWN as exc:
            log.warning("counts of %d known mentions not updated now: %s", len(known), exc)
            return []
        report.updated += len(result.updated)
        updated = set(result.updated)
        self._unrefreshed |= {s.index for s, _ in known if s.index and s.mention.id in updated}
        report.failed += [f"{doc_id}: counts not updated: {reason}" for doc_id, reason in result.failed]
        gone = set(result.gone)
        # Only a mention never updated before is still as first seen: alerting it again is a no-op by id,
        # or raises the alert a run that stopped before alerting owed it. One already updated was checked
        # as first seen in that earlier run; checking its grown counts now would raise a new alert.
        return [s.mention for s, _ in known if s.mention.id not in gone and s.mention.refreshed_at is None]

    def _pseudonym_key(self) -> str | None:
        key = self.secrets.ecoute_pseudonym_key
        return key.get_secret_value() if key else None

    def _store(self, mentions: list[Mention], report: RunReport) -> BulkReport:
        """Index a batch; what the index cannot take now is spooled, what it refuses is dead-lettered."""
        reliability = self.settings.reliability
        result = BulkReport(deferred=[m.id for m in mentions])
        if not self._index_down:
            try:
                result = index_mentions(
                    self.es,
                    self.names,
                    mentions,
                    attempts=reliability.bulk_attempts,
                    backoff_seconds=reliability.bulk_backoff_seconds,
                    defer=True,
                    refresh=False,
                )
            except IndexUnavailableError as exc:  # stored, perhaps, but not acknowledged: spool it all
                result = BulkReport(deferred=[m.id for m in mentions], deferred_reason=str(exc))
        self._unrefreshed |= result.indices
        if result.deferred:
            deferred = set(result.deferred)
            if not self._index_down:
                log.warning(
                    "index unavailable (%s): spooling to %s", result.deferred_reason, self.spool.directory
                )
            self._index_down = True  # the rest of this run goes straight to the spool
            self.spool.append([self._spooled(m) for m in mentions if m.id in deferred])
            report.spooled += len(deferred)
            crash_point("spooled")
        if result.failed:
            by_id = {m.id: m for m in mentions}
            self.dead_letters.add(
                [
                    (doc_id, by_id[doc_id].source, reason, by_id[doc_id].model_dump(mode="json"))
                    for doc_id, reason in result.failed
                    if doc_id in by_id
                ]
            )
        return result

    @staticmethod
    def _spooled(mention: Mention) -> SpooledOp:
        return SpooledOp(
            op="create", id=mention.id, source=mention.source, doc=mention.model_dump(mode="json")
        )

    def _queue_reviews(self, mentions: list[Mention]) -> None:
        try:
            queue_link_reviews(self.es, self.names, mentions)
        except INDEX_DOWN as exc:  # proposals are made again when the spooled mentions are replayed
            log.warning("link proposals not queued now: %s", exc)

    def replay_spool(self) -> int:
        """Write what was spooled while the index was away, oldest first; returns the writes acknowledged.

        A segment is removed only once the index acknowledged every write in it; replay stops at the
        first segment the index cannot take, so nothing overtakes what was spooled before it.
        """
        done = 0
        with self.spool.exclusive() as mine:
            if not mine:
                return 0
            for segment in self.spool.segments():
                ops = self.spool.read(segment)
                try:
                    left = self._replay(ops)
                except INDEX_DOWN as exc:
                    log.warning("spool replay paused, index unavailable: %s", exc)
                    return done
                done += len(ops) - len(left)
                self.spool.replace(segment, left)
                crash_point("replayed")
                if left:
                    return done
        if done:
            log.info("spool: %d writes replayed into the index", done)
        return done

    def _which_index_process(self) -> str | None:
        """Ask which index process answers now (None: a real cluster) and remember it."""
        self._index_process = standin_process(self.es)
        self._index_process_known = True
        return self._index_process

    def _journal_tag(self) -> str | None:
        """The tag for writes about to be sent: the process known to answer before they are sent.

        Taken before the write, so a stand-in restarted meanwhile can only make the tag older, and an
        older tag means the writes are sent again (by id: never twice), never that they are forgotten.
        """
        if not self._index_process_known:
            with contextlib.suppress(*INDEX_DOWN):
                self._which_index_process()
        return self._index_process if self._index_process_known else UNKNOWN_PROCESS

    def _journal(self, ops: list[SpooledOp], acknowledged_by: str | None) -> None:
        """Keep what a stand-in acknowledged until it has saved it (a real cluster's ack is durable)."""
        if ops and acknowledged_by is not None:
            self.journal.append(ops, tag=acknowledged_by)

    def confirm_journal(self) -> int:
        """Forget the journaled writes the stand-in has saved; write again those a gone process held.

        A segment acknowledged by the process that answers now is saved once that process has run
        `reliability.standin_saved_after_seconds` since (it saves about once a second). A segment
        acknowledged by another process (the stand-in died and was started again, or a real cluster
        answers now) is written again by id: what survived is a duplicate, what was lost is created,
        and its alerts are raised again by id. Returns the writes sent again.
        """
        if not self.journal.segments():
            return 0
        sent = 0
        with self.journal.exclusive() as mine:
            if not mine:
                return 0
            answering = self._which_index_process()
            saved_after = self.settings.reliability.standin_saved_after_seconds
            for segment in self.journal.segments():
                if answering is not None and Journal.segment_tag(segment) == answering:
                    if time.time() - Journal.written_at(segment) >= saved_after:
                        self.journal.replace(segment, [])
                    continue
                ops = self.journal.read(segment)
                left = self._replay(ops)  # journals again what the answering process acknowledges
                self.spool.append(left)  # not taken now: the spool keeps them until it is
                self.journal.replace(segment, [])
                sent += len(ops) - len(left)
        if sent:
            log.warning(
                "index: %d writes acknowledged by an index process that has gone since were sent again", sent
            )
        return sent

    def _replay(self, ops: list[SpooledOp]) -> list[SpooledOp]:
        """Apply one segment; returns the ops still waiting (the index could not take them yet)."""
        acknowledged_by = self._journal_tag()
        deletes = [op for op in ops if op.op == "delete"]
        mentions = [Mention.model_validate(op.doc) for op in ops if op.op == "create" and op.doc]
        if deletes:
            delete_mentions_and_alerts(self.es, self.names, [op.id for op in deletes])
            self._journal(deletes, acknowledged_by)
        reliability = self.settings.reliability
        result = index_mentions(
            self.es,
            self.names,
            mentions,
            attempts=reliability.bulk_attempts,
            backoff_seconds=reliability.bulk_backoff_seconds,
            defer=True,
        )
        if result.failed:
            by_id = {m.id: m for m in mentions}
            self.dead_letters.add(
                [
                    (i, by_id[i].source, reason, by_id[i].model_dump(mode="json"))
                    for i, reason in result.failed
                ]
            )
        unstored = {doc_id for doc_id, _ in result.failed} | set(result.deferred)
        stored = [m for m in mentions if m.id not in unstored]
        queue_link_reviews(self.es, self.names, stored)
        self.alerter.handle(stored, self.directory)
        self._journal([self._spooled(m) for m in stored], acknowledged_by)
        waiting = set(result.deferred)
        return [op for op in ops if op.op == "create" and op.id in waiting]

    def retry_dead_letters(self, ids: set[str] | None = None) -> tuple[int, int]:
        """Index the dead letters again (all, or `ids`); returns (stored now, still refused)."""
        letters = [letter for letter in self.dead_letters.all() if ids is None or letter.id in ids]
        if not letters:
            return 0, 0
        mentions = [
            self._enriched_again(letter.reason, Mention.model_validate(letter.doc)) for letter in letters
        ]
        acknowledged_by = self._journal_tag()
        result = index_mentions(
            self.es, self.names, mentions, attempts=self.settings.reliability.bulk_attempts
        )
        unstored = {doc_id for doc_id, _ in result.failed}
        stored = [m for m in mentions if m.id not in unstored]
        self.dead_letters.remove({m.id for m in stored})
        self.dead_letters.add(
            [
                (i, letter.source, reason, letter.doc)
                for letter in letters
                for i, reason in result.failed
                if i == letter.id
            ]
        )
        queue_link_reviews(self.es, self.names, stored)
        self.alerter.handle(stored, self.directory)
        self._journal([self._spooled(m) for m in stored], acknowledged_by)
        return len(stored), len(unstored)

    def _enriched_again(self, reason: str, mention: Mention) -> Mention:
        """A mention dead-lettered because enriching it failed is enriched again from its post (a fixed
        model or a new release may read it now); if that still fails, its placeholder labels are kept
        and the accurate model's re-scoring gives it labels later."""
        if not reason.startswith(NOT_ENRICHED):
            return mention
        post = RawPost(
            **mention.model_dump(include=set(RawPost.model_fields) - {"language_hint", "created_at"}),
            created_at=mention.published_claimed or mention.created_at,  # dated again, flagged again
            dated="undated" not in mention.flags,
            language_hint=mention.language if mention.language != "other" else None,
        )
        try:
            return self._enrich_batch([post])[0]
        except EcouteError:
            raise
        except Exception as exc:
            log.warning("dead letter %s still cannot be enriched: %r", mention.id, exc)
            return mention

    def gdpr(self) -> Gdpr:
        return Gdpr(
            self.es,
            self.names,
            self.settings.resolve(self.settings.state_dir),
            self.settings.privacy,
            self._pseudonym_key(),
        )

    def apply_retention(self) -> dict[str, int]:
        """Delete mentions older than each source's retention (privacy.retention_days)."""
        return self.gdpr().apply_retention([s.name for s in self.settings.sources])

    def _apply_deletions(self, source: str, native_ids: list[str], report: RunReport) -> None:
        """Remove the mentions of posts the platform reported deleted (spooled when the index is away)."""
        ids = [mention_id(source, native_id) for native_id in native_ids]
        if not ids:
            return
        acknowledged_by = self._journal_tag()
        try:
            if self._index_down:
                raise IndexUnavailableError("index unavailable in this run")
            report.deleted += delete_mentions_and_alerts(self.es, self.names, ids)["mentions"]
            self._journal([SpooledOp(op="delete", id=i, source=source) for i in ids], acknowledged_by)
        except INDEX_DOWN:
            self.spool.append([SpooledOp(op="delete", id=i, source=source) for i in ids])

    def collect(
        self, source_name: str, since: datetime | None = None, use_lock: bool = False, refresh: bool = False
    ) -> RunReport:
        """One run of one source; the cursor advances only once the batch is stored.

        `refresh` re-reads the source's last `refresh_days` instead (its cursor is neither used nor
        moved): posts already indexed get their current counts, reach and edits, new ones are indexed.
        """
        config = self.settings.source(source_name)
        report = RunReport(source=source_name, refresh=refresh)
        interval = config.interval_seconds
        if refresh:
            days = refreshable(config)
            if not days:
                raise ConfigError(
                    f"source {source_name!r} ({config.type}) is not refreshed: only sources read over "
                    "HTTP with refresh_days above 0 re-read their recent posts"
                )
            since = datetime.now(UTC) - timedelta(days=days)
            interval = config.refresh_interval_seconds  # type: ignore[union-attr]
        self._index_down = False
        lease = timedelta(seconds=max(interval - 1, 5))
        lock = f"{'refresh' if refresh else 'source'}:{source_name}"
        try:
            if use_lock and not acquire_lock(self.es, self.names, lock, self.owner, lease):
                report.skipped = "another ecoute process holds this source"
                return report
        except INDEX_DOWN as exc:  # no lease without the index; writes by id keep a second runner harmless
            log.warning("%s: running without the lease, index unavailable: %s", source_name, exc)
        started = time.perf_counter()
        try:
            self.confirm_journal()  # before the spool: what it holds was acknowledged earlier
            self.replay_spool()
            self.refresh_decisions()
        except INDEX_DOWN as exc:
            log.warning(
                "%s: index unavailable, collecting with the customers known so far: %s", source_name, exc
            )
        cursor_id = f"cursor:{source_name}"
        cursor = {} if since else self._cursor(source_name, cursor_id)
        # A run slower than the lease's ttl keeps its lease: no second process starts the source meanwhile.
        keeper = LeaseKeeper(self.es, self.names, lock, self.owner, lease).start() if use_lock else None
        try:
            collector = build_collector(
                config, self.settings.base_dir, self.settings.resolve(self.settings.state_dir)
            )
            result = collector.fetch(cursor, since=since)
            crash_point("fetched")
            report.fetched = len(result.posts)
            report.problems = result.problems
            posts = [p for p in result.posts if since is None or p.created_at >= since]
            if self.process(posts, report):
                self._apply_deletions(source_name, result.deletions, report)
                if not refresh:
                    self._store_cursor(source_name, cursor_id, result.cursor)
        except CollectorError as exc:
            report.error = str(exc)
        except EcouteError as exc:
            report.error = str(exc)
        finally:
            if keeper is not None:
                keeper.stop()
        report.seconds = time.perf_counter() - started
        try:
            self._record_health(report)
        except INDEX_DOWN as exc:
            log.warning("%s: health not recorded: %s", source_name, exc)
        for problem in report.problems:
            log.warning("%s", problem)
        return report

    def _store_cursor(self, source_name: str, cursor_id: str, cursor: dict[str, str]) -> None:
        now = datetime.now(UTC)
        self.local_cursors.put(source_name, cursor, now)
        try:
            put_state(
                self.es,
                self.names,
                SourceState(id=cursor_id, kind="cursor", source=source_name, data=cursor, updated_at=now),
            )
        except INDEX_DOWN as exc:
            log.warning("%s: cursor kept on local disk only: %s", source_name, exc)

    def delete_native(self, source: str, native_ids: list[str]) -> int:
        """Remove the mentions of posts the platform reported deleted; returns how many were indexed."""
        report = RunReport(source=source)
        self._apply_deletions(source, native_ids, report)  # their alerts go too; spooled if the index is away
        return report.deleted

    def record_health(self, report: RunReport) -> None:
        """Store a run's health record (a stream records each micro-batch as a run)."""
        self._record_health(report)

    def _cursor(self, source_name: str, cursor_id: str) -> dict:
        """The newer of the index's cursor and the local copy (the local one when the index is away)."""
        local = self.local_cursors.get(source_name)
        try:
            stored = get_state(self.es, self.names, cursor_id)
        except INDEX_DOWN:
            stored = None
        if stored and (local is None or stored.updated_at >= local[1]):
            return dict(stored.data or {})
        return dict(local[0]) if local else {}

    def release(self) -> None:
        """Give up this process's source leases (on shutdown) so another process can take over."""
        for source in self.settings.sources:
            with contextlib.suppress(*INDEX_DOWN):  # a lease the index never hears about expires by itself
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
