"""`ecoute api serve`: the API on uvicorn, bound before it serves, TLS or loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
from typing import Any

from api.app import ApiContext, load_keys, make_app
from core.errors import ConfigError
from core.serving import BoundServer
from ecoute.config import Settings
from index.client import IndexNames, open_index

HEADER_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiServer:
    """A bound API server; serve_forever() runs it, shutdown() (from another thread) stops it."""

    def __init__(self, settings: Settings, host: str | None = None, port: int | None = None) -> None:
        config = settings.api
        host = host or config.host
        port = config.port if port is None else port
        tls = config.tls_certfile is not None
        if not tls and not _loopback(host) and not config.allow_plain_http:
            raise ConfigError(
                f"api: {host} is not a loopback address and no TLS is configured: set api.tls_certfile and "
                "api.tls_keyfile, or api.allow_plain_http: true behind a TLS proxy"
            )
        keys, self.problems = load_keys(config)
        if not keys:
            raise ConfigError(
                "api: no usable key; add api.keys in config.yaml and set each key_env variable "
                + "; ".join(self.problems)
            )
        # The configured cluster, or the embedded stand-in `ecoute run` keeps (not started from here).
        es = open_index(settings, start_embedded=False, check=False, request_timeout=config.request_timeout)
        context = ApiContext(es, IndexNames.of(settings.elasticsearch, settings.index), settings, keys)
        self.scheme = "https" if tls else "http"
        self._bound = BoundServer(
            make_app(context),
            host,
            port,
            backlog=512,
            header_timeout_seconds=HEADER_TIMEOUT_SECONDS,
            max_connections=config.max_connections,
            keep_alive_seconds=KEEP_ALIVE_SECONDS,
            ssl_certfile=str(settings.resolve(config.tls_certfile)) if tls else None,
            ssl_keyfile=str(settings.resolve(config.tls_keyfile)) if config.tls_keyfile else None,
        )
        self.server_address: tuple[Any, ...] = self._bound.server_address

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{'[' + host + ']' if ':' in host else host}:{port}"

    def serve_forever(self) -> None:
        self._bound.serve_forever()

    def shutdown(self) -> None:
        self._bound.shutdown()
        self._bound.server_close()
