"""A real local HTTP server that replays scripted answers per path and records every request."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "collectors"


@dataclass
class Reply:
    """One scripted answer; a dict or list body is sent as JSON."""

    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    chunked: bool = False
    """Send the body in chunks without Content-Length (a server that does not say how big it is)."""

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict | list):
            return json.dumps(self.body).encode("utf-8"), self.content_type or "application/json"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/plain; charset=utf-8"
        return self.body, self.content_type or "application/octet-stream"


@dataclass
class SeenRequest:
    """A request the server received, as the collector sent it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Handler = Callable[[SeenRequest], Reply]


class ScriptedServer:
    """Answers each path from its queue of replies (the last one repeats) or from a handler function.

    A path with nothing scripted answers 404, so a collector asking for the wrong URL fails its test.
    """

    def __init__(self) -> None:
        self.requests: list[SeenRequest] = []
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *replies: Reply) -> None:
        """Queue answers for `path` (matched without its query string)."""
        with self._lock:
            self._queues[path].extend(replies)

    def route(self, path: str, handler: Handler) -> None:
        """Answer `path` by calling `handler` with each request (for pagination by query args)."""
        self._handlers[path] = handler

    def seen(self, path: str | None = None) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _answer(self, request: SeenRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self._queues.get(request.path)
            if queue:
                return queue.popleft() if len(queue) > 1 else queue[0]
        handler = self._handlers.get(request.path)
        if handler is not None:
            return handler(request)
        return Reply(404, {"error": f"nothing scripted for {request.path}"})

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = SeenRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    at=time.monotonic(),
                )
                reply = server._answer(seen)
                body, content_type = reply.encoded()
                if reply.status == 304:
                    body = b""
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command == "HEAD" or reply.status == 304:
                    return
                if not reply.chunked:
                    self.wfile.write(body)
                    return
                for start in range(0, len(body), 512):
                    chunk = body[start : start + 512]
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return _Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    """A fresh scripted HTTP server on 127.0.0.1 and a free port, for one test."""
    server = ScriptedServer()
    server.start()
    yield server
    server.stop()


def fixture_text(source: str, name: str) -> str:
    """A payload file written for these tests, shaped like the platform's documented answers."""
    return (FIXTURES / source / name).read_text(encoding="utf-8")


def fixture_json(source: str, name: str) -> Any:
    return json.loads(fixture_text(source, name))
