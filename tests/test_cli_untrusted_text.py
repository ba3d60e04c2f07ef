"""Outside text on the operator's terminal: a post, an author, a CRM value or an index's reason holding
terminal controls (clear screen, OSC 8 hyperlink, OSC 52 clipboard write, a carriage return that writes
over the line, a bidi override) is printed as visible escapes by every human-readable command, and exact
in `--json`. Each command runs in a subprocess against the stand-in, as the operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from elasticsearch import Elasticsearch

from core.documents import QualityIssue
from ecoute.config import load_settings
from ecoute.spool import DeadLetters
from index.client import EmbeddedServer, IndexNames
from index.customers import CUSTOMERS, upsert_customers
from index.mentions import index_mentions, refresh_mentions
from tests.conftest import write_config
from tests.factories import make_customer, make_mention
from tests.terminal import on_a_terminal
from tests.test_cli import run

HOSTILE = (
    "Lumio \x1b[2J\x1b]8;;http://evil/\x07clique ici\x1b]8;;\x07 "
    "\x1b]52;c;cm0=\x07copié\rfaux début \u202efdp.exe\x9b31m fin"
)
HANDLE = "evil\x1b[8m@mastodon.example"
# What reaches a terminal and acts there; U+202E reorders the rest of the line.
CONTROLS = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def plant(es: Elasticsearch, names: IndexNames, config: Path) -> str:
    """The hostile text in a post and its author, a dead letter's reason and a CRM record's problems."""
    mention = make_mention("hostile", text=HOSTILE, author={"handle": HANDLE, "display_name": HOSTILE})
    index_mentions(es, names, [mention])
    refresh_mentions(es, names)
    settings = load_settings(config)
    DeadLetters(settings.resolve(settings.state_dir)).add(
        [(mention.id, "test", f"mapper_parsing_exception: {HOSTILE}", mention.model_dump(mode="json"))]
    )
    problem = QualityIssue(kind="invalid_email", detail=f"not an address: {HOSTILE}", value=HOSTILE)
    upsert_customers(es, names, [make_customer("C-HOSTILE", full_name=HOSTILE, quality=[problem])])
    es.indices.refresh(index=CUSTOMERS.alias(names))
    return mention.id


def test_outside_text_reaches_the_terminal_as_visible_escapes_never_as_controls(
    es: Elasticsearch, names: IndexNames, settings_file: Path
):
    plant(es, names, settings_file)
    cwd = settings_file.parent
    query = on_a_terminal(
        "alerts", "test-query", "lumio", "--days", "2", "--config", str(settings_file),
        cwd=cwd, stdout_too=True,
    )  # fmt: skip
    listed = run("dlq", "list", "--config", str(settings_file), cwd=cwd)
    quality = run("crm", "quality", "--config", str(settings_file), cwd=cwd)
    unknown = run("collect", HOSTILE, "--config", str(settings_file), cwd=cwd)  # an error naming it

    for ran in (query, listed, quality):
        assert ran.returncode == 0, ran.stderr
    assert unknown.returncode == 2
    for ran in (query, listed, quality, unknown):
        shown = ran.stdout + ran.stderr
        assert not [c for c in CONTROLS if c in shown], shown
        # still readable: the words as written, each control as its escape
        assert "clique ici" in shown and "faux début" in shown, shown
        assert "\\x1b]8;;http://evil/\\x07" in shown and "copié\\rfaux" in shown, shown
        assert "\\u202efdp.exe\\x9b31m fin" in shown, shown
    assert "@evil\\x1b[8m@mastodon.example: Lumio \\x1b[2J" in query.stdout
    assert "1 mentions in the dead-letter file" in listed.stdout
    assert f"C-HOSTILE {HOSTILE[:6]}\\x1b[2J" in quality.stdout


def test_a_problem_logged_while_collecting_shows_its_outside_text_as_escapes(
    tmp_path: Path, es_server: EmbeddedServer, names: IndexNames
):
    """The engine's log line names a file as its sender named it."""
    posts = tmp_path / "posts \x1b]8;;http:evil\x07\u202egnp.jsonl"
    posts.write_text("not json\n", encoding="utf-8")
    source = {"name": "dropped", "type": "file", "path": str(posts), "format": "jsonl"}
    (tmp_path / "hostile").mkdir()
    config = write_config(tmp_path / "hostile", es_server.url, names.prefix, sources=[source])

    ran = run("collect", "dropped", "--config", str(config), cwd=config.parent)

    assert ran.returncode == 0, ran.stderr
    assert not [c for c in CONTROLS if c in ran.stdout + ran.stderr], ran.stdout + ran.stderr
    assert "1 items skipped" in ran.stdout
    assert "WARNING dropped: posts \\x1b]8;;http:evil\\x07\\u202egnp.jsonl line 1: not JSON" in ran.stderr


def test_with_json_the_outside_text_is_exact_and_the_controls_are_json_escapes(
    es: Elasticsearch, names: IndexNames, settings_file: Path
):
    mention_id = plant(es, names, settings_file)
    ran = run("dlq", "list", "--json", "--config", str(settings_file), cwd=settings_file.parent)
    assert ran.returncode == 0, ran.stderr
    (letter,) = json.loads(ran.stdout)
    assert (letter["id"], letter["reason"]) == (mention_id, f"mapper_parsing_exception: {HOSTILE}")
    assert not [c for c in CONTROLS if c in ran.stdout]
    assert "\\u001b]52;c;" in ran.stdout and "\\u202e" in ran.stdout and "copié" in ran.stdout


def test_a_usage_error_shows_the_arguments_it_names_as_escapes(tmp_path: Path):
    """A script passing outside text as arguments (a handle, a file name) may get a usage error that
    repeats them: on the terminal it names them as escapes too (before: click escaped C0 controls only,
    and a bidi override or a C1 control reached the terminal)."""
    hostile = "extra \x1b]52;c;cm0=\x07\u202efdp.exe\x9b31m fin"

    ran = on_a_terminal("dlq", "list", hostile, cwd=tmp_path)
    screen = ran.stderr.replace("\r\n", "\n")  # the terminal's own line ends

    assert ran.returncode == 2
    assert not [c for c in CONTROLS if c in screen], screen
    assert "Error: Got unexpected extra argument" in screen
    assert "\\u202efdp.exe\\x9b31m fin" in screen
