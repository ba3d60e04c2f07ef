"""A real local HTTP server for the review-source tests: each path answers from a handler or a queue."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "collectors"


@dataclass
class Reply:
    """One answer: a status, a body (bytes, str, or anything JSON) and headers."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/html; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), "application/json; charset=UTF-8"


@dataclass
class Seen:
    """A request the server received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


Handler = Callable[[Seen], Reply]


class ReplayServer:
    """Routes by exact path; a queue of replies answers in order and its last reply repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                seen = Seen(
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                with outer._lock:
                    outer.requests.append(seen)
                    handler = outer.routes.get(parts.path)
                reply = handler(seen) if handler else Reply(404, {"error": "no such path"})
                body, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def on(self, path: str, handler: Handler) -> None:
        """Answer `path` with whatever `handler` returns for each request."""
        self.routes[path] = handler

    def queue(self, path: str, *replies: Reply) -> None:
        """Answer `path` with these replies in order; the last one keeps answering."""
        pending = list(replies)

        def next_reply(_: Seen) -> Reply:
            with self._lock:
                return pending.pop(0) if len(pending) > 1 else pending[0]

        self.routes[path] = next_reply

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def replay_server() -> Iterator[ReplayServer]:
    """A ReplayServer serving in a thread for the duration of the block."""
    server = ReplayServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def fixture_json(source: str, name: str) -> Any:
    """A payload file from tests/fixtures/collectors/<source>/."""
    return json.loads((FIXTURES / source / name).read_text(encoding="utf-8"))


def fixture_text(source: str, name: str) -> str:
    return (FIXTURES / source / name).read_text(encoding="utf-8")
