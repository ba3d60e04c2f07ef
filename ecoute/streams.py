"""The stream side of the engine: follow `stream: true` sources live, in micro-batches.

Each stream runs in its own thread: it reads events until `batch_max_events` are waiting or
`batch_max_seconds` have passed, sends the posts through Engine.process, applies deletions, and
only then stores the cursor (the same `cursor:<source>` state a polling run uses), so a process
killed mid-batch resumes from the last stored batch: nothing lost, and idempotent ids mean
nothing twice. A dropped connection is reopened with exponential backoff and jitter from the
stored cursor; the backoff starts over once a connection has delivered a batch. The source's
lease (the same lock polling takes) keeps two `ecoute run` processes from following one stream.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tenacity import Retrying, retry_if_exception_type, stop_when_event_set, wait_exponential_jitter

from collectors.base import CollectorError, Cursor
from collectors.registry import build_collector
from collectors.streams import StreamCollector, StreamEvent, StreamSourceConfig
from core.documents import RawPost, SourceState
from core.errors import ConfigError, EcouteError
from ecoute.engine import Engine, RunReport
from index.state import acquire_lock, get_state, put_state

log = logging.getLogger("ecoute")

HEALTH_EVERY_SECONDS = 60.0


class StreamInterrupted(EcouteError):
    """A connection ended before or while a batch was stored: reconnect from the stored cursor."""


class LeaseLost(Exception):
    """Another process took the source's lease (this one's had expired): stop following for now."""


@dataclass
class Batch:
    """Events waiting to be indexed, and the cursor to store once they are."""

    cursor: Cursor | None = None
    posts: list[RawPost] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    started: float | None = None

    def add(self, event: StreamEvent) -> None:
        self.cursor = event.cursor
        if event.post is not None:
            self.posts.append(event.post)
        elif event.deletion is not None:
            self.deletions.append(event.deletion)
        elif event.problem is not None:
            self.problems.append(event.problem)
        if self.started is None:
            self.started = time.monotonic()

    @property
    def events(self) -> int:
        return len(self.posts) + len(self.deletions) + len(self.problems)


class StreamRunner:
    """Follows one streaming source until `stop` is set."""

    def __init__(self, engine: Engine, source: str, stop: threading.Event | None = None) -> None:
        config = engine.settings.source(source)
        if not isinstance(config, StreamSourceConfig) or not config.stream:
            raise ConfigError(
                f"source {source!r} is not a stream (set `stream: true` on a mastodon or bluesky source)"
            )
        self.engine, self.source, self.config = engine, source, config
        self.stop = stop or threading.Event()
        self.thread: threading.Thread | None = None
        self.batches = 0
        self._collector: StreamCollector | None = None
        self._lease_renewed = 0.0
        self._last_health = 0.0
        self._stored: Cursor | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Follow the stream in a daemon thread of its own."""
        self.thread = threading.Thread(target=self.run, name=f"stream:{self.source}", daemon=True)
        self.thread.start()
        return self.thread

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop reading, store what was read, and wait (bounded) for the thread to end."""
        self.stop.set()
        collector = self._collector
        if collector is not None:
            collector.close()  # a read blocked on the network ends now
        if self.thread is not None:
            self.thread.join(timeout)

    def run(self) -> None:
        """Hold the source's lease, follow the stream, reconnect with backoff; returns once stopped."""
        while not self.stop.is_set():
            if not self._take_lease():
                log.info("%s: another ecoute process follows this stream; waiting", self.source)
                self.stop.wait(self.config.lease_seconds / 2)
                continue
            retrying = Retrying(
                stop=stop_when_event_set(self.stop),
                # initial * 2^n seconds, capped, plus up to `initial` of random jitter
                wait=wait_exponential_jitter(
                    multiplier=self.config.reconnect_initial_seconds,
                    jitter=self.config.reconnect_initial_seconds,
                    max=self.config.reconnect_max_seconds,
                ),
                retry=retry_if_exception_type(EcouteError),
                sleep=self.stop.wait,
                reraise=True,
            )
            try:
                for attempt in retrying:
                    with attempt:
                        self.follow()
            except LeaseLost:
                log.warning(
                    "%s: the lease was taken by another process; this one stops following", self.source
                )
            except EcouteError:
                pass  # stopped while waiting to reconnect; the failure is already recorded
            except Exception:
                log.exception("%s: stream runner failed unexpectedly", self.source)
                self.stop.wait(self.config.reconnect_max_seconds)

    # --- one connection -----------------------------------------------------------------------

    def stored_cursor(self) -> Cursor:
        state = get_state(self.engine.es, self.engine.names, f"cursor:{self.source}")
        return dict((state.data if state else {}) or {})

    def follow(self) -> None:
        """One connection: read and index batches until it drops (raises) or `stop` is set (returns).

        A connection that stored at least one batch before dropping returns normally, so the
        reconnect backoff starts over; one that delivered nothing raises, so the backoff grows.
        """
        collector: StreamCollector = build_collector(self.config, self.engine.settings.base_dir)  # type: ignore[assignment]
        self._collector = collector
        batch, delivered = Batch(), 0
        try:
            for event in collector.stream(self.stored_cursor()):
                batch.add(event)
                if self._due(batch):
                    delivered += self._flush(batch)
                    batch = Batch()
                if self.stop.is_set():
                    break
        except CollectorError as exc:
            delivered += self._flush(batch)
            if self.stop.is_set():
                return
            self._record_failure(str(exc))
            log.warning("%s: stream dropped (%s); reconnecting", self.source, exc)
            if delivered:
                return
            raise
        finally:
            self._collector = None
            collector.close()
        self._flush(batch)

    def _due(self, batch: Batch) -> bool:
        if batch.events >= self.config.batch_max_events:
            return True
        return batch.started is not None and time.monotonic() - batch.started >= self.config.batch_max_seconds

    def _flush(self, batch: Batch) -> int:
        """Index the batch, apply its deletions, then store its cursor; returns the events stored."""
        if batch.cursor is None or (not batch.events and batch.cursor == self._stored):
            return 0
        started = time.perf_counter()
        report = RunReport(source=self.source, fetched=len(batch.posts), problems=batch.problems)
        try:
            stored = self.engine.process(batch.posts, report) if batch.posts else True
            if batch.deletions:
                removed = self.engine.delete_native(self.source, batch.deletions)
                log.info(
                    "%s: %d deleted posts, %d of them were indexed",
                    self.source,
                    len(batch.deletions),
                    removed,
                )
        except EcouteError as exc:
            self._record_failure(str(exc))
            raise StreamInterrupted(f"{self.source}: batch not stored ({exc})") from exc
        report.seconds = time.perf_counter() - started
        if not stored:  # the cursor stays behind: a reconnect replays this batch
            self.engine.record_health(report)
            raise StreamInterrupted(f"{self.source}: {len(report.failed)} mentions not indexed")
        now = datetime.now(UTC)
        put_state(
            self.engine.es,
            self.engine.names,
            SourceState(
                id=f"cursor:{self.source}",
                kind="cursor",
                source=self.source,
                data=batch.cursor,
                updated_at=now,
            ),
        )
        self._stored = batch.cursor
        self.batches += 1
        if batch.events or time.monotonic() - self._last_health >= HEALTH_EVERY_SECONDS:
            self.engine.record_health(report)
            self._last_health = time.monotonic()
            if batch.events:
                log.info("%s (stream): %s", self.source, report.line())
        for problem in batch.problems:
            log.warning("%s", problem)
        if time.monotonic() - self._lease_renewed >= self.config.lease_seconds / 3 and not self._take_lease():
            raise LeaseLost(self.source)
        return batch.events

    def _take_lease(self) -> bool:
        taken = acquire_lock(
            self.engine.es,
            self.engine.names,
            f"source:{self.source}",
            self.engine.owner,
            timedelta(seconds=self.config.lease_seconds),
        )
        if taken:
            self._lease_renewed = time.monotonic()
        return taken

    def _record_failure(self, error: str) -> None:
        try:
            self.engine.record_health(RunReport(source=self.source, error=error))
        except EcouteError as exc:
            log.error("%s: cannot record health (%s)", self.source, exc)


def stream_sources(engine: Engine) -> list[str]:
    """Names of the enabled sources that are followed live rather than polled."""
    return [
        s.name
        for s in engine.settings.sources
        if s.enabled and isinstance(s, StreamSourceConfig) and s.stream
    ]


def start_streams(engine: Engine, stop: threading.Event) -> list[StreamRunner]:
    """Start one runner thread per stream source; they all end when `stop` is set."""
    runners = [StreamRunner(engine, name, stop) for name in stream_sources(engine)]
    for runner in runners:
        runner.start()
    return runners
