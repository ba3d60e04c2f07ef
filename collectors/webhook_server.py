"""The webhook receiver served for the internet: Starlette on uvicorn, every resource bounded.

A request's headers must arrive within `header_timeout_seconds` (uvicorn has no such deadline of its own)
and are at most `max_header_bytes`; its body must arrive within `body_timeout_seconds`; the body is read
as it streams and refused (413) the moment it passes the source's `max_body_bytes`; bodies being read
hold at most `max_buffered_bytes` in all (503 beyond); at most `max_connections` connections are
served (uvicorn answers 503 beyond). An unsigned request is refused (401) before its body is read. Each
rejection is answered (4xx/503, JSON) and closes the connection, whose unread body cannot be trusted.
The signature, parsing and spooling are WebhookReceiver.receive's, run in a bounded thread pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collectors.webhook import MEGABYTE, WebhookReceiver
from core.serving import BoundServer
from core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

log = logging.getLogger("ecoute.webhook")
DROPPABLE_AFTER_SECONDS = 0.5  # a body read for less long is never dropped to make room for another
DRAIN_BYTES = 64 * 1024  # a refused request's body up to this size is read and discarded before answering
DRAIN_SECONDS = 5.0


class ServerLimits(BaseModel):
    """What one webhook server lets a client hold: time, bytes and connections."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header_timeout_seconds: float = Field(default=10, gt=0, le=300)
    body_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=MEGABYTE)
    max_connections: int = Field(default=1000, ge=2, le=100_000)
    max_buffered_bytes: int = Field(
        default=32 * MEGABYTE,
        ge=1024,
        description="bodies being read, all requests together (raised to the largest max_body_bytes)",
    )
    worker_threads: int = Field(default=16, ge=1, le=256, description="requests checked and spooled at once")


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


class _BodyRead:
    """One body being read: when it started, what it holds, and its deadline (moved up to drop it)."""

    def __init__(self, deadline: asyncio.Timeout) -> None:
        self.started = asyncio.get_running_loop().time()
        self.deadline = deadline
        self.held = 0
        self.received = 0
        self.dropped = False


class _BodyBudget:
    """Bytes of request bodies held in memory by all requests; used from the event loop only.

    When full, the slowest body that has been reading for a while is dropped (503) to make room: a
    trickling client cannot keep a fast sender out. With none to drop, the newcomer gets the 503.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.reading: set[_BodyRead] = set()

    def take(self, reader: _BodyRead, size: int) -> None:
        while self.held + size > self.limit:
            victim = self._slowest(besides=reader)
            if victim is None:
                raise _Refused(503, "too many request bodies in flight: try again shortly")
            self._drop(victim)
        self.held += size
        reader.held += size

    def done_reading(self, reader: _BodyRead) -> None:
        """The body is whole: it can no longer be dropped, its bytes stay counted until give_back."""
        self.reading.discard(reader)

    def give_back(self, reader: _BodyRead) -> None:
        self.reading.discard(reader)
        self.held -= reader.held
        reader.held = 0

    def _slowest(self, besides: _BodyRead) -> _BodyRead | None:
        now = asyncio.get_running_loop().time()
        candidates = [
            r
            for r in self.reading
            if r is not besides and not r.dropped and r.held and now - r.started >= DROPPABLE_AFTER_SECONDS
        ]
        return min(candidates, key=lambda r: r.held / (now - r.started), default=None)

    def _drop(self, victim: _BodyRead) -> None:
        victim.dropped = True
        self.give_back(victim)  # its bytes go as soon as its reader wakes up, on the next loop turn
        victim.deadline.reschedule(asyncio.get_running_loop().time())


def _refusal(status: int, error: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A rejection that also closes the connection: any unread body must not be read as the next request."""
    return JSONResponse(
        {"error": error}, status_code=status, headers={"Connection": "close", **(headers or {})}
    )


def _unread(request: Request, received: int = 0) -> int | None:
    """Bytes of the body still to come, when its Content-Length says so (None: unknown framing, or a
    client still waiting for 100 Continue, which has sent nothing the closing could reset)."""
    declared = request.headers.get("content-length", "")
    if "transfer-encoding" in request.headers or not declared.isdigit():
        return None
    if received == 0 and request.headers.get("expect", "").lower() == "100-continue":
        return None
    return max(0, int(declared) - received)


async def _refuse(
    request: Request, status: int, error: str, unread: int | None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A rejection; a small unread rest of the body is read and thrown away first.

    Closing a connection whose body the kernel still holds resets it, and the client may lose the
    answer; so a rest of up to DRAIN_BYTES is discarded (never kept) within DRAIN_SECONDS and the
    connection stays open. A larger or slower rest closes the connection.
    """
    if unread is not None and unread <= DRAIN_BYTES:
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while unread:
                    message = await request.receive()
                    if message["type"] != "http.request":
                        return _refusal(status, error, headers)
                    unread -= len(message.get("body", b""))
                    if not message.get("more_body", False):
                        break
            return JSONResponse({"error": error}, status_code=status, headers=headers)
        except TimeoutError:
            pass
    return _refusal(status, error, headers)


def make_app(receiver: WebhookReceiver, limits: ServerLimits) -> Starlette:
    """The ASGI application: POST /webhooks/<source>, GET /healthz."""
    largest_body = max((s.max_body_bytes for s in receiver.sources.values()), default=0)
    budget = _BodyBudget(max(limits.max_buffered_bytes, largest_body))
    threads = anyio.CapacityLimiter(limits.worker_threads)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "sources": sorted(receiver.sources)})

    async def webhook(request: Request) -> JSONResponse:
        path = request.url.path
        limit = receiver.limit_for(path)
        if limit is None:
            return await _refuse(
                request, 404, f"no webhook source at {path}; use /webhooks/<source name>", _unread(request)
            )
        if "transfer-encoding" in request.headers:  # with Content-Length too, a proxy may frame it otherwise
            return _refusal(400, "Transfer-Encoding is not accepted: send the body with a Content-Length")
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit():
            return _refusal(411, "Content-Length required")
        if int(declared) > limit:
            return await _refuse(
                request, 413, f"body of {declared} bytes is over the {limit} byte limit", _unread(request)
            )
        if not request.headers.get(TIMESTAMP_HEADER) or not request.headers.get(SIGNATURE_HEADER):
            return await _refuse(
                request, 401, "unsigned request: timestamp or signature header missing", _unread(request)
            )
        body = bytearray()
        reader: _BodyRead | None = None
        try:
            try:
                async with asyncio.timeout(limits.body_timeout_seconds) as deadline:
                    reader = _BodyRead(deadline)
                    budget.reading.add(reader)
                    async for chunk in request.stream():
                        if len(body) + len(chunk) > limit:
                            raise _Refused(413, f"body over the {limit} byte limit")
                        reader.received += len(chunk)
                        budget.take(reader, len(chunk))
                        body += chunk
                budget.done_reading(reader)
            except TimeoutError:
                if reader is not None and reader.dropped:
                    raise _Refused(503, "body too slow while the server is busy: send it faster") from None
                raise _Refused(
                    408, f"body not received within {limits.body_timeout_seconds:g} seconds"
                ) from None
            except ClientDisconnect:
                return _refusal(400, "the client went away before its body arrived")
            whole = bytes(body)
            body.clear()  # one copy in memory, not two
            status, answer = await anyio.to_thread.run_sync(
                receiver.receive, path, request.headers, whole, limiter=threads
            )
        except _Refused as refused:
            # a slow body (408, or dropped for a faster one) closes; a turned-away one's small rest is read
            turned_away = refused.status == 503 and reader is not None and not reader.dropped
            unread = _unread(request, reader.received) if turned_away and reader is not None else None
            body.clear()
            if reader is not None:
                budget.give_back(reader)  # now, not after the rest is drained
            return await _refuse(request, refused.status, refused.error, unread)
        except OSError as exc:  # the spool could not be written: nothing was acknowledged, the sender retries
            log.error("webhook %s: cannot store the delivery (%s)", path, exc)
            return _refusal(503, "cannot store the delivery now: try again later")
        finally:
            if reader is not None:
                budget.give_back(reader)
        return JSONResponse(answer, status_code=status)

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        error = f"no webhook source at {request.url.path}; use /webhooks/<source name>"
        return await _refuse(request, 404, error, _unread(request))

    async def wrong_method(request: Request, exc: Exception) -> JSONResponse:
        error = "POST signed JSON to /webhooks/<source name>"
        return await _refuse(request, 405, error, _unread(request), {"Allow": "POST"})

    handlers: dict[Any, Callable[..., Any]] = {404: not_found, 405: wrong_method}
    routes = [
        Route("/healthz", health, methods=["GET"]),
        Route("/webhooks/{source}", webhook, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers=handlers)


class WebhookServer(BoundServer):
    """A bound webhook server; serve_forever() runs it, shutdown() (from another thread) stops it."""

    def __init__(self, receiver: WebhookReceiver, host: str, port: int, limits: ServerLimits) -> None:
        self.limits = limits
        super().__init__(
            make_app(receiver, limits),
            host,
            port,
            backlog=2048,
            header_timeout_seconds=limits.header_timeout_seconds,
            max_connections=limits.max_connections,
            keep_alive_seconds=limits.keep_alive_seconds,
            max_header_bytes=limits.max_header_bytes,
        )


def make_server(
    receiver: WebhookReceiver, host: str, port: int, limits: ServerLimits | None = None
) -> WebhookServer:
    """A webhook server bound to host:port (port 0 picks a free one), not yet serving."""
    return WebhookServer(receiver, host, port, limits or ServerLimits())
