"""`ecoute webhook serve`: receive the posts other systems push, and spool them for collection."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from core.errors import EcouteError
from ecoute.cli.output import say
from ecoute.config import load_settings


def serve(
    config: Path,
    host: str,
    port: int,
    source: list[str] | None,
    max_connections: int | None,
    header_timeout: float | None,
    body_timeout: float | None,
) -> None:
    """Serve the enabled webhook sources (or the named ones) until Ctrl-C or SIGTERM."""
    from pydantic import ValidationError

    from collectors.webhook import WebhookConfig, WebhookReceiver, describe_invalid
    from collectors.webhook_server import ServerLimits, make_server

    given = {
        "max_connections": max_connections,
        "header_timeout_seconds": header_timeout,
        "body_timeout_seconds": body_timeout,
    }
    try:
        limits = ServerLimits(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise EcouteError(f"webhook serve: {describe_invalid(exc)}") from None

    settings = load_settings(config)
    hooks = [s for s in settings.sources if isinstance(s, WebhookConfig) and s.enabled]
    if source:
        unknown = sorted(set(source) - {s.name for s in hooks})
        if unknown:
            known = ", ".join(s.name for s in hooks) or "none"
            raise EcouteError(f"no enabled webhook source named {unknown[0]!r} (known: {known})")
        hooks = [s for s in hooks if s.name in source]
    if not hooks:
        raise EcouteError("no enabled source of type webhook in config.yaml")
    receiver = WebhookReceiver(hooks, settings.resolve(settings.state_dir))
    try:
        server = make_server(receiver, host, port, limits)
    except OSError as exc:
        raise EcouteError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bound = server.server_address[1]
    for hook in hooks:
        say(f"webhook {hook.name}: POST http://{host}:{bound}/webhooks/{hook.name}")
    say("receiving (Ctrl-C stops)")
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
