"""What the stages share about one run: its report, and the errors that mean the index is away."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, TransportError

from core.errors import IndexUnavailableError

# What the client raises when the index is away or refuses the request as a whole.
INDEX_DOWN = (ApiError, TransportError, IndexUnavailableError)


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

    def as_dict(self) -> dict[str, Any]:
        """The report for scripts (`ecoute collect --json`): the numbers of `line`, and why items were
        skipped or not indexed; `skipped` and `error` are None unless the run was skipped or failed."""
        return {
            "source": self.source,
            "refresh": self.refresh,
            "fetched": self.fetched,
            "new": self.indexed,
            "already_indexed": self.duplicates,
            "updated": self.updated,
            "alerts": self.alerts,
            "items_skipped": len(self.problems),
            "problems": list(self.problems),
            "not_indexed": len(self.failed),
            "failed": list(self.failed),
            "spooled": self.spooled,
            "deleted": self.deleted,
            "seconds": round(self.seconds, 3),
            "skipped": self.skipped,
            "error": self.error,
        }
