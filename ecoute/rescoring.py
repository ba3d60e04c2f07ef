"""The accurate model's background worker: re-scores stored mentions, newest first, without holding up ingest.

Ingest scores every mention with the fast model so alerts leave within seconds. This worker then reads the
mentions the accurate model has not scored yet (the index is the queue, so a crash or a restart loses
nothing), re-scores them in batches, and writes only sentiment, intents and `model` back, each mention
conditional on the version it read (a mention triaged meanwhile is read again next time). A mention whose
new labels make it match a rule raises that alert; alerts are deduplicated per rule and mention, so a
mention that already alerted never alerts twice.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from core.documents import Mention
from core.errors import EcouteError
from ecoute.engine import Engine
from ecoute.faults import crash_point
from index.mentions import count_to_rescore, mentions_to_rescore, store_relabels
from nlp.classifier import EmbeddingClassifier, rescoring_classifier_for
from nlp.pipeline import relabel

log = logging.getLogger("ecoute")
IDLE_CAP_SECONDS = 300.0
RECHECK_SECONDS = 2.0


@dataclass
class RescoreReport:
    """One pass: how many mentions were read, re-scored, changed label, left for later, and alerts raised."""

    read: int = 0
    rescored: int = 0
    changed: int = 0
    conflicts: int = 0
    alerts: int = 0
    ids: list[str] = field(default_factory=list)  # the mentions whose accurate labels were stored


def labels_differ(before: Mention, after: Mention) -> bool:
    """Whether a re-score changed anything a rule or a person reads: sentiment or the set of intents."""
    return before.sentiment.label != after.sentiment.label or {i.label for i in before.intents} != {
        i.label for i in after.intents
    }


class Rescorer:
    """Re-scores with `classifier` the mentions of `engine`'s index that it has not scored yet."""

    def __init__(self, engine: Engine, classifier: EmbeddingClassifier) -> None:
        self.engine = engine
        self.classifier = classifier
        self.model = classifier.head.name
        self.batch_size = engine.settings.nlp.rescoring.batch_size

    def pending(self) -> int:
        return count_to_rescore(self.engine.es, self.engine.names, self.model)

    def run_once(self) -> RescoreReport:
        """Re-score one batch (the newest mentions not yet scored by this model)."""
        engine, report = self.engine, RescoreReport()
        batch = mentions_to_rescore(engine.es, engine.names, self.model, self.batch_size)
        report.read = len(batch)
        if not batch:
            return report
        relabelled = relabel([v.mention for v in batch], self.classifier, engine.settings.brand)
        crash_point("rescored")
        stored = store_relabels(
            engine.es,
            engine.names,
            [(m, v.seq_no, v.primary_term, v.index) for m, v in zip(relabelled, batch, strict=True)],
        )
        crash_point("relabelled")
        for mention_id, reason in stored.failed:
            log.warning("re-score of mention %s not stored: %s", mention_id, reason)
        report.ids, report.conflicts = stored.updated, len(stored.conflicts)
        report.rescored = len(report.ids)
        updated = set(stored.updated)
        changed = [
            after
            for before, after in zip((v.mention for v in batch), relabelled, strict=True)
            if after.id in updated and labels_differ(before, after)
        ]
        report.changed = len(changed)
        if changed:
            report.alerts = engine.alerter.handle(changed, engine.directory)
        return report

    def run_for(self, seconds: float) -> RescoreReport:
        """Batches until nothing is left or `seconds` have passed; the scheduler calls this again later."""
        total, deadline = RescoreReport(), time.monotonic() + seconds
        while time.monotonic() < deadline:
            report = self.run_once()
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.read == 0 or report.rescored == 0:
                break
        return total

    def run_forever(self, stop: threading.Event) -> None:
        """Until `stop` is set: re-score what is there; when nothing is, sleep until the engine stores new
        mentions, looking again at most every `idle_seconds` × 2ⁿ (capped at IDLE_CAP_SECONDS) meanwhile
        for mentions stored by another process."""
        idle = base = self.engine.settings.nlp.rescoring.idle_seconds
        stored = self.engine.mentions_stored
        soon = False  # look again in RECHECK_SECONDS, not after the long idle sleep
        while not stop.is_set():
            stored.clear()
            try:
                report = self.run_once()
            except EcouteError as exc:  # index away: try again after a pause, nothing is lost
                log.warning("re-scoring paused: %s", exc)
                report = RescoreReport()
            except Exception as exc:  # the worker must outlive one bad batch; the batch stays pending
                log.exception("re-scoring failed, will retry: %s", exc)
                report = RescoreReport()
            if report.read and report.rescored:
                idle, soon = base, False
                continue
            if soon or report.conflicts:
                # Just woken and found nothing (a backend may show a fresh write a moment late), or lost a
                # race with a triage or an alert: the mentions are there, so look again shortly.
                soon = self._sleep(RECHECK_SECONDS, stop)
                continue
            if self._sleep(idle, stop):
                idle, soon = base, True
            else:
                idle = min(idle * 2, max(base, IDLE_CAP_SECONDS))

    def _sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to `seconds`, a second at a time so `stop` is seen; True when new mentions arrived."""
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self.engine.mentions_stored.wait(min(1.0, left)):
                return True
        return False


def start_rescoring(engine: Engine, stop: threading.Event) -> threading.Thread | None:
    """The background worker in a daemon thread, when config.yaml's `nlp.models` ends with `accurate`."""
    classifier = rescoring_classifier_for(engine.settings)
    if classifier is None:
        return None
    worker = Rescorer(engine, classifier)
    thread = threading.Thread(target=worker.run_forever, args=(stop,), name="ecoute-rescoring", daemon=True)
    thread.start()
    return thread
