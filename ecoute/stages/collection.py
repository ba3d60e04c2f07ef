"""Collection stage: a source's collector run from its cursor, under a lease so one process runs it."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from collectors.base import FetchResult
from collectors.http import hearing_answers
from collectors.registry import AnySourceConfig, build_collector
from core.documents import SourceState
from core.errors import ConfigError
from core.progress import Progress
from ecoute.faults import crash_point
from ecoute.spool import LocalCursors
from ecoute.stages.run import INDEX_DOWN
from index.client import IndexNames
from index.state import LeaseKeeper, acquire_lock, get_state, put_state, release_lock

log = logging.getLogger("ecoute")


def refreshable(config: object) -> int:
    """The days a source re-reads on each refresh; 0 when it has no refresh (not read over HTTP, or off)."""
    return int(getattr(config, "refresh_days", 0) or 0)


def lock_name(source: str, refresh: bool) -> str:
    """The lease a source's collection (or its refresh) runs under."""
    return f"{'refresh' if refresh else 'source'}:{source}"


class Collection:
    """Runs collectors and keeps their cursors (in the index and on local disk) and their leases.

    `owner` names this process in the leases it holds.
    """

    def __init__(
        self,
        es: Elasticsearch,
        names: IndexNames,
        base_dir: Path,
        state_dir: Path,
        owner: str,
        local_cursors: LocalCursors,
    ) -> None:
        self.es, self.names, self.base_dir, self.state_dir = es, names, base_dir, state_dir
        self.owner, self.local_cursors = owner, local_cursors

    @staticmethod
    def refresh_start(config: AnySourceConfig) -> datetime:
        """Where a refresh of this source starts reading: its last `refresh_days`."""
        days = refreshable(config)
        if not days:
            raise ConfigError(
                f"source {config.name!r} ({config.type}) is not refreshed: only sources read over "
                "HTTP with refresh_days above 0 re-read their recent posts"
            )
        return datetime.now(UTC) - timedelta(days=days)

    @staticmethod
    def lease_length(config: AnySourceConfig, refresh: bool) -> timedelta:
        """A lease a little shorter than the run's interval (5 s at least)."""
        interval = config.refresh_interval_seconds if refresh else config.interval_seconds  # type: ignore[union-attr]
        return timedelta(seconds=max(interval - 1, 5))

    def take_lease(self, source: str, refresh: bool, lease: timedelta) -> bool:
        """Whether this process may run the source now (False: another one holds it)."""
        try:
            return acquire_lock(self.es, self.names, lock_name(source, refresh), self.owner, lease)
        except INDEX_DOWN as exc:  # no lease without the index; writes by id keep a second runner harmless
            log.warning("%s: running without the lease, index unavailable: %s", source, exc)
            return True

    def keep_lease(self, source: str, refresh: bool, lease: timedelta) -> LeaseKeeper:
        """Renew the lease while the run lasts: no second process starts the source meanwhile."""
        return LeaseKeeper(self.es, self.names, lock_name(source, refresh), self.owner, lease).start()

    def release(self, sources: list[str]) -> None:
        """Give up this process's source leases (on shutdown) so another process can take over."""
        for source in sources:
            with contextlib.suppress(*INDEX_DOWN):  # a lease the index never hears about expires by itself
                release_lock(self.es, self.names, lock_name(source, False), self.owner)

    def fetch(
        self,
        config: AnySourceConfig,
        cursor: dict,
        since: datetime | None,
        progress: Progress | None = None,
    ) -> FetchResult:
        """Run the source's collector once from `cursor` (or from `since`); `progress` hears the pages read
        over HTTP as they come (step "<source>: pages read")."""
        collector = build_collector(config, self.base_dir, self.state_dir)
        step = f"{config.name}: pages read"
        counting = None
        if progress is not None:
            progress(step, 0, None)
            counting = hearing_answers(lambda pages: progress(step, pages, None))
        with counting or contextlib.nullcontext():
            result = collector.fetch(cursor, since=since)
        crash_point("fetched")
        return result

    def cursor(self, source: str) -> dict:
        """The newer of the index's cursor and the local copy (the local one when the index is away)."""
        local = self.local_cursors.get(source)
        try:
            stored = get_state(self.es, self.names, f"cursor:{source}")
        except INDEX_DOWN:
            stored = None
        if stored and (local is None or stored.updated_at >= local[1]):
            return dict(stored.data or {})
        return dict(local[0]) if local else {}

    def store_cursor(self, source: str, cursor: dict[str, str]) -> None:
        """Keep the cursor on local disk, then in the index (local only when the index is away)."""
        now = datetime.now(UTC)
        self.local_cursors.put(source, cursor, now)
        try:
            put_state(
                self.es,
                self.names,
                SourceState(id=f"cursor:{source}", kind="cursor", source=source, data=cursor, updated_at=now),
            )
        except INDEX_DOWN as exc:
            log.warning("%s: cursor kept on local disk only: %s", source, exc)
