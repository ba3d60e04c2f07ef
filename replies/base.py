"""The reply interface: one small module per platform posts a reply to a mention, with the credentials
of the source that collected it, read from the environment.

A post is sent once and never retried by itself: a retry after a timeout could post twice, so it is a
person's decision. Where the platform allows, the reply's id makes even that safe: Mastodon's
Idempotency-Key, Bluesky's record key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import httpx

from collectors.http import USER_AGENT, HttpSourceConfig
from core.documents import Mention, Reply
from core.errors import EcouteError
from core.outbound import RefusedAddressError, guarded_client


class ReplyError(EcouteError):
    """A reply the platform did not take, as one line; `unsure` when no answer came (it may be posted)."""

    def __init__(self, source: str, reason: str, unsure: bool = False) -> None:
        super().__init__(f"{source}: {reason}")
        self.source, self.reason, self.unsure = source, reason, unsure


@dataclass(frozen=True)
class Posted:
    """The reply as the platform stored it: its id there and the address where it can be read."""

    platform_id: str
    url: str | None = None


class Replier(Protocol):
    """Posts replies for one configured source."""

    platform: ClassVar[str]
    """The platform's name, as people know it."""
    max_length: ClassVar[int]

    def missing_credentials(self) -> list[str]:
        """The environment variables a reply needs that are not set (empty: replies can be posted)."""
        ...

    def prefill(self, mention: Mention) -> str:
        """What a new reply starts with (on Mastodon, the author's handle, so they are notified)."""
        ...

    def length(self, text: str) -> int:
        """The length of `text` as the platform counts it against `max_length`."""
        ...

    def send(self, mention: Mention, reply: Reply) -> Posted:
        """Post `reply` under `mention`; ReplyError with the platform's reason when it is refused."""
        ...


def unset(*names: str) -> list[str]:
    """Those of the environment variables `names` that are unset or empty."""
    return [name for name in names if not os.environ.get(name)]


def secret(name: str) -> str:
    return os.environ.get(name, "")


class PlatformHttp:
    """One attempt per request through the outbound guard; every failure is a ReplyError line."""

    def __init__(self, config: HttpSourceConfig, explain: Any = None) -> None:
        self.config = config
        self.explain = explain or (lambda body: None)

    def call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        posting: bool = True,
    ) -> Any:
        """The JSON answer of one request. `posting`: a request that may create something, so an answer
        that never came is reported as perhaps posted."""
        name = self.config.name
        try:
            with guarded_client(
                allow_local=self.config.local,
                timeout=self.config.timeout_seconds,
                headers={"User-Agent": USER_AGENT},
            ) as client:
                response = client.request(
                    method, url, json=json, data=data, params=params, headers=headers, auth=auth
                )
        except RefusedAddressError as exc:
            raise ReplyError(name, f"{url}: {exc.reason}") from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ReplyError(name, f"{url}: cannot connect ({exc})") from exc
        except httpx.TimeoutException as exc:
            reason = f"{url}: no answer within {self.config.timeout_seconds:g}s"
            if posting:
                reason += ": it may have been posted; look at the thread before trying again"
            raise ReplyError(name, reason, unsure=posting) from exc
        except httpx.HTTPError as exc:
            reason = f"{url}: the connection broke ({exc})"
            if posting:
                reason += ": it may have been posted; look at the thread before trying again"
            raise ReplyError(name, reason, unsure=posting) from exc
        body = _json(response)
        if response.status_code >= 400:
            said = self.explain(body)
            raise ReplyError(name, f"{url}: HTTP {response.status_code}" + (f": {said}" if said else ""))
        if body is None:
            raise ReplyError(name, f"{url}: the answer is not JSON", unsure=posting)
        return body


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def first_text(*values: Any) -> str | None:
    """The first value that is a non-empty string, cut to one line of at most 300 characters."""
    for value in values:
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:300]
    return None
