"""The webhook receiver over real HTTP, its spool, and spooled posts through the engine."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from elasticsearch import Elasticsearch
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.webhook import WebhookCollector, WebhookConfig, WebhookReceiver, nesting_depth, spool_path
from collectors.webhook_server import ServerLimits, make_server
from core.errors import ConfigError
from core.signing import sign, signed_headers
from ecoute.config import load_settings
from ecoute.engine import Engine
from index.client import EmbeddedServer, IndexNames, free_port
from index.mentions import count_mentions
from tests.conftest import write_config

SECRET = "whsec-test-0123456789abcdef"
ENV = {"ECOUTE_WEBHOOK_SECRET": SECRET}


def post_item(
    native_id: str, text: str = "Le support Lumio a résolu mon souci en 5 minutes", **extra
) -> dict:
    return {
        "native_id": native_id,
        "platform": "zendesk",
        "text": text,
        "created_at": "2026-11-20T10:00:00Z",
        "author": {"handle": "marie_l", "display_name": "Marie L."},
        **extra,
    }


class Receiver:
    """A running receiver on a free port, with a client that signs what it sends."""

    def __init__(self, state_dir: Path, limits: ServerLimits | None = None, **config) -> None:
        self.state_dir = state_dir
        self.config = WebhookConfig(name="helpdesk", **config)
        self.receiver = WebhookReceiver([self.config], state_dir, secrets=ENV)
        self.server = make_server(self.receiver, "127.0.0.1", 0, limits)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/webhooks/helpdesk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.client = httpx.Client(timeout=10)

    def send(self, payload: object, secret: str = SECRET, at: float | None = None) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", **signed_headers(secret, body, now=at)}
        return self.client.post(self.url, content=body, headers=headers)

    def stop(self) -> None:
        self.client.close()
        self.server.shutdown()
        self.server.server_close()

    def collector(self, **config) -> WebhookCollector:
        return WebhookCollector(self.config.model_copy(update=config), self.state_dir)

    def connect(self) -> socket.socket:
        """A raw connection, for what an HTTP client would not send: half requests, held bodies."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=60)


def read_answer(connection: socket.socket) -> tuple[int, dict]:
    """Status and JSON body of the answer the server sends before closing the connection."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def request_head(content_length: int, signed: bool = True, expect_continue: bool = False) -> bytes:
    """The head of a POST whose body will follow (or not); `signed` adds headers that look signed."""
    lines = [
        "POST /webhooks/helpdesk HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {content_length}",
    ]
    if signed:
        lines += [f"X-Ecoute-Timestamp: {int(time.time())}", f"X-Ecoute-Signature: v1={'0' * 64}"]
    if expect_continue:
        lines.append("Expect: 100-continue")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[Receiver]:
    receiver = Receiver(tmp_path / "state")
    yield receiver
    receiver.stop()


def test_a_signed_post_is_spooled_and_collected(hook: Receiver):
    answer = hook.send(post_item("ticket-1"))
    assert answer.status_code == 200 and answer.json() == {"accepted": 1, "rejected": 0}
    result = hook.collector().fetch({})
    assert [p.native_id for p in result.posts] == ["ticket-1"]
    post = result.posts[0]
    assert post.source == "helpdesk" and post.platform == "zendesk" and post.author.handle == "marie_l"
    assert result.cursor == {"offset": str(spool_path(hook.state_dir, "helpdesk").stat().st_size)}


def test_invalid_items_are_400_with_the_reason_and_valid_ones_still_accepted(hook: Receiver):
    batch = [
        post_item("ticket-2"),
        {"native_id": "ticket-3", "created_at": "2026-11-20T10:00:00Z"},
        post_item("ticket-4", created_at="last tuesday"),
        "just a string",
        post_item("ticket-2", text="same id again"),
        post_item("ticket-5", source="someone-else"),
    ]
    answer = hook.send(batch)
    assert answer.status_code == 400
    assert answer.json() == {
        "accepted": 2,
        "rejected": 4,
        "problems": [
            "item 2: text: required",
            "item 3: created_at: input should be a valid datetime or date, invalid character in year",
            "item 4: not a JSON object (got str)",
            "item 5: native_id 'ticket-2' appears twice in this batch",
        ],
    }
    posts = hook.collector().fetch({}).posts
    assert [p.native_id for p in posts] == ["ticket-2", "ticket-5"]
    assert posts[1].source == "helpdesk"  # the source is where it arrived


def test_a_bad_or_missing_signature_is_401_and_nothing_is_kept(hook: Receiver):
    assert hook.send(post_item("forged"), secret="not-the-secret").status_code == 401
    unsigned = hook.client.post(hook.url, content=json.dumps(post_item("unsigned")).encode())
    assert unsigned.status_code == 401 and "unsigned request" in unsigned.json()["error"]
    body = json.dumps(post_item("tampered")).encode()
    headers = signed_headers(SECRET, body)
    tampered = hook.client.post(hook.url, content=body.replace(b"tampered", b"tampere2"), headers=headers)
    assert tampered.status_code == 401 and tampered.json()["error"] == "signature does not match the body"
    assert not spool_path(hook.state_dir, "helpdesk").exists()


def test_stale_timestamps_and_replays_are_409(hook: Receiver):
    stale = hook.send(post_item("old"), at=time.time() - 6 * 60)
    assert stale.status_code == 409 and "away from now" in stale.json()["error"]
    body = json.dumps(post_item("once")).encode()
    headers = signed_headers(SECRET, body)
    assert hook.client.post(hook.url, content=body, headers=headers).status_code == 200
    replay = hook.client.post(hook.url, content=body, headers=headers)
    assert replay.status_code == 409 and "replay refused" in replay.json()["error"]
    # a restarted receiver still remembers the deliveries of the last minutes, from its spool
    restarted = WebhookReceiver([hook.config], hook.state_dir, secrets=ENV)
    status, answer = restarted.receive("/webhooks/helpdesk", headers, body)
    assert status == 409
    assert [p.native_id for p in hook.collector().fetch({}).posts] == ["once"]


def test_a_request_signed_ahead_of_the_clock_cannot_be_replayed_once_received(tmp_path: Path):
    clock = [time.time()]
    receiver = WebhookReceiver(
        [WebhookConfig(name="helpdesk")], tmp_path, secrets=ENV, clock=lambda: clock[0]
    )
    body = json.dumps(post_item("ahead")).encode()
    headers = signed_headers(SECRET, body, now=clock[0] + 250)  # within max_age_seconds (300) of now
    assert receiver.receive("/webhooks/helpdesk", headers, body)[0] == 200
    clock[0] += 320  # more than max_age after it arrived, its timestamp still fresh
    assert receiver.receive("/webhooks/helpdesk", headers, body)[0] == 409
    restarted = WebhookReceiver(
        [WebhookConfig(name="helpdesk")], tmp_path, secrets=ENV, clock=lambda: clock[0]
    )
    assert restarted.receive("/webhooks/helpdesk", headers, body)[0] == 409


def test_a_body_over_the_limit_is_413_unread(tmp_path: Path):
    small = Receiver(tmp_path / "state", max_body_bytes=2048)
    try:
        answer = small.send([post_item(f"t{i}") for i in range(40)])
        assert answer.status_code == 413 and "over the 2048 byte limit" in answer.json()["error"]
        assert small.send(post_item("fits")).status_code == 200  # the server still answers
    finally:
        small.stop()


def test_a_body_nested_too_deep_is_400_and_the_server_goes_on(hook: Receiver):
    deep = b"[" * 200_000 + b"]" * 200_000
    answer = hook.send(deep)
    assert answer.status_code == 400
    assert answer.json() == {"error": "JSON nested deeper than 64 levels", "accepted": 0}
    just_over = hook.send(post_item("deep-65", raw=json.loads("[" * 64 + "]" * 64)))
    assert just_over.status_code == 400
    within = hook.send(post_item("deep-10", raw={"a": json.loads("[" * 9 + '"[{["' + "]" * 9)}))
    assert within.status_code == 200
    assert [p.native_id for p in hook.collector().fetch({}).posts] == ["deep-10"]


def test_a_lone_surrogate_is_400_naming_the_field_and_the_other_items_are_kept(hook: Receiver):
    batch = [
        post_item("bad", text="Lumio \ud800 panne"),
        post_item("good"),
        post_item("bad-raw", raw={"k": "\udfff"}),
    ]
    answer = hook.send(batch)  # json.dumps writes them as escapes: valid JSON, invalid Unicode
    assert answer.status_code == 400
    assert answer.json() == {
        "accepted": 1,
        "rejected": 2,
        "problems": [
            "item 1: text: invalid Unicode (lone surrogate U+D800 at character 6)",
            "item 3: raw.k: invalid Unicode (lone surrogate U+DFFF at character 0)",
        ],
    }
    assert [p.native_id for p in hook.collector().fetch({}).posts] == ["good"]


def test_an_unsigned_request_is_401_before_its_body_is_read(hook: Receiver):
    with hook.connect() as connection:
        connection.sendall(request_head(500_000, signed=False))  # and no body at all
        status, answer = read_answer(connection)
    assert status == 401 and answer == {"error": "unsigned request: timestamp or signature header missing"}


def test_odd_signature_headers_are_401_not_a_server_error(hook: Receiver):
    body = json.dumps(post_item("odd")).encode()
    odd_headers = [
        {"X-Ecoute-Timestamp": str(int(time.time())), "X-Ecoute-Signature": "v1=\xff\xfe".encode("latin-1")},
        {"X-Ecoute-Timestamp": "9" * 4000, "X-Ecoute-Signature": "v1=00"},
        {"X-Ecoute-Timestamp": "9" * 400, "X-Ecoute-Signature": "v1=00"},
    ]
    for headers in odd_headers:
        answer = hook.client.post(hook.url, content=body, headers=headers)
        assert answer.status_code == 401, answer.text
    assert not spool_path(hook.state_dir, "helpdesk").exists()


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab'),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\'), inner, max_size=3)
        ),
        max_leaves=30,
    )
)
@settings(max_examples=300, deadline=None)
def test_nesting_depth_counts_what_the_json_holds_whatever_its_strings_say(value: object):
    assert nesting_depth(json.dumps(value).encode(), 10_000) == _depth(value)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def test_a_chunked_body_is_refused_even_with_a_content_length(hook: Receiver):
    chunk = b"x" * 1000
    chunked = b"".join(b"3e8\r\n" + chunk + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
    with hook.connect() as connection:  # framed two ways: a proxy in front may read another body
        connection.sendall(
            request_head(100).replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n") + chunked
        )
        status, answer = read_answer(connection)
    assert status == 400
    assert answer == {"error": "Transfer-Encoding is not accepted: send the body with a Content-Length"}


def test_slow_headers_and_slow_bodies_are_answered_408(tmp_path: Path):
    limits = ServerLimits(header_timeout_seconds=1, body_timeout_seconds=1)
    hook = Receiver(tmp_path / "state", limits=limits)
    try:
        with hook.connect() as connection:
            connection.sendall(b"POST /webhooks/helpdesk HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
            assert read_answer(connection) == (408, {"error": "request headers not received in time"})
        with hook.connect() as connection:
            connection.sendall(request_head(1000) + b'{"native_id": ')  # 14 of 1000 bytes
            assert read_answer(connection) == (408, {"error": "body not received within 1 seconds"})
        assert hook.send(post_item("after")).status_code == 200
    finally:
        hook.stop()


def test_beyond_max_connections_a_post_is_503_until_they_go(tmp_path: Path):
    hook = Receiver(tmp_path / "state", limits=ServerLimits(max_connections=4))
    held = [hook.connect() for _ in range(3)]
    try:
        for connection in held:  # each one is inside the server, waiting for a body it will not get
            connection.sendall(request_head(1000, expect_continue=True))
            assert connection.recv(100).startswith(b"HTTP/1.1 100 Continue")
        busy = hook.send(post_item("crowded"))
        assert busy.status_code == 503
        assert not spool_path(hook.state_dir, "helpdesk").exists()
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + 60
    while (answer := hook.send(post_item("crowded"))).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.1)  # the server notices the closed connections on its own time
    assert answer.status_code == 200
    hook.stop()


def test_when_bodies_in_flight_fill_the_budget_the_slowest_is_dropped_for_a_new_one(tmp_path: Path):
    hook = Receiver(tmp_path / "state", limits=ServerLimits(max_buffered_bytes=2048), max_body_bytes=2048)
    try:
        with hook.connect() as slow:
            slow.sendall(request_head(2000, expect_continue=True))
            assert slow.recv(100).startswith(b"HTTP/1.1 100 Continue")
            slow.sendall(b"x" * 1900)  # held in memory until the rest comes, which it never does
            statuses: list[int] = []
            deadline = time.monotonic() + 60
            while not select.select([slow], [], [], 0)[0] and time.monotonic() < deadline:
                statuses.append(hook.send(post_item(f"squeezed-{len(statuses)}")).status_code)
            # a newcomer may wait (503) while the slow body is young, then takes its place
            assert statuses[-1] == 200 and set(statuses) <= {200, 503}
            assert read_answer(slow) == (
                503,
                {"error": "body too slow while the server is busy: send it faster"},
            )
    finally:
        hook.stop()


def test_a_replay_is_refused_after_a_restart_even_past_the_spools_tail(tmp_path: Path):
    state = tmp_path / "state"
    first = Receiver(state)
    body = json.dumps(post_item("once")).encode()
    headers = {"Content-Type": "application/json", **signed_headers(SECRET, body)}
    assert first.client.post(first.url, content=body, headers=headers).status_code == 200
    for batch in range(4):  # busy minutes: more than the 4 MB of spool a restart used to read back
        items = [post_item(f"busy-{batch}-{i}", text="Lumio " + "x" * 9000) for i in range(100)]
        assert first.send(items).status_code == 200
    assert spool_path(state, "helpdesk").stat().st_size > 5 * 1024 * 1024
    first.stop()
    restarted = Receiver(state)
    try:
        replay = restarted.client.post(restarted.url, content=body, headers=headers)
        assert replay.status_code == 409 and "replay refused" in replay.json()["error"]
        posts = restarted.collector(max_items_per_run=1000).fetch({}).posts
        assert [p.native_id for p in posts].count("once") == 1
    finally:
        restarted.stop()


def test_not_json_wrong_path_and_wrong_method(hook: Receiver):
    broken = hook.send(b'{"native_id": "x", ')
    assert broken.status_code == 400 and broken.json()["error"].startswith("not JSON (")
    assert hook.send(b"\xff\xfe not utf-8").json()["error"] == "body is not UTF-8"
    assert hook.send([]).json()["error"] == "no items"
    other = hook.client.post(hook.url.replace("helpdesk", "nobody"), content=b"{}")
    assert other.status_code == 404
    assert hook.client.get(hook.url).status_code == 405


def test_the_collector_reads_on_from_its_cursor_and_never_half_lines(hook: Receiver):
    hook.send([post_item("a"), post_item("b")])
    first = hook.collector().fetch({})
    hook.send(post_item("c"))
    spool = spool_path(hook.state_dir, "helpdesk")
    whole = json.dumps({"received_at": "2026-11-20T10:00:00+00:00", "post": post_item("d")}).encode() + b"\n"
    with spool.open("ab") as handle:
        handle.write(b"not json at all\n")
        handle.write(whole[:30])  # a line the receiver is still writing
    second = hook.collector().fetch(first.cursor)
    assert [p.native_id for p in second.posts] == ["c"]
    assert second.problems == [
        f"helpdesk: helpdesk.jsonl byte {_offset_of(spool, b'not json')}: not a spooled post"
    ]
    assert second.cursor == {"offset": str(spool.stat().st_size - 30)}
    with spool.open("ab") as handle:
        handle.write(whole[30:])
    third = hook.collector().fetch(second.cursor)
    assert [p.native_id for p in third.posts] == ["d"] and third.problems == []


def _offset_of(path: Path, needle: bytes) -> int:
    return path.read_bytes().index(needle)


def test_max_items_per_run_bounds_a_run_and_the_rest_follows(hook: Receiver):
    hook.send([post_item(f"n{i}") for i in range(5)])
    collector = hook.collector(max_items_per_run=3)
    first = collector.fetch({})
    second = collector.fetch(first.cursor)
    assert [p.native_id for p in first.posts] == ["n0", "n1", "n2"]
    assert [p.native_id for p in second.posts] == ["n3", "n4"]


def test_missing_secret_refuses_to_start(tmp_path: Path):
    with pytest.raises(ConfigError, match="set the ECOUTE_WEBHOOK_SECRET environment variable"):
        WebhookReceiver([WebhookConfig(name="helpdesk")], tmp_path, secrets={})


def test_pushed_posts_are_indexed_once_through_the_engine(
    tmp_path: Path, es: Elasticsearch, es_server: EmbeddedServer, names: IndexNames
):
    state = tmp_path / "state"
    config = write_config(
        tmp_path,
        es_server.url,
        names.prefix,
        sources=[{"name": "helpdesk", "type": "webhook"}],
        nlp={"entities": False},
    )
    settings = load_settings(config)
    assert settings.resolve(settings.state_dir) == state
    hook = Receiver(state)
    try:
        hook.send([post_item("e1"), post_item("e2", text="Lumio me facture deux fois ce mois-ci")])
        engine = Engine(settings, es, names)
        engine.prepare()
        report = engine.collect("helpdesk")
        assert report.error is None and report.fetched == 2 and report.indexed == 2
        again = engine.collect("helpdesk")
        assert again.fetched == 0  # the cursor moved past what was indexed
        hook.send(post_item("e3"))
        assert engine.collect("helpdesk").indexed == 1
        assert count_mentions(es, names) == 3
    finally:
        hook.stop()


def test_ecoute_webhook_serve_from_the_command_line(tmp_path: Path):
    port = free_port()
    data = {
        "brand": {"name": "Lumio"},
        "state_dir": str(tmp_path / "state"),
        "sources": [{"name": "helpdesk", "type": "webhook"}],
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "ecoute",
        "webhook",
        "serve",
        "--config",
        str(config),
        "--header-timeout",
        "1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.strip() == f"webhook helpdesk: POST http://127.0.0.1:{port}/webhooks/helpdesk"
        body = json.dumps(post_item("cli-1")).encode()
        timestamp = int(time.time())
        headers = {"X-Ecoute-Timestamp": str(timestamp), "X-Ecoute-Signature": sign(SECRET, timestamp, body)}
        answer = httpx.post(f"http://127.0.0.1:{port}/webhooks/helpdesk", content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
        with socket.create_connection(("127.0.0.1", port), timeout=60) as slow:
            slow.sendall(b"POST /webhooks/helpdesk HTTP/1.1\r\n")  # headers that never end
            assert read_answer(slow) == (408, {"error": "request headers not received in time"})
    finally:
        process.terminate()
        process.wait(timeout=30)
    spooled = spool_path(tmp_path / "state", "helpdesk").read_text(encoding="utf-8").splitlines()
    assert json.loads(spooled[0])["post"]["native_id"] == "cli-1"
    missing = subprocess.run(
        [*command[:-2], "--port", str(free_port())],
        env={k: v for k, v in os.environ.items() if k != "ECOUTE_WEBHOOK_SECRET"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith(
        "set the ECOUTE_WEBHOOK_SECRET environment variable to the secret senders sign with"
    )
