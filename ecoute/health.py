"""Each source's health as a person acts on it: the last run's numbers, why items were skipped, the
current error only; read by `ecoute sources` and the Admin page alike."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ecoute.config import Settings

TOP_REASONS = 3
# What names one item in a problem line ("item 3", "status 1136…", "(t3_abc)", a URL…): dropped so that
# the same reason on many items counts as one.
ITEM = re.compile(r"\b(item|status|reply|comment|line|row) [^:]+: |\([^)]*\): |https?://\S+: |\d{3,}")


@dataclass
class SourceHealth:
    """One configured source: its state (off, never_ran, ok, warning, failing) and its last run."""

    name: str
    type: str
    enabled: bool
    state: str
    last_run: str | None = None
    last_success: str | None = None
    read: int | None = None
    new: int | None = None
    duplicates: int | None = None
    updated: int | None = None
    run_kind: str | None = None  # "collect" or "refresh": which kind of run the numbers are from
    skipped: int | None = None
    skip_reasons: list[tuple[str, int]] = field(default_factory=list)
    failures: int = 0
    error: str | None = None  # only while the source is failing: an old error after a success is history

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def skip_reasons(problems: list[str], top: int = TOP_REASONS) -> list[tuple[str, int]]:
    """The `top` most frequent reasons among a run's problem lines, each with how many items it skipped."""
    reasons = Counter(ITEM.sub("", line.split(": ", 1)[-1]).strip() or line for line in problems)
    return reasons.most_common(top)


def source_health(settings: Settings, recorded: dict[str, dict[str, Any]]) -> list[SourceHealth]:
    """The health of every source of `settings`, from the records its runs left (`recorded` by name)."""
    rows = []
    for source in settings.sources:
        data = recorded.get(source.name, {})
        failures = int(data.get("consecutive_failures", 0))
        read, skipped = data.get("items_last_run"), data.get("skipped_items_last_run")
        if not source.enabled:
            state = "off"
        elif not data:
            state = "never_ran"
        elif failures:
            state = "failing"
        elif skipped and skipped > (read or 0):  # more than half of what the source gave was skipped
            state = "warning"
        else:
            state = "ok"
        rows.append(
            SourceHealth(
                name=source.name,
                type=source.type,
                enabled=source.enabled,
                state=state,
                last_run=data.get("last_run"),
                last_success=data.get("last_success"),
                read=read,
                new=data.get("indexed_last_run"),
                duplicates=data.get("duplicates_last_run"),
                updated=data.get("updated_last_run"),
                run_kind=data.get("last_run_kind"),
                skipped=skipped,
                skip_reasons=[(str(r["reason"]), int(r["count"])) for r in data.get("skip_reasons", [])],
                failures=failures,
                error=data.get("last_error") if failures else None,
            )
        )
    return rows
