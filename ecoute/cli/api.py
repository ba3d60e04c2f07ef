"""`ecoute api serve`: the read-only HTTP API and /metrics."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path

from core.errors import EcouteError
from ecoute.cli.output import say
from ecoute.config import load_settings


def serve(config: Path, host: str | None, port: int | None) -> None:
    """Serve until Ctrl-C or SIGTERM; each unusable API key is one line on stderr first."""
    from api.server import ApiServer

    settings = load_settings(config)
    try:
        server = ApiServer(settings, host, port)
    except OSError as exc:
        raise EcouteError(
            f"cannot listen on {host or settings.api.host}:{port or settings.api.port} ({exc})"
        ) from exc
    for problem in server.problems:
        say(problem, err=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    say(f"API on {server.url} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()
