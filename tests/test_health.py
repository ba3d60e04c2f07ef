"""A source's health as `ecoute sources` and the Admin page show it: current error only, skips explained."""

from __future__ import annotations

from pathlib import Path

from ecoute.config import load_settings
from ecoute.health import skip_reasons, source_health

ROOT = Path(__file__).resolve().parent.parent


def test_skip_reasons_group_the_same_reason_on_different_items():
    problems = [
        "masto: https://m.example/api/v1/timelines/tag/x: status 113512345678901220: no text",
        "masto: https://m.example/api/v1/timelines/tag/x: status 113512345678901221: no text",
        "telecoms: https://f.example/feed.xml: item 4: no title and no text",
        "masto: https://m.example/api/v1/timelines/tag/x: status 113512345678901222: no text",
    ]
    assert skip_reasons(problems) == [("no text", 3), ("no title and no text", 1)]


def test_an_old_error_is_history_after_a_success_and_mostly_skipped_is_a_warning():
    settings = load_settings(ROOT / "config.yaml")
    sample = settings.sources[0]
    settings.sources = [sample, sample.model_copy(update={"name": "sample-2"})]
    first, second = "sample", "sample-2"
    recorded = {
        first: {
            "last_error": "HTTP 500",
            "consecutive_failures": 0,
            "items_last_run": 10,
            "last_success": "x",
        },
        second: {
            "items_last_run": 2,
            "skipped_items_last_run": 9,
            "skip_reasons": [{"reason": "no id", "count": 9}],
        },
    }
    by_name = {h.name: h for h in source_health(settings, recorded)}
    assert by_name[first].state == "ok" and by_name[first].error is None
    assert by_name[second].state == "warning" and by_name[second].skip_reasons == [("no id", 9)]
