"""Recovery stage: what the index could not take, or may have lost, written again in order and by id."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core.documents import Mention
from core.progress import Progress, counted
from ecoute.faults import crash_point
from ecoute.spool import Journal, SpooledOp
from ecoute.stages.run import INDEX_DOWN
from ecoute.stages.storage import Storage, spooled
from index.privacy import delete_mentions_and_alerts
from index.reviews import queue_link_reviews
from nlp.linking import CustomerDirectory

log = logging.getLogger("ecoute")

EnrichAgain = Callable[[str, Mention], Mention]
"""Given a dead letter's reason and its mention, the mention to store now."""


class Recovery:
    """Replays the spool, confirms or replays the journal and retries dead letters, through `storage`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def replay_spool(self, directory: CustomerDirectory) -> int:
        """Write what was spooled while the index was away, oldest first; returns the writes acknowledged.

        A segment is removed only once the index acknowledged every write in it; replay stops at the
        first segment the index cannot take, so nothing overtakes what was spooled before it.
        """
        spool = self.storage.spool
        done = 0
        with spool.exclusive() as mine:
            if not mine:
                return 0
            for segment in spool.segments():
                ops = spool.read(segment)
                try:
                    left = self.replay(ops, directory)
                except INDEX_DOWN as exc:
                    log.warning("spool replay paused, index unavailable: %s", exc)
                    return done
                done += len(ops) - len(left)
                spool.replace(segment, left)
                crash_point("replayed")
                if left:
                    return done
        if done:
            log.info("spool: %d writes replayed into the index", done)
        return done

    def confirm_journal(self, directory: CustomerDirectory) -> int:
        """Forget the journaled writes the stand-in has saved; write again those a gone process held.

        A segment acknowledged by the process that answers now is saved once that process has run
        `reliability.standin_saved_after_seconds` since (it saves about once a second). A segment
        acknowledged by another process (the stand-in died and was started again, or a real cluster
        answers now) is written again by id: what survived is a duplicate, what was lost is created,
        and its alerts are raised again by id. Returns the writes sent again.
        """
        journal = self.storage.journal
        if not journal.segments():
            return 0
        sent = 0
        with journal.exclusive() as mine:
            if not mine:
                return 0
            answering = self.storage.which_index_process()
            saved_after = self.storage.reliability.standin_saved_after_seconds
            for segment in journal.segments():
                if answering is not None and Journal.segment_tag(segment) == answering:
                    if time.time() - Journal.written_at(segment) >= saved_after:
                        journal.replace(segment, [])
                    continue
                ops = journal.read(segment)
                left = self.replay(ops, directory)  # journals again what the answering process acknowledges
                self.storage.spool.append(left)  # not taken now: the spool keeps them until it is
                journal.replace(segment, [])
                sent += len(ops) - len(left)
        if sent:
            log.warning(
                "index: %d writes acknowledged by an index process that has gone since were sent again", sent
            )
        return sent

    def replay(self, ops: list[SpooledOp], directory: CustomerDirectory) -> list[SpooledOp]:
        """Apply one segment; returns the ops still waiting (the index could not take them yet)."""
        storage = self.storage
        acknowledged_by = storage.journal_tag()
        deletes = [op for op in ops if op.op == "delete"]
        mentions = [Mention.model_validate(op.doc) for op in ops if op.op == "create" and op.doc]
        if deletes:
            delete_mentions_and_alerts(storage.es, storage.names, [op.id for op in deletes])
            storage.keep_in_journal(deletes, acknowledged_by)
        result = storage.write(mentions, defer=True)
        storage.dead_letter(mentions, result)
        unstored = {doc_id for doc_id, _ in result.failed} | set(result.deferred)
        stored = [m for m in mentions if m.id not in unstored]
        queue_link_reviews(storage.es, storage.names, stored)
        storage.alerter.handle(stored, directory)
        storage.keep_in_journal([spooled(m) for m in stored], acknowledged_by)
        waiting = set(result.deferred)
        return [op for op in ops if op.op == "create" and op.id in waiting]

    def retry_dead_letters(
        self,
        directory: CustomerDirectory,
        enrich_again: EnrichAgain,
        ids: set[str] | None = None,
        progress: Progress | None = None,
    ) -> tuple[int, int]:
        """Index the dead letters again (all, or `ids`); returns (stored now, still refused).

        `progress` hears the dead letters enriched again so far (step "dead letters enriched").
        """
        storage = self.storage
        letters = [letter for letter in storage.dead_letters.all() if ids is None or letter.id in ids]
        if not letters:
            return 0, 0
        mentions = [
            enrich_again(letter.reason, Mention.model_validate(letter.doc))
            for letter in counted(letters, progress, "dead letters enriched", len(letters))
        ]
        acknowledged_by = storage.journal_tag()
        result = storage.write(mentions, defer=False)
        unstored = {doc_id for doc_id, _ in result.failed}
        stored = [m for m in mentions if m.id not in unstored]
        storage.dead_letters.remove({m.id for m in stored})
        storage.dead_letters.add(
            [
                (i, letter.source, reason, letter.doc)
                for letter in letters
                for i, reason in result.failed
                if i == letter.id
            ]
        )
        queue_link_reviews(storage.es, storage.names, stored)
        storage.alerter.handle(stored, directory)
        storage.keep_in_journal([spooled(m) for m in stored], acknowledged_by)
        return len(stored), len(unstored)
