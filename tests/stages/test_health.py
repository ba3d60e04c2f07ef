"""The health stage alone, against the stand-in: what a source's record says after each run."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from ecoute.stages.health import HealthRecorder
from ecoute.stages.run import RunReport
from index.client import IndexNames
from index.state import get_state


def recorded(es: Elasticsearch, names: IndexNames, source: str) -> dict:
    state = get_state(es, names, f"health:{source}")
    assert state is not None
    return dict(state.data)


def test_failed_runs_are_counted_in_a_row_and_a_success_starts_again_from_zero(
    es: Elasticsearch, names: IndexNames
):
    health = HealthRecorder(es, names)
    health.record(RunReport(source="masto", error="HTTP 500"))
    health.record(RunReport(source="masto", fetched=3, failed=["m1: mapping refused"]))
    after_failures = recorded(es, names, "masto")
    assert after_failures["consecutive_failures"] == 2
    assert after_failures["last_error"] == "1 mentions not indexed: m1: mapping refused"

    health.record(RunReport(source="masto", fetched=5, indexed=5))
    after_success = recorded(es, names, "masto")
    assert after_success["consecutive_failures"] == 0 and after_success["indexed_last_run"] == 5
    assert after_success["last_success"] >= after_failures["last_error_at"]


def test_a_refresh_run_and_its_skipped_items_are_recorded_as_such(es: Elasticsearch, names: IndexNames):
    problems = [
        "feed: https://f.example/feed.xml: item 3: no text",
        "feed: https://f.example/feed.xml: item 4: no text",
    ]
    HealthRecorder(es, names).record(RunReport(source="feed", refresh=True, fetched=4, problems=problems))
    data = recorded(es, names, "feed")
    assert data["last_run_kind"] == "refresh" and data["skipped_items_last_run"] == 2
    assert data["skip_reasons"] == [{"reason": "no text", "count": 2}]
