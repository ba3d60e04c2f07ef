"""Storage stage: mentions bulk-stored into their period indices, then alerted; what the index cannot take
now goes to the spool, what it refuses to the dead letters, what a stand-in acknowledged to the journal."""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from alerts.delivery import Alerter
from core.documents import Mention, RawPost
from core.errors import IndexUnavailableError
from ecoute.faults import crash_point
from ecoute.safeguards import ReliabilityConfig
from ecoute.spool import DeadLetters, Journal, Spool, SpooledOp
from ecoute.stages.run import INDEX_DOWN, RunReport
from index.bulk import BulkReport
from index.capabilities import standin_process
from index.client import IndexNames
from index.engagement import known_mentions, update_known
from index.mentions import VersionedMention, index_mentions, refresh_mentions
from index.privacy import delete_mentions_and_alerts
from index.reviews import queue_link_reviews
from nlp.linking import CustomerDirectory
from nlp.pipeline import mention_id, unenriched

log = logging.getLogger("ecoute")
UNKNOWN_PROCESS = "0"
"""Journal tag of writes acknowledged before Écoute could tell which index process took them."""


def spooled(mention: Mention) -> SpooledOp:
    """The write that creates `mention`, as the spool and the journal keep it."""
    return SpooledOp(op="create", id=mention.id, source=mention.source, doc=mention.model_dump(mode="json"))


class Storage:
    """Writes mentions and deletions, alerts what was stored, and remembers within a run that the index
    is away (from then on, the rest of the run goes straight to the spool)."""

    def __init__(
        self,
        es: Elasticsearch,
        names: IndexNames,
        reliability: ReliabilityConfig,
        alerter: Alerter,
        spool: Spool,
        journal: Journal,
        dead_letters: DeadLetters,
    ) -> None:
        self.es, self.names, self.reliability, self.alerter = es, names, reliability, alerter
        self.spool, self.journal, self.dead_letters = spool, journal, dead_letters
        # The stand-in process that answered last (None: a real cluster, whose acknowledgement is durable).
        self.index_process: str | None = UNKNOWN_PROCESS
        self.index_process_known = False
        self.index_down = False
        # Set whenever new mentions are stored, so the re-scoring worker looks again at once instead of
        # polling the index (on the stand-in every search reads every mention).
        self.mentions_stored = threading.Event()
        # The mention indices written since the last refresh: only those are refreshed.
        self.unrefreshed: set[str] = set()

    def begin_run(self) -> None:
        """Try the index again: within a run, once away means spool the rest; each run looks again."""
        self.index_down = False

    def which_index_process(self) -> str | None:
        """Ask which index process answers now (None: a real cluster) and remember it."""
        self.index_process = standin_process(self.es)
        self.index_process_known = True
        return self.index_process

    def journal_tag(self) -> str | None:
        """The tag for writes about to be sent: the process known to answer before they are sent.

        Taken before the write, so a stand-in restarted meanwhile can only make the tag older, and an
        older tag means the writes are sent again (by id: never twice), never that they are forgotten.
        """
        if not self.index_process_known:
            with contextlib.suppress(*INDEX_DOWN):
                self.which_index_process()
        return self.index_process if self.index_process_known else UNKNOWN_PROCESS

    def keep_in_journal(self, ops: list[SpooledOp], acknowledged_by: str | None) -> None:
        """Keep what a stand-in acknowledged until it has saved it (a real cluster's ack is durable)."""
        if ops and acknowledged_by is not None:
            self.journal.append(ops, tag=acknowledged_by)

    def split_known(
        self, posts: list[RawPost]
    ) -> tuple[list[RawPost], list[tuple[VersionedMention, Mention]]]:
        """Split a batch into new posts and posts already stored, each with its stored version and what it
        says now (read as collected: no model runs again on a post already indexed).

        When the index cannot be asked, every post counts as new: creating by id keeps that harmless.
        """
        known: dict[str, VersionedMention] = {}
        if not self.index_down:
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
        return fresh, pairs

    def store_and_alert(
        self,
        mentions: list[Mention],
        report: RunReport,
        directory: CustomerDirectory,
        known: list[tuple[VersionedMention, Mention]] | None = None,
    ) -> None:
        """Store the new mentions, update the known ones in place, then alert.

        Known mentions are alerted only as first stored (never as updated), so a count or a follower
        number that grew never raises a new alert, while one stored by an earlier run that stopped
        before alerting still gets its alert now (alerts are deduplicated by mention id).
        """
        crash_point("enriched")
        known = known or []
        acknowledged_by = self.journal_tag()
        result = self.store(mentions, report)
        crash_point("indexed")
        # Proposed links wait for a person in the review queue; nothing is applied from them.
        self.queue_reviews([m for m in mentions if m.id not in result.deferred])
        report.indexed += result.created
        if result.created:
            self.mentions_stored.set()
        report.duplicates += result.duplicates
        report.failed += [f"{doc_id}: {reason}" for doc_id, reason in result.failed]
        failed_ids = {doc_id for doc_id, _ in result.failed} | set(result.deferred)
        stored = [m for m in mentions if m.id not in failed_ids]
        already = self.update_known(known, report)
        # Alerts are deduplicated per rule + customer + thread, so re-processing never alerts twice.
        if stored:
            try:
                report.alerts += self.alerter.handle(stored, directory)
            except INDEX_DOWN:  # replaying the stored mentions raises their alerts again, by id
                self.index_down = True
                self.spool.append([spooled(m) for m in stored])
        # Journaled after the alerts, so the alerts are as old as the journal says the batch is.
        self.keep_in_journal([spooled(m) for m in stored], acknowledged_by)
        crash_point("alerted")
        if already:
            try:  # after the new ones: a failure here never costs a new mention its alert
                report.alerts += self.alerter.handle(already, directory)
            except INDEX_DOWN as exc:  # stored already: the next run that reads them alerts them
                log.warning("alerts of known mentions not checked now: %s", exc)

    def update_known(self, known: list[tuple[VersionedMention, Mention]], report: RunReport) -> list[Mention]:
        """Write the changed counts, reach and edits of mentions already stored; returns those to alert,
        as first stored. Unchanged ones write nothing; with the index away, nothing is written and the
        next refresh reads them again."""
        if not known:
            return []
        report.duplicates += len(known)
        if self.index_down:
            return []
        try:
            result = update_known(self.es, self.names, known, datetime.now(UTC))
        except INDEX_DOWN as exc:
            log.warning("counts of %d known mentions not updated now: %s", len(known), exc)
            return []
        report.updated += len(result.updated)
        updated = set(result.updated)
        self.unrefreshed |= {s.index for s, _ in known if s.index and s.mention.id in updated}
        report.failed += [f"{doc_id}: counts not updated: {reason}" for doc_id, reason in result.failed]
        gone = set(result.gone)
        # Only a mention never updated before is still as first seen: alerting it again is a no-op by id,
        # or raises the alert a run that stopped before alerting owed it. One already updated was checked
        # as first seen in that earlier run; checking its grown counts now would raise a new alert.
        return [s.mention for s, _ in known if s.mention.id not in gone and s.mention.refreshed_at is None]

    def store(self, mentions: list[Mention], report: RunReport) -> BulkReport:
        """Index a batch; what the index cannot take now is spooled, what it refuses is dead-lettered."""
        result = BulkReport(deferred=[m.id for m in mentions])
        if not self.index_down:
            try:
                result = self.write(mentions, defer=True, refresh=False)
            except IndexUnavailableError as exc:  # stored, perhaps, but not acknowledged: spool it all
                result = BulkReport(deferred=[m.id for m in mentions], deferred_reason=str(exc))
        self.unrefreshed |= result.indices
        if result.deferred:
            deferred = set(result.deferred)
            if not self.index_down:
                log.warning(
                    "index unavailable (%s): spooling to %s", result.deferred_reason, self.spool.directory
                )
            self.index_down = True  # the rest of this run goes straight to the spool
            self.spool.append([spooled(m) for m in mentions if m.id in deferred])
            report.spooled += len(deferred)
            crash_point("spooled")
        self.dead_letter(mentions, result)
        return result

    def write(self, mentions: list[Mention], *, defer: bool, refresh: bool = True) -> BulkReport:
        """Create mentions by id with the configured bulk retries and backoff (index_mentions).

        `defer`: what the index cannot take now comes back as deferred instead of failed."""
        return index_mentions(
            self.es,
            self.names,
            mentions,
            attempts=self.reliability.bulk_attempts,
            backoff_seconds=self.reliability.bulk_backoff_seconds,
            defer=defer,
            refresh=refresh,
        )

    def dead_letter(self, mentions: list[Mention], result: BulkReport) -> None:
        """Keep the mentions the index refused in `result` as dead letters, with the reason."""
        by_id = {m.id: m for m in mentions}
        self.dead_letters.add(
            [
                (doc_id, by_id[doc_id].source, reason, by_id[doc_id].model_dump(mode="json"))
                for doc_id, reason in result.failed
                if doc_id in by_id
            ]
        )

    def queue_reviews(self, mentions: list[Mention]) -> None:
        """Queue the proposed customer links of stored mentions for a person to decide."""
        try:
            queue_link_reviews(self.es, self.names, mentions)
        except INDEX_DOWN as exc:  # proposals are made again when the spooled mentions are replayed
            log.warning("link proposals not queued now: %s", exc)

    def refresh(self) -> None:
        """Make what this run stored searchable now, refreshing only the indices it wrote."""
        try:  # one refresh per run: a refresh per batch cost more than the bulk write itself
            refresh_mentions(self.es, self.names, self.unrefreshed)
            self.unrefreshed.clear()
        except IndexUnavailableError as exc:  # stored; searchable at the index's next own refresh
            log.warning("mentions stored, not refreshed yet: %s", exc)

    def delete(self, source: str, native_ids: list[str], report: RunReport) -> None:
        """Remove the mentions of posts the platform reported deleted (spooled when the index is away)."""
        ids = [mention_id(source, native_id) for native_id in native_ids]
        if not ids:
            return
        acknowledged_by = self.journal_tag()
        try:
            if self.index_down:
                raise IndexUnavailableError("index unavailable in this run")
            report.deleted += delete_mentions_and_alerts(self.es, self.names, ids)["mentions"]
            self.keep_in_journal([SpooledOp(op="delete", id=i, source=source) for i in ids], acknowledged_by)
        except INDEX_DOWN:
            self.spool.append([SpooledOp(op="delete", id=i, source=source) for i in ids])
