"""The `ecoute` command as a user runs it, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from index.client import free_port
from tests.conftest import ROOT

ECOUTE = [sys.executable, "-m", "ecoute"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ECOUTE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def embedded_config(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["elasticsearch"] = {"url": None, "embedded_port": free_port(), "index_prefix": "cli"}
    data["state_dir"] = str(tmp_path / "state")
    data["sources"][0]["path"] = str(ROOT / data["sources"][0]["path"])
    data["crm"]["customers_csv"] = str(ROOT / data["crm"]["customers_csv"])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_es_up_status_down_manage_the_embedded_server(tmp_path: Path):
    config = str(embedded_config(tmp_path))
    try:
        up = run("es", "up", "--config", config, cwd=tmp_path)
        assert up.returncode == 0, up.stderr
        assert "answering on http://127.0.0.1:" in up.stdout
        assert "GLIBC" not in up.stdout + up.stderr
        status = run("es", "status", "--config", config, cwd=tmp_path)
        assert status.returncode == 0 and "running on" in status.stdout
        # the stand-in has none of the real-Elasticsearch-only features, and says so
        assert "percolator no, composite no, percentiles no, significant_terms no" in status.stdout
        assert "new indices (one per month): 1 shard, 0 replicas, no lifecycle policy" in status.stdout
    finally:
        down = run("es", "down", "--config", config, cwd=tmp_path)
    assert down.stdout.strip() == "stopped"
    after = run("es", "status", "--config", config, cwd=tmp_path)
    assert after.returncode == 1 and "not running" in after.stdout


def test_collect_sample_then_import_crm_from_the_command_line(tmp_path: Path):
    config = str(embedded_config(tmp_path))
    try:
        crm = run("crm", "import", "--config", config, cwd=tmp_path)
        assert crm.returncode == 0, crm.stderr
        assert "customers mirrored" in crm.stdout
        collected = run("collect", "sample", "--config", config, cwd=tmp_path)
        assert collected.returncode == 0, collected.stderr
        assert collected.stdout.startswith("sample: ") and " new, " in collected.stdout
        unknown = run("collect", "nowhere", "--config", config, cwd=tmp_path)
        assert unknown.returncode == 2
        known = ", ".join(s["name"] for s in yaml.safe_load(Path(config).read_text())["sources"])
        assert known.startswith("sample, lumio-news")
        assert unknown.stderr.strip() == f"ecoute: no source named 'nowhere' in config.yaml (known: {known})"
    finally:
        run("es", "down", "--config", config, cwd=tmp_path)


def test_nlp_classify_prints_labels_as_json(tmp_path: Path):
    result = run(
        "nlp",
        "classify",
        "Je résilie mon abonnement Lumio, c'est honteux",
        "--config",
        str(ROOT / "config.yaml"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    import json

    (line,) = [json.loads(row) for row in result.stdout.splitlines() if row.startswith("{")]
    assert line["language"] == "fr" and line["intent"]["label"] == "churn_risk"
    assert line["sentiment"]["label"] == "negative" and line["topics"] == ["Lumio"]


class Running:
    """An `ecoute` process whose output lines are collected as they come."""

    def __init__(self, *args: str, cwd: Path) -> None:
        import threading

        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [*ECOUTE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, needle: str, timeout: float = 120.0) -> str:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if needle in line:
                    return line
            if self.process.poll() is not None and not any(needle in line for line in self.lines):
                break
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} not seen; output:\n" + "\n".join(self.lines[-30:]))

    def stop(self) -> int:
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def test_run_collects_and_a_second_run_does_not_repeat_the_jobs(tmp_path: Path):
    from ecoute.config import load_settings
    from index.client import EmbeddedServer

    config = embedded_config(tmp_path)
    settings = load_settings(config)
    server = EmbeddedServer(settings.resolve(settings.state_dir), settings.elasticsearch.embedded_port)
    first = Running("run", "--no-dashboard", "--config", str(config), cwd=tmp_path)
    second = None
    try:
        first.wait_for("crm: 60 customers mirrored")
        collected = first.wait_for("sample: 342 fetched")
        assert "342 new" in collected
        second = Running("run", "--no-dashboard", "--config", str(config), cwd=tmp_path)
        second.wait_for("sample: skipped (another ecoute process holds this source)")
        assert second.stop() == 0
        assert server.answers()  # the second run did not start the stand-in, so leaves it up
    finally:
        if second:
            second.stop()
        assert first.stop() == 0
    first.wait_for("embedded Elasticsearch stopped")
    assert not server.answers()
    assert not any("Traceback" in line for line in first.lines)


def test_help_reads_the_command_table_without_importing_any_command():
    probe = (
        "import sys; import ecoute.cli; "
        "print(sorted(m for m in sys.modules if m.startswith(('elasticsearch', 'pydantic', 'ecoute.cli.'))))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['ecoute.cli.table']"


def test_every_command_names_an_action_taking_its_parameters():
    import importlib
    import inspect

    from ecoute.cli import COMMANDS
    from ecoute.cli.table import Group

    for entry in COMMANDS:
        for command in entry.commands if isinstance(entry, Group) else [entry]:
            module, _, function = command.action.rpartition(".")
            action = getattr(importlib.import_module(module), function)
            taken = list(inspect.signature(action).parameters)
            assert taken == [p.name for p in command.arguments], command.action


def test_every_command_prints_its_help_as_written():
    """Help texts are plain text: a path like /v1/customers[/<id>] is shown, not read as console markup."""
    from typer.testing import CliRunner

    from ecoute.cli import COMMANDS, app
    from ecoute.cli.table import Group

    runner = CliRunner()
    for entry in COMMANDS:
        inner = entry.commands if isinstance(entry, Group) else []
        paths = [[entry.name]] + [[entry.name, c.name] for c in inner]
        for path in paths:
            result = runner.invoke(app, [*path, "--help"])
            assert result.exit_code == 0, (path, result.output)
            assert "Usage: " in result.output and "--help" in result.output, path
    shown = runner.invoke(app, ["api", "serve", "--help"]).output
    assert "/v1/customers[/<id>]" in " ".join(shown.split())
