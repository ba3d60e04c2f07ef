"""`--json` as a script uses it: one JSON document on stdout, nothing else there; progress bars only on a
terminal. Each command runs in a subprocess against the stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ecoute.config import load_settings
from ecoute.spool import DeadLetters
from index.client import EmbeddedServer, IndexNames
from tests.conftest import write_config
from tests.crm.test_espocrm import API_KEY as ESPO_KEY
from tests.crm.test_espocrm import EspoReplay, espo, espo_config  # noqa: F401 (espo: a fixture)
from tests.factories import make_mention
from tests.terminal import on_a_terminal
from tests.test_cli import run

BAR = "━"  # what rich draws a progress bar with


def run_json(*args: str, config: Path) -> tuple[subprocess.CompletedProcess, Any]:
    """The command with --json, and its stdout read as one JSON document."""
    ran = run(*args, "--json", "--config", str(config), cwd=config.parent)
    return ran, json.loads(ran.stdout)


def test_collect_json_is_the_run_report_with_iso_dates_and_numbers(settings_file: Path):
    ran, report = run_json("collect", "sample", "--since", "2000-01-01", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    assert report["source"] == "sample" and report["since"] == "2000-01-01T00:00:00+00:00"
    assert (report["fetched"], report["new"], report["already_indexed"]) == (342, 342, 0)
    assert report["error"] is None and report["skipped"] is None and report["failed"] == []
    assert report["items_skipped"] == len(report["problems"])
    assert isinstance(report["seconds"], float)
    assert BAR not in ran.stderr


def test_crm_import_json_counts_each_source_and_lists_its_rejected_rows(settings_file: Path):
    ran, imported = run_json("crm", "import", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    (source,) = imported["sources"]
    assert source["source"] == "crm-csv" and source["rows_read"] == 60
    assert imported["customers"] == source["customers"] == 60
    assert imported["rows_rejected"] == source["rows_rejected"] == len(source["rejected"])
    assert imported["failed"] == []


def test_alerts_json_rules_deliveries_spikes_and_digest(settings_file: Path):
    ran, rules = run_json("alerts", "rules", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    by_name = {rule["name"]: rule for rule in rules}
    assert by_name["negative-by-customer"]["origin"] == "config"  # config.yaml replaces the built-in
    assert by_name["purchase-intent"]["origin"] == "builtin"
    outage = by_name["outage-talk"]
    assert (outage["kind"], outage["enabled"]) == ("mention", True)
    assert outage["conditions"]["recipients"] == ["community@lumio.example"]
    assert outage["conditions"]["query"].startswith("(panne OR coupure")

    ran, delivered = run_json("alerts", "deliver", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    assert delivered == {"delivered": 0, "failed": []}
    ran, spikes = run_json("alerts", "spikes", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    assert spikes == {"raised": 0, "alerts": []}
    ran, digest = run_json("alerts", "digest", "--day", "2026-03-01", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    assert digest == {"day": "2026-03-01", "sent": 0, "failed": []}


def test_dlq_json_lists_the_refused_mentions_then_retry_stores_them(settings_file: Path):
    settings = load_settings(settings_file)
    letters = DeadLetters(settings.resolve(settings.state_dir))
    mention = make_mention("refused-once")
    reason = "mapper_parsing_exception: failed to parse"
    letters.add([(mention.id, "test", reason, mention.model_dump(mode="json"))])

    ran, listed = run_json("dlq", "list", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    (letter,) = listed
    assert (letter["id"], letter["source"], letter["attempts"]) == (mention.id, "test", 1)
    assert letter["reason"] == reason
    assert datetime.fromisoformat(letter["last_failed_at"]).tzinfo is not None
    assert "doc" not in letter

    ran, retried = run_json("dlq", "retry", config=settings_file)
    assert ran.returncode == 0, ran.stderr
    assert retried == {"stored": 1, "still_refused": 0}
    assert run_json("dlq", "list", config=settings_file)[1] == []


def test_a_lone_surrogate_from_a_crm_is_replaced_and_the_import_and_its_json_go_on(
    tmp_path: Path,
    es_server: EmbeddedServer,
    names: IndexNames,
    espo: tuple[str, EspoReplay],  # noqa: F811 (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
):
    """EspoCRM answers JSON, whose `\\ud800` escape is a lone surrogate once read: it cannot be UTF-8, so
    the index refused the whole import and the JSON could not be printed (a traceback, exit 1)."""
    url, replay = espo
    twice = dict(replay.data["Contact"][0], id="julie\ud800")
    replay.data["Contact"] += [twice, dict(twice)]
    monkeypatch.setenv("ESPOCRM_API_KEY", ESPO_KEY)
    source = espo_config(url).model_dump(mode="json")
    config = write_config(tmp_path, es_server.url, names.prefix, crm={"sources": [source]})

    ran = run("crm", "import", "--json", "--config", str(config), cwd=config.parent)

    assert ran.returncode == 0, ran.stderr
    imported = json.loads(ran.stdout)
    (espo_source,) = imported["sources"]
    rejected = {"where": "Contact julie\ufffd", "reason": "customer_id julie\ufffd appears twice"}
    assert espo_source["rejected"] == [rejected]
    assert espo_source["customers"] == len(replay.data["Contact"]) - 1  # the first julie and all the others


def test_a_lone_surrogate_left_in_a_report_is_escaped_never_a_traceback():
    """Whatever a command's report still holds, stdout gets one valid JSON document, the text as it was."""
    script = "from ecoute.cli.output import print_json; print_json({'reason': 'réponse \\ud800', 'n': 1})"
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"reason": "réponse \ud800", "n": 1}
    assert "réponse \\ud800" in ran.stdout  # accents as written, the surrogate as JSON's escape


def test_with_json_an_error_is_one_json_object_too_and_keeps_its_exit_code(settings_file: Path):
    ran, error = run_json("collect", "nowhere", config=settings_file)
    assert ran.returncode == 2
    assert error["error"].startswith("no source named 'nowhere' in config.yaml")
    assert ran.stderr.strip() == f"ecoute: {error['error']}"
    ran, usage = run_json("collect", config=settings_file)  # the source is missing
    assert ran.returncode == 2 and usage["error"].lower() == "missing argument 'source'."


def test_progress_bars_are_drawn_on_a_terminal_and_never_in_a_pipe(settings_file: Path):
    piped = run("crm", "import", "--config", str(settings_file), cwd=settings_file.parent)
    assert piped.returncode == 0, piped.stderr
    assert BAR not in piped.stderr and "\x1b[" not in piped.stderr and "rows read 60" not in piped.stderr

    terminal = on_a_terminal("crm", "import", "--config", str(settings_file), cwd=settings_file.parent)
    assert terminal.returncode == 0, terminal.stderr
    assert "crm-csv: rows read" in terminal.stderr and BAR in terminal.stderr
    assert terminal.stdout.splitlines()[-1] == "crm: 60 customers mirrored, 0 rows rejected"
    assert BAR not in terminal.stdout
