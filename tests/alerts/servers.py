"""Real local receivers for alert channels: an HTTP webhook receiver and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, ReplayGuard, SignatureError, verify

SECRET = "test-webhook-secret"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    signature_ok: bool | None

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Accepts POSTs, checks the HMAC signature with SECRET, answers `status` (changeable while running)."""

    status: int = 200
    secret: str = SECRET
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)


@contextmanager
def webhook_receiver(
    status: int = 200, on_post: Callable[[Received], None] | None = None
) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(status=status)
    guard = ReplayGuard()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ok: bool | None = None
            if self.headers.get(SIGNATURE_HEADER):
                timestamp, signature = self.headers.get(TIMESTAMP_HEADER), self.headers.get(SIGNATURE_HEADER)
                try:
                    # A request answered with an error was not processed: only accepted ones count as seen.
                    if receiver.status < 300:
                        guard.check(receiver.secret, timestamp, body, signature)
                    else:
                        verify(receiver.secret, timestamp, body, signature)
                    ok = True
                except SignatureError as exc:
                    receiver.refused.append(str(exc))
                    ok = False
            status = receiver.status if ok is not False else 401
            if status < 300:
                item = Received(self.path, dict(self.headers), body, time.perf_counter(), ok)
                if on_post:
                    on_post(item)
                with receiver.arrived:
                    receiver.received.append(item)
                    receiver.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


class _Collect:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.box.messages.append(
            message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        )
        return "250 OK"


@contextmanager
def smtp_server(port: int) -> Iterator[Mailbox]:
    """A real SMTP server on 127.0.0.1:port that keeps every message it accepts."""
    box = Mailbox()
    controller = Controller(_Collect(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
