"""`ecoute alerts test-query` as a user runs it: the reading of a query, or the mistake and where it is."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

ECOUTE = [sys.executable, "-m", "ecoute"]


def check_query(query: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ECOUTE, "alerts", "test-query", query, "--config", str(ROOT / "config.yaml")],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def test_a_good_query_prints_its_reading_and_its_dsl():
    result = check_query('"Service Client" NEAR/2 injoignable OR rembours*')
    assert result.returncode == 0, result.stderr
    reading, dsl = result.stdout.splitlines()
    assert reading == 'reads as: "service client" NEAR/2 injoignable OR rembours*'
    clauses = json.loads(dsl.removeprefix("dsl: "))["bool"]["should"]
    assert len(clauses) == 2


def test_a_bad_query_points_at_the_mistake():
    result = check_query("lumio AND (panne OR")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "lumio AND (panne OR",
        "                   ^",
        "ecoute: query: the query ends where a word, a quoted phrase or ( after OR is expected"
        " at character 20",
    ]
