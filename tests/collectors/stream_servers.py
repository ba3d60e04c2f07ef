"""Real local servers for the streaming collectors' tests: HTTP (+ server-sent events) and a Jetstream.

Each runs in threads of the test process, on a free loopback port, and records what it was asked
so tests can assert on the requests (parameters, headers, overlapping calls).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "collectors"


def fixture_json(*parts: str) -> Any:
    return json.loads((FIXTURES.joinpath(*parts)).read_text(encoding="utf-8"))


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream: Iterable[bytes] | None = None  # written chunk by chunk, flushed (server-sent events)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


Handler = Callable[[Seen], Reply]


class LocalHttpServer:
    """A threaded HTTP server answering each path with a handler; records requests and overlaps."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def hits(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        seen = Seen(
            path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        with self._lock:
            self.requests.append(seen)
            self.in_flight[seen.path] = self.in_flight.get(seen.path, 0) + 1
            self.most_in_flight[seen.path] = max(
                self.most_in_flight.get(seen.path, 0), self.in_flight[seen.path]
            )
        try:
            handler = self.routes.get(seen.path)
            reply = handler(seen) if handler else Reply(404, {"error": "Record not found"})
            if reply.delay:
                time.sleep(reply.delay)
            request.send_response(reply.status)
            for name, value in reply.headers.items():
                request.send_header(name, value)
            if reply.stream is not None:
                request.send_header("Content-Type", reply.headers.get("Content-Type", "text/event-stream"))
                request.send_header("Connection", "close")
                request.end_headers()
                for chunk in reply.stream:
                    request.wfile.write(chunk)
                    request.wfile.flush()
                request.close_connection = True
                return
            body = reply.payload()
            if "Content-Type" not in reply.headers:
                request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a stream it closed)
        finally:
            with self._lock:
                self.in_flight[seen.path] -= 1

    def __enter__(self) -> LocalHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def sse(events: Iterable[tuple[str | None, str]], hold: threading.Event | None = None) -> Iterator[bytes]:
    """Server-sent event bytes: (name, data) pairs, None as name for a heartbeat comment.

    With `hold`, the stream stays open (heartbeats every 0.2 s) until the event is set.
    """
    for name, data in events:
        if name is None:
            yield b":thump\n\n"
        else:
            yield f"event: {name}\ndata: {data}\n\n".encode()
    while hold is not None and not hold.is_set():
        time.sleep(0.2)
        yield b":thump\n\n"


class JetstreamServer:
    """A websocket server shaped like Jetstream's /subscribe: replays its events from `cursor`.

    Events with time_us >= cursor are sent (Jetstream replays from a cursor); `drop_after` closes
    the connection after that many events (a network drop); otherwise it stays open, idle, until
    `stop()`; `pause` is slept between events.
    """

    def __init__(
        self, events: list[dict[str, Any]], drop_after: int | None = None, pause: float = 0.0
    ) -> None:
        self.events = events
        self.drop_after = drop_after
        self.pause = pause
        self.connections: list[dict[str, str]] = []
        self.sent = 0
        self.stopping = threading.Event()
        self.server: Server = serve(self._handle, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        query = {k: v[-1] for k, v in parse_qs(urlsplit(connection.request.path).query).items()}
        self.connections.append(query)
        start = int(query.get("cursor", "0") or 0)
        sent_here, time_us = 0, 0
        try:
            for event in self.events:
                # A raw string (a malformed event) shares the time of the event before it.
                time_us = int(event.get("time_us", 0)) if isinstance(event, dict) else time_us
                if time_us < start:
                    continue
                if self.drop_after is not None and sent_here >= self.drop_after:
                    connection.close()
                    return
                if self.pause:
                    time.sleep(self.pause)
                connection.send(event if isinstance(event, str) else json.dumps(event))
                sent_here += 1
                self.sent += 1
            while not self.stopping.wait(0.1):
                pass
        except ConnectionClosed:
            return

    def __enter__(self) -> JetstreamServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()


def jetstream_post(time_us: int, did: str, rkey: str, text: str, **record: Any) -> dict[str, Any]:
    """A Jetstream commit event creating a post, as https://github.com/bluesky-social/jetstream documents."""
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"3l{rkey[:8]}",
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": record.pop("createdAt", "2026-11-30T09:15:02.113Z"),
                "langs": record.pop("langs", ["fr"]),
                "text": text,
                **record,
            },
            "cid": f"bafyreig{rkey}",
        },
    }


def jetstream_delete(time_us: int, did: str, rkey: str) -> dict[str, Any]:
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {"rev": "3lzz", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": rkey},
    }
