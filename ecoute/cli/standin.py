"""`ecoute es up|down|status`: the embedded Elasticsearch stand-in, by hand."""

from __future__ import annotations

from pathlib import Path

import typer

from core.errors import EcouteError
from ecoute.cli.output import say
from ecoute.config import load_settings
from index.client import embedded_server, open_index, ping


def up(config: Path) -> None:
    settings = load_settings(config)
    if settings.elasticsearch.url:
        raise EcouteError(f"elasticsearch.url is set ({settings.elasticsearch.url}): nothing to start")
    say(f"Elasticsearch stand-in answering on {embedded_server(settings).start()}")


def down(config: Path) -> None:
    stopped = embedded_server(load_settings(config)).stop()
    say("stopped" if stopped else "not running")


def status(config: Path) -> None:
    """Where the index answers and what it can do; exit 1 when the stand-in is not running."""
    from index.capabilities import detect_capabilities

    settings = load_settings(config)
    if settings.elasticsearch.url:
        es = open_index(settings, start_embedded=False)
        say(f"{settings.elasticsearch.url}: Elasticsearch {ping(es)}")
    else:
        server = embedded_server(settings)
        if not server.answers():
            say(f"not running ({server.url})")
            raise typer.Exit(1)
        say(f"running on {server.url} (pid {server.pid() or 'unknown'}, data {server.data_dir})")
        es = open_index(settings, start_embedded=False)
    say(detect_capabilities(es, settings.elasticsearch.index_prefix).describe())
    from ecoute.cli.indices import echo_layout
    from index.client import IndexNames

    echo_layout(es, IndexNames.of(settings.elasticsearch, settings.index), settings.index)
