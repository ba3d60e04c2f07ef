"""Posts pushed to Écoute by systems a company already has (a help desk, a chat tool, a review vendor).

`ecoute webhook serve` runs a small HTTP receiver: a sender POSTs JSON (one RawPost-shaped object or a
list of them) to `/webhooks/<source name>`, signed as core/signing.py describes (headers
`X-Ecoute-Timestamp` and `X-Ecoute-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`).
Accepted items are appended, fsync'd, to the spool `<state_dir>/webhooks/<source>.jsonl`; the
collector reads that spool from its cursor (a byte offset), so pushed posts take the engine's normal
path and the cursor moves only once they are indexed. Answers:
200 all accepted; 400 some or all items invalid (the valid ones are still accepted, the body says
which failed and why); 401 bad or missing signature; 409 timestamp older than `max_age_seconds` (or
too far ahead) or a signature already received; 411 no Content-Length; 413 body over the limit;
408 headers or body too slow and 503 too busy (collectors/webhook_server.py).
A body nested deeper than MAX_JSON_DEPTH is refused (400) before it is parsed, and an item holding
invalid Unicode (a lone surrogate such as `"\\ud800"`) is refused (400) with the field that holds it.
The signatures received within `max_age_seconds` are kept in `<state_dir>/webhooks/<source>.deliveries`
(fsync'd before the answer), so a replay is refused across restarts too. collectors/webhook_server.py
serves this receiver over HTTP.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError

from collectors.base import CollectorError, Cursor, FetchResult, SourceConfig, mentions_keyword
from core.documents import RawPost
from core.errors import ConfigError
from core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

log = logging.getLogger("ecoute.webhook")
MEGABYTE = 1024 * 1024
REPLAY_SEED_BYTES = 4 * MEGABYTE  # the spool's tail read at start to remember recent signatures
MAX_JSON_DEPTH = 64  # arrays and objects inside each other; deeper bodies are refused before parsing
_JSON_SPECIALS = re.compile(rb'[\[\]{}"\\]')


class WebhookConfig(SourceConfig):
    type: Literal["webhook"] = "webhook"
    secret_env: str = Field(default="ECOUTE_WEBHOOK_SECRET", description="variable holding the HMAC secret")
    platform: str = Field(default="webhook", description="platform of pushed items that do not name one")
    max_body_bytes: int = Field(default=MEGABYTE, ge=1024, le=100 * MEGABYTE)
    max_age_seconds: int = Field(default=300, ge=10, le=3600, description="oldest signed timestamp accepted")
    max_items_per_run: int = Field(
        default=5000, ge=1, description="spooled posts handed over per run at most"
    )


def spool_path(state_dir: Path, source: str) -> Path:
    """Where a webhook source's accepted posts wait for the collector."""
    return state_dir / "webhooks" / f"{source}.jsonl"


def describe_invalid(exc: ValidationError) -> str:
    """A pydantic error as `field: what is wrong; ...`."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "item"
        parts.append(f"{loc}: {'required' if err['type'] == 'missing' else err['msg'].lower()}")
    return "; ".join(parts)


def nesting_depth(body: bytes, stop_above: int) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), counted without recursion.

    Stops early once deeper than `stop_above`; linear in the number of brackets, quotes and backslashes.
    """
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SPECIALS.finditer(body):
        at = match.start()
        if at == escaped_at:
            continue
        char = body[at]
        if in_string:
            if char == 0x5C:  # a backslash escapes the next byte, a quote or another backslash among them
                escaped_at = at + 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > stop_above:
                break
        elif char in (0x5D, 0x7D):
            depth -= 1
    return deepest


def lone_surrogate(value: Any) -> str | None:
    """`where: what` for the first string (key or value) that cannot be UTF-8, such as a lone surrogate."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, current = stack.pop()
        if isinstance(current, dict):
            for key, inner in current.items():
                path = f"{where}.{key}" if where else str(key)
                if _bad_unicode(key) is not None:
                    return f"{where or 'item'}: a key holds {_bad_unicode(key)}"
                stack.append((path, inner))
        elif isinstance(current, list):
            stack.extend((f"{where}.{i}" if where else str(i), inner) for i, inner in enumerate(current))
        elif isinstance(current, str) and (problem := _bad_unicode(current)) is not None:
            return f"{where or 'item'}: {problem}"
    return None


def _bad_unicode(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"invalid Unicode (lone surrogate U+{ord(text[exc.start]):04X} at character {exc.start})"
    return None


def validate_item(item: Any, config: WebhookConfig, received_at: datetime) -> RawPost:
    """One pushed item as a RawPost of this source, or ValueError saying precisely what is wrong."""
    if not isinstance(item, dict):
        raise ValueError(f"not a JSON object (got {type(item).__name__})")
    if (problem := lone_surrogate(item)) is not None:
        raise ValueError(problem)
    data = {k: v for k, v in item.items() if k != "source"}
    data["source"] = config.name  # the source is where it arrived, whatever the sender wrote
    data.setdefault("platform", config.platform)
    data.setdefault("collected_at", received_at)
    data.setdefault("raw", {k: v for k, v in item.items() if k != "raw"})
    try:
        post = RawPost.model_validate(data)
    except ValidationError as exc:
        raise ValueError(describe_invalid(exc)) from None
    if not post.native_id.strip():
        raise ValueError("native_id: empty")
    if not post.text.strip():
        raise ValueError("text: empty")
    return post


class WebhookSpool:
    """The append-only JSONL file of one source; every append is fsync'd before it is acknowledged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, posts: list[RawPost], delivery: str, received_at: datetime) -> None:
        lines = b"".join(
            json.dumps(
                {
                    "received_at": received_at.isoformat(),
                    "delivery": delivery,
                    "post": p.model_dump(mode="json"),
                },
                ensure_ascii=False,
            ).encode("utf-8")
            + b"\n"
            for p in posts
        )
        with self._lock:
            created = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(lines)
                handle.flush()
                os.fsync(handle.fileno())
            if created:  # the new file's name must survive a crash too
                _fsync_folder(self.path.parent)

    def recent_deliveries(self, newer_than: float) -> dict[str, float]:
        """Signatures of deliveries received after `newer_than` (epoch seconds), from the spool's tail."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return {}
        seen: dict[str, float] = {}
        with self.path.open("rb") as handle:
            handle.seek(max(0, size - REPLAY_SEED_BYTES))
            if handle.tell():
                handle.readline()  # a partial line
            for line in handle:
                try:
                    entry = json.loads(line)
                    when = datetime.fromisoformat(entry["received_at"]).timestamp()
                except (ValueError, KeyError, TypeError):
                    continue
                if when > newer_than and isinstance(entry.get("delivery"), str):
                    seen[entry["delivery"]] = when
        return seen


class DeliveryLog:
    """Signatures whose signed timestamp is within `window` seconds, on disk: refused again after a restart.

    One line per delivery, `<signed timestamp> <signature>`, appended and fsync'd before the sender is
    answered; rewritten with the live lines only (temp file, fsync, rename) once mostly expired.
    """

    def __init__(self, path: Path, window: float) -> None:
        self.path = path
        self.window = window
        self._lines = 0

    def load(self, now: float) -> dict[str, float]:
        """The deliveries still inside the window; the file is rewritten to hold only them."""
        seen: dict[str, float] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return seen
        for line in text.splitlines():
            when, _, delivery = line.partition(" ")
            try:
                moment = float(when)
            except ValueError:
                continue  # a line cut by a crash
            if delivery and now - moment <= self.window:
                seen[delivery] = moment
        self.rewrite(seen)
        return seen

    def record(self, delivery: str, when: float, live: dict[str, float]) -> None:
        """Append one delivery (durable on return); compact when expired lines dominate."""
        if self._lines > max(1024, 4 * len(live)):
            self.rewrite(live)
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{when:.3f} {delivery}\n")
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _fsync_folder(self.path.parent)
        self._lines += 1

    def rewrite(self, live: dict[str, float]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(f"{when:.3f} {delivery}\n" for delivery, when in live.items())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _fsync_folder(self.path.parent)
        self._lines = len(live)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def deliveries_path(state_dir: Path, source: str) -> Path:
    """Where a webhook source remembers the signatures it received recently (replay refusal)."""
    return state_dir / "webhooks" / f"{source}.deliveries"


class WebhookReceiver:
    """Checks, validates and spools what is posted to each webhook source; shared by the server threads."""

    def __init__(
        self,
        sources: list[WebhookConfig],
        state_dir: Path,
        secrets: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        env = os.environ if secrets is None else secrets
        self.sources = {s.name: s for s in sources}
        self.secrets: dict[str, bytes] = {}
        for source in sources:
            secret = env.get(source.secret_env)
            if not secret:
                raise ConfigError(
                    f"webhook source {source.name!r}: set the {source.secret_env} environment variable "
                    "to the secret senders sign with"
                )
            self.secrets[source.name] = secret.encode("utf-8")
        self.spools = {s.name: WebhookSpool(spool_path(state_dir, s.name)) for s in sources}
        self.deliveries = {
            s.name: DeliveryLog(deliveries_path(state_dir, s.name), s.max_age_seconds) for s in sources
        }
        self.clock = clock
        self._seen_lock = threading.Lock()
        now = clock()
        self._seen: dict[str, dict[str, float]] = {}
        for name, spool in self.spools.items():
            # the spool's tail too: it holds the deliveries of receivers that kept no delivery log
            seen = spool.recent_deliveries(now - self.sources[name].max_age_seconds)
            seen.update(self.deliveries[name].load(now))
            self._seen[name] = seen

    def limit_for(self, path: str) -> int | None:
        """The body size limit of the source a path names (None: no such source)."""
        source = self.sources.get(_source_from_path(path) or "")
        return source.max_body_bytes if source else None

    def receive(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Handle one POST: (HTTP status, JSON answer)."""
        name = _source_from_path(path)
        source = self.sources.get(name or "")
        if source is None:
            return 404, {"error": f"no webhook source at {path}; use /webhooks/<source name>"}
        timestamp, signature = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        now = self.clock()
        secret = self.secrets[source.name]
        try:  # the signature alone first: a forged request learns nothing about timing
            verify(secret, timestamp, body, signature, max_age=float("inf"), now=now)
        except SignatureError as exc:
            return 401, {"error": str(exc)}
        try:
            sent = verify(secret, timestamp, body, signature, max_age=source.max_age_seconds, now=now)
        except SignatureError as exc:
            return 409, {"error": str(exc)}
        delivery = str(signature).strip()
        with self._seen_lock:
            # kept until its signed timestamp is too old to pass verify: a request signed ahead of
            # the clock stays replayable longer than max_age after it was received
            seen = self._seen[source.name]
            for old in [d for d, t in seen.items() if now - t > source.max_age_seconds]:
                del seen[old]
            if delivery in seen:
                return 409, {"error": "this signed request was already received: replay refused"}
            seen[delivery] = float(sent)
        try:
            status, answer, accepted = self._parse(source, body, now)
            if accepted:  # spooled before the delivery is remembered: a crash between only repeats a post
                self.spools[source.name].append(accepted, delivery, datetime.fromtimestamp(now, UTC))
            with self._seen_lock:
                self.deliveries[source.name].record(delivery, float(sent), self._seen[source.name])
        except BaseException:
            with self._seen_lock:  # not stored: the sender's retry of the same request must be taken
                self._seen[source.name].pop(delivery, None)
            raise
        return status, answer

    def _parse(
        self, source: WebhookConfig, body: bytes, now: float
    ) -> tuple[int, dict[str, Any], list[RawPost]]:
        """(status, answer, posts to spool) for a body whose signature holds."""
        if nesting_depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            return 400, {"error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels", "accepted": 0}, []
        try:
            payload = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            return 400, {"error": "body is not UTF-8", "accepted": 0}, []
        except json.JSONDecodeError as exc:
            return (
                400,
                {"error": f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", "accepted": 0},
                [],
            )
        except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
            return 400, {"error": f"not JSON ({str(exc)[:200]})", "accepted": 0}, []
        items = payload if isinstance(payload, list) else [payload]
        if not items:
            return 400, {"error": "no items", "accepted": 0}, []
        received_at = datetime.fromtimestamp(now, UTC)
        accepted: list[RawPost] = []
        problems: list[str] = []
        ids: set[str] = set()
        for position, item in enumerate(items, start=1):
            try:
                post = validate_item(item, source, received_at)
            except ValueError as exc:
                problems.append(f"item {position}: {exc}")
                continue
            if post.native_id in ids:
                problems.append(f"item {position}: native_id {post.native_id!r} appears twice in this batch")
                continue
            ids.add(post.native_id)
            accepted.append(post)
        for problem in problems:
            log.warning("webhook %s: %s", source.name, problem)
        answer: dict[str, Any] = {"accepted": len(accepted), "rejected": len(problems)}
        if problems:
            answer["problems"] = problems
            return 400, answer, accepted
        return 200, answer, accepted


def _source_from_path(path: str) -> str | None:
    parts = path.split("?", 1)[0].strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "webhooks" and parts[1] else None


class WebhookCollector:
    """Hands over the posts spooled by the receiver, from the byte offset in its cursor."""

    type: ClassVar[str] = "webhook"

    def __init__(self, config: WebhookConfig, state_dir: Path) -> None:
        self.config = config
        self.path = spool_path(state_dir, config.name)

    def fetch(self, cursor: Cursor, since: datetime | None = None) -> FetchResult:
        name = self.config.name
        offset = int(cursor.get("offset", "0") or 0)
        result = FetchResult(cursor={"offset": str(offset)})
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return result  # nothing received yet
        except OSError as exc:
            raise CollectorError(name, str(self.path), f"cannot read the spool ({exc.strerror})") from exc
        if size < offset:
            result.problems.append(
                f"{name}: {self.path.name}: shorter than the cursor (replaced?): read again"
            )
            offset = 0
        with self.path.open("rb") as handle:
            handle.seek(offset)
            while len(result.posts) < self.config.max_items_per_run:
                line = handle.readline()
                if not line.endswith(b"\n"):
                    break  # end of file, or a line still being written: read it next run
                at = offset
                offset += len(line)
                try:
                    entry = json.loads(line)
                    post = RawPost.model_validate({**entry["post"], "source": name})
                except (ValueError, KeyError, TypeError) as exc:
                    reason = (
                        describe_invalid(exc) if isinstance(exc, ValidationError) else "not a spooled post"
                    )
                    result.problems.append(f"{name}: {self.path.name} byte {at}: {reason}")
                    continue
                if mentions_keyword(post, self.config.keywords):
                    result.posts.append(post)
        result.cursor = {"offset": str(offset)}
        return result
