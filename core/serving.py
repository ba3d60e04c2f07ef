"""Serving HTTP on uvicorn from a socket bound before it serves, with a deadline for each request's headers
(the webhook receiver and the read API)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


def protocol_with_header_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol plus a deadline for each request's headers (408, then close)."""

    class HeaderDeadlineProtocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._request_in_flight():
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and not self._request_in_flight():
                self._arm()  # the next request on this kept-alive connection gets its own deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _request_in_flight(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _headers_too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing() or self._request_in_flight():
                return
            body = b'{"error": "request headers not received in time"}'
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            self.transport.close()

    return HeaderDeadlineProtocol


class BoundServer:
    """An ASGI app on uvicorn, bound at construction (port 0 picks a free one) so the address is known
    before it serves; serve_forever() runs it, shutdown() (from another thread) stops it."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        backlog: int,
        header_timeout_seconds: float,
        max_connections: int,
        keep_alive_seconds: int,
        max_header_bytes: int | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=backlog)
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        options: dict[str, Any] = {}
        if max_header_bytes is not None:
            options["h11_max_incomplete_event_size"] = max_header_bytes
        config = uvicorn.Config(
            app,
            http=protocol_with_header_deadline(header_timeout_seconds),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            limit_concurrency=max_connections,
            timeout_keep_alive=keep_alive_seconds,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            timeout_graceful_shutdown=5,
            **options,
        )
        self._server = uvicorn.Server(config)
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving and wait until it has stopped; the socket stays open until server_close()."""
        self._server.should_exit = True
        self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()
