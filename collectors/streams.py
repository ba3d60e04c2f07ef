"""The streaming side of the collector interface: a long-lived connection that yields events.

A stream collector never writes anywhere either: it yields `StreamEvent`s (a post, a deletion, a
skipped item, or nothing but a cursor/keep-alive tick) and the runner in ecoute/streams.py batches
them, indexes them and stores the cursor after each batch.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpcore
from pydantic import Field

from collectors.base import CollectorError, Cursor
from collectors.http import HttpSourceConfig, UnsafeAddressError
from core.documents import RawPost
from core.outbound import AddressGuard, RefusedAddressError


class StreamSourceConfig(HttpSourceConfig):
    """Fields of a source that can also be followed live (`stream: true`)."""

    stream: bool = Field(default=False, description="follow the live stream instead of polling")
    batch_max_events: int = Field(default=100, ge=1, le=10_000, description="events indexed together")
    batch_max_seconds: float = Field(default=5.0, gt=0, le=3600, description="longest wait before indexing")
    reconnect_initial_seconds: float = Field(default=1.0, gt=0)
    reconnect_max_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: float = Field(
        default=60.0,
        ge=2,
        description="the stream's lease; after a crash another process takes over this late",
    )
    idle_timeout_seconds: float = Field(
        default=90.0, gt=0, description="a connection silent this long (no data, no heartbeat) is reopened"
    )


@dataclass
class StreamEvent:
    """One thing read from a stream; `cursor` is where a reconnect resumes once this event is stored.

    At most one of `post`, `deletion` and `problem` is set; an event with none of them is a tick
    (keep-alive, an event of no interest) that only moves the cursor and lets the runner flush.
    """

    cursor: Cursor = field(default_factory=dict)
    post: RawPost | None = None
    deletion: str | None = None
    problem: str | None = None


class StreamCollector(Protocol):
    """A collector that can also follow its platform live."""

    type: ClassVar[str]

    def stream(self, cursor: Cursor) -> Iterator[StreamEvent]:
        """Connect, resume from `cursor` where the platform allows, yield events until it drops.

        Raises CollectorError when the connection cannot be opened or breaks.
        """
        ...

    def close(self) -> None:
        """Close the open connection (from another thread too) so `stream` ends promptly."""
        ...


def connect_ws_socket(source: str, url: str, allow_local: bool, timeout: float) -> socket.socket:
    """A TCP connection for a ws(s):// URL under the outbound address guard (ws as http, wss as https).

    The socket goes to the address that was checked; the websocket client then speaks TLS and HTTP over
    it with the URL's host name (SNI, certificate check, Host header).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise CollectorError(source, url, "only ws and wss addresses are streamed")
    as_http = urlunsplit(parts._replace(scheme="https" if parts.scheme == "wss" else "http"))
    try:
        return AddressGuard(allow_local).connect(as_http, timeout)
    except RefusedAddressError as exc:
        raise UnsafeAddressError(source, url, exc.reason) from None
    except (httpcore.ConnectError, OSError) as exc:
        raise CollectorError(source, url, f"cannot open the stream ({exc})") from exc
