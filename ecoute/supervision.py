"""`ecoute run` keeps the embedded index alive: a stand-in that died is started again on its data."""

from __future__ import annotations

import logging
import threading
import time

from core.errors import EcouteError
from ecoute.engine import INDEX_DOWN, Engine
from index.client import EmbeddedServer
from index.schema import ensure_indices

log = logging.getLogger("ecoute")


class IndexWatch:
    """Checks that the embedded stand-in still runs; restarts it (same data folder) when it has died.

    Once it answers again, the writes it may have lost (the journal) and the writes spooled while it
    was away are sent at once, so the background jobs go on where they were.
    """

    def __init__(self, engine: Engine, server: EmbeddedServer) -> None:
        self.engine, self.server = engine, server
        self.restarts = 0

    def check(self) -> bool:
        """Restart the stand-in if its process is gone; True when it was restarted now."""
        if self.server.pid() is not None or self.server.answers():
            return False
        started = time.monotonic()
        try:
            self.server.start()
        except EcouteError as exc:
            log.error("index: the embedded stand-in has stopped and could not be restarted: %s", exc)
            return False
        self.restarts += 1
        log.warning(
            "index: the embedded stand-in had stopped; restarted on its data in %s (pid %s, %.1fs)",
            self.server.data_dir,
            self.server.pid(),
            time.monotonic() - started,
        )
        try:
            ensure_indices(
                self.engine.es, self.engine.names, self.engine.settings.index
            )  # a stand-in that died young lost them
            self.engine.confirm_journal()
            self.engine.replay_spool()
        except INDEX_DOWN as exc:  # the spool:replay job tries again
            log.warning("index: restarted, but sending what it missed failed for now: %s", exc)
        return True

    def start(self, stop: threading.Event) -> threading.Thread:
        """Check every `reliability.index_watch_seconds` in a daemon thread until `stop` is set."""
        every = self.engine.settings.reliability.index_watch_seconds

        def watch() -> None:
            while not stop.wait(every):
                try:
                    self.check()
                except Exception:  # the watch must outlive any single failure
                    log.exception("index: watching the embedded stand-in failed")

        thread = threading.Thread(target=watch, name="ecoute-index-watch", daemon=True)
        thread.start()
        return thread
