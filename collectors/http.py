"""The one HTTP client every collector uses: safe addresses, polite pace, retries, bounded bodies.

A source only reaches public http(s) addresses unless its config says `local: true`; each host
is paced by a per-process rate limit; 429 and 5xx answers are retried with exponential backoff
and jitter, honouring Retry-After; a body larger than `max_body_bytes` is refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from pydantic import Field
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from collectors.base import CollectorError, SourceConfig
from core.outbound import AddressGuard, RefusedAddressError, Resolver, guarded_client

USER_AGENT = "Ecoute/0.1 (+https://github.com/ecoute; social listening)"
MEGABYTE = 1024 * 1024


class HttpSourceConfig(SourceConfig):
    """Fields of every source read over HTTP."""

    timeout_seconds: float = Field(default=20.0, gt=0)
    attempts: int = Field(default=4, ge=1, le=10)
    max_wait_seconds: float = Field(default=60.0, gt=0, description="longest pause between two attempts")
    max_pages: int = Field(default=10, ge=1, le=1000, description="pages read per run at most")
    requests_per_second: float = Field(default=1.0, gt=0, le=1000, description="per host, per process")
    max_body_bytes: int = Field(default=10 * MEGABYTE, ge=1024)
    local: bool = Field(
        default=False, description="allow private and loopback addresses (an intranet source, a test server)"
    )
    refresh_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="posts this recent are re-read on each refresh for their current counts (0: never)",
    )
    refresh_interval_seconds: int = Field(default=6 * 3600, ge=60, description="how often the refresh runs")


class UnsafeAddressError(CollectorError):
    """A URL the collector refuses to fetch: not http(s), or a private/loopback/link-local address."""


class RetryableHttpError(Exception):
    """A 429 or 5xx answer: worth another try after `retry_after` seconds if given."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.retry_after = status, retry_after


def check_url(url: str, allow_local: bool = False) -> None:
    """Raise UnsafeAddressError unless `url` is http(s) and (unless allowed) resolves to public addresses.

    For connections made outside SourceHttp (websockets); SourceHttp checks the address it connects to.
    """
    try:
        AddressGuard(allow_local).check_host(url)
    except RefusedAddressError as exc:
        raise UnsafeAddressError("-", url, exc.reason) from None
    except httpcore.ConnectError as exc:
        raise CollectorError("-", url, str(exc)) from exc


def safe_link(value: object) -> str | None:
    """A link from an item kept for display: http(s) only, anything else (javascript:, data:...) dropped."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.hostname else None


_limiters: dict[tuple[str, float], Limiter] = {}
_limiters_lock = threading.Lock()


def host_limiter(host: str, per_second: float) -> Limiter:
    """The process-wide limiter pacing requests to `host`, shared by every source that calls it."""
    key = (host, per_second)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = Limiter(Rate(1, max(1, round(int(Duration.SECOND) / per_second))))
        return _limiters[key]


_answers_heard: ContextVar[Callable[[], None] | None] = ContextVar("answers_heard", default=None)


@contextmanager
def hearing_answers(listener: Callable[[int], None]) -> Iterator[None]:
    """Within the block, `listener(n)` after each answer a source reads in this thread (n: so far).

    How `ecoute collect` shows the pages a long read has gone through, without any collector knowing.
    """
    heard = 0

    def one_more() -> None:
        nonlocal heard
        heard += 1
        listener(heard)

    token = _answers_heard.set(one_more)
    try:
        yield
    finally:
        _answers_heard.reset(token)


class SourceHttp:
    """HTTP for one configured source; every error becomes a CollectorError naming the source and URL."""

    def __init__(
        self,
        config: HttpSourceConfig,
        headers: dict[str, str] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.config = config
        # The guard checks the first request and every redirect it follows, at connect time.
        self.client = guarded_client(
            allow_local=config.local,
            resolver=resolver,
            timeout=config.timeout_seconds,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
            max_redirects=5,
        )

    def close(self) -> None:
        self.client.close()

    def get(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """GET with pacing and retries; the answer's body is read (up to max_body_bytes)."""
        return self.request("GET", url, params=params, headers=headers)

    def post(
        self, url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST a form (an OAuth token request) with the same guard, pacing, retries and limits."""
        return self.request("POST", url, data=data, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request with pacing and retries; the answer's body is read (up to max_body_bytes)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.config.attempts),
            wait=self._wait,
            retry=retry_if_exception_type((RetryableHttpError, httpx.TransportError)),
            reraise=True,
        )
        where = url
        try:
            for attempt in retrying:
                with attempt:
                    response = self._send_once(method, url, params, headers, data)
                    if (heard := _answers_heard.get()) is not None:
                        heard()
                    return response
        except RetryableHttpError as exc:
            raise CollectorError(
                self.config.name, where, f"{exc} after {self.config.attempts} attempts"
            ) from exc
        except httpx.TimeoutException as exc:
            raise CollectorError(
                self.config.name, where, f"timed out after {self.config.timeout_seconds:g}s"
            ) from exc
        except httpx.TransportError as exc:
            raise CollectorError(self.config.name, where, f"network error ({exc})") from exc
        except httpx.TooManyRedirects as exc:
            raise CollectorError(self.config.name, where, "too many redirects") from exc
        raise AssertionError("unreachable")

    def get_json(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        """GET a JSON document; an error status or a body that is not JSON is a CollectorError."""
        response = self.get(url, params, headers)
        if response.status_code >= 400:
            raise CollectorError(self.config.name, url, f"HTTP {response.status_code}")
        return parse_json(self.config.name, url, response.content)

    def _send_once(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        data: dict[str, str] | None,
    ) -> httpx.Response:
        host = urlsplit(url).hostname or ""
        host_limiter(host, self.config.requests_per_second).try_acquire(host)
        request = self.client.build_request(method, url, params=params, headers=headers, data=data)
        try:
            response = self.client.send(request, stream=True)
        except RefusedAddressError as exc:
            raise UnsafeAddressError(self.config.name, url, exc.reason) from None
        try:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.config.max_body_bytes:
                raise self._too_large(url)
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > self.config.max_body_bytes:
                    raise self._too_large(url)
        finally:
            response.close()
        response = httpx.Response(
            response.status_code, headers=response.headers, content=bytes(body), request=request
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableHttpError(
                response.status_code, retry_after_seconds(response.headers.get("Retry-After"))
            )
        return response

    def _too_large(self, url: str) -> CollectorError:
        limit = self.config.max_body_bytes
        size = f"{limit / MEGABYTE:g} MB" if limit >= MEGABYTE else f"{limit} bytes"
        return CollectorError(self.config.name, url, f"body larger than {size}, not read")

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=0.5, max=self.config.max_wait_seconds)(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableHttpError) and exc.retry_after is not None:
            return min(max(exc.retry_after, backoff), self.config.max_wait_seconds)
        return backoff


def parse_json(source: str, url: str, body: bytes) -> Any:
    """Decode a JSON body; invalid UTF-8 is replaced, anything unparsable is one CollectorError."""
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise CollectorError(
            source, url, f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, from either its number or its HTTP-date form."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
