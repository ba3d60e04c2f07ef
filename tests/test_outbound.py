"""core/outbound.py, the one address guard of collectors and alert webhooks, against real local servers."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from alerts.channels import ChannelError, Links, send_webhook
from alerts.delivery import Alerter
from alerts.settings import AlertsConfig, WebhookChannel
from collectors.base import CollectorError
from collectors.http import HttpSourceConfig, SourceHttp, UnsafeAddressError
from collectors.streams import connect_ws_socket
from core.documents import Alert, Label
from core.outbound import AddressGuard, guarded_client
from index.alerts import alerts_for, deliveries_of
from index.client import IndexNames
from nlp.linking import CustomerDirectory
from tests.alerts.servers import SECRET, webhook_receiver
from tests.collectors.conftest import Reply, ScriptedServer
from tests.factories import make_mention

# Each is an IP literal, so no DNS is involved: this is the address classification itself.
REFUSED = {
    "loopback": "127.0.0.1",
    "private": "10.1.2.3",
    "shared (CGNAT)": "100.64.0.1",
    "link-local": "169.254.1.1",
    "metadata": "169.254.169.254",
    "metadata IPv6 (AWS)": "[fd00:ec2::254]",
    "multicast": "224.0.0.1",
    "multicast IPv6": "[ff02::1]",
    "reserved": "240.0.0.1",
    "unspecified": "0.0.0.0",
    "IPv6 loopback": "[::1]",
    "IPv4-mapped loopback": "[::ffff:127.0.0.1]",
    "IPv4-mapped metadata": "[::ffff:169.254.169.254]",
    "IPv4-compatible loopback": "[::127.0.0.1]",
    "NAT64 loopback": "[64:ff9b::7f00:1]",
    "NAT64 metadata": "[64:ff9b::a9fe:a9fe]",
    "NAT64 private": "[64:ff9b::c0a8:101]",
    "local-use NAT64": "[64:ff9b:1::5db8:d822]",
    "6to4 loopback": "[2002:7f00:1::1]",
    "6to4 metadata": "[2002:a9fe:a9fe::1]",
    "6to4 private": "[2002:a00:1::1]",
    "Teredo carrying loopback": "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
}
# Public addresses, and NAT64/6to4 forms of a public IPv4 address.
ACCEPTED = ["93.184.216.34", "[2606:4700::1111]", "[64:ff9b::5db8:d822]", "[2002:5db8:d822::1]"]


def source_http(local: bool = False, **fields) -> SourceHttp:
    return SourceHttp(
        HttpSourceConfig(name="probe", local=local, attempts=1, requests_per_second=1000, **fields)
    )


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_a_collector_refuses_every_internal_address_form_before_connecting(address: str):
    with pytest.raises(UnsafeAddressError, match=r"`local: true` allows it"):
        source_http().get(f"http://{address}:9/feed")


@pytest.mark.parametrize("address", ACCEPTED)
def test_public_addresses_and_their_ipv6_forms_pass_the_guard(address: str):
    host = address.strip("[]")
    assert AddressGuard().addresses(host, 443) == [host]


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    yield server
    server.stop()


def test_dns_rebinding_cannot_turn_a_checked_name_into_loopback(
    http_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
):
    """The resolver answers a public address first and loopback after: only the first answer is used."""
    http_server.script("/feed", Reply(200, {"secret": "internal"}))
    port = int(http_server.url.rsplit(":", 1)[1])
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    real = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host != "feed.rebind.test":
            return real(host, *args, **kwargs)
        address = next(answers)
        calls.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(CollectorError):  # 93.184.216.34 does not answer here (or not on that port)
        source_http(timeout_seconds=2).get(f"http://feed.rebind.test:{port}/feed")
    assert http_server.seen() == []  # the loopback server was never reached
    assert calls == ["93.184.216.34"]  # resolved once, and that answer was the one used


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only `localhost`; records the Host headers."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            hosts.append(self.headers.get("Host", ""))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, hosts
    server.shutdown()


def test_tls_checks_the_url_host_name_while_connecting_to_the_checked_address(
    tls_server: tuple[int, Path, list[str]],
):
    port, cert, hosts = tls_server
    trusted = ssl.create_default_context(cafile=str(cert))
    to_loopback = guarded_client(allow_local=True, resolver=lambda host, _: ["127.0.0.1"], verify=trusted)
    assert to_loopback.get(f"https://localhost:{port}/").text == "ok"
    assert hosts == [f"localhost:{port}"]  # Host header (and SNI) keep the name, not the address
    with pytest.raises(httpx.ConnectError, match="(?i)certificate|hostname"):
        to_loopback.get(f"https://impostor.example:{port}/")  # same address, a name the certificate lacks
    assert hosts == [f"localhost:{port}"]


def test_a_webhook_to_an_internal_address_is_refused_unless_local(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ECOUTE_WEBHOOK_SECRET", SECRET)
    alert = Alert(
        id="a1",
        rule="r",
        mention_id="m1",
        recipients=["cm@lumio.example"],
        created_at=datetime.now(UTC),
        summary="s",
    )
    links = Links(mention="https://ecoute.example/alerts?alert=a1", customer=None, rule="r", original=None)
    with webhook_receiver() as receiver:
        hook = WebhookChannel(name="crm", url=receiver.url)
        with pytest.raises(
            ChannelError,
            match=r"webhook crm: 127\.0\.0\.1 is a private or local address \(127\.0\.0\.1: a loopback",
        ):
            send_webhook(hook, alert, links)
        metadata = WebhookChannel(name="crm", url="http://[64:ff9b::a9fe:a9fe]/latest/meta-data/")
        with pytest.raises(ChannelError, match="cloud metadata address, inside an IPv6 address"):
            send_webhook(metadata, alert, links)
        assert receiver.received == []
        send_webhook(hook.model_copy(update={"local": True}), alert, links)  # an intranet receiver, allowed
        assert len(receiver.received) == 1


def test_an_alert_delivery_to_an_internal_webhook_fails_with_the_reason(
    es: Elasticsearch, names: IndexNames, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ECOUTE_WEBHOOK_SECRET", SECRET)
    with webhook_receiver() as receiver:
        settings = AlertsConfig.model_validate(
            {
                "builtin_rules": False,
                "default_recipients": ["community@lumio.example"],
                "rules": [{"name": "unhappy", "sentiment": ["negative"]}],
                "default_channels": ["webhook:crm"],
                "channels": {"webhooks": [{"name": "crm", "url": receiver.url}]},
            }
        )
        angry = make_mention(
            "w1", text="Lumio est en panne", sentiment=Label(label="negative", confidence=0.9)
        )
        Alerter(settings, es, names).handle([angry], CustomerDirectory([]))
        assert receiver.received == []
    (delivery,) = deliveries_of(es, names, [a.id for a in alerts_for(es, names)])
    assert delivery.status == "failed"
    assert "127.0.0.1 is a private or local address" in (delivery.last_error or "")


@pytest.mark.parametrize("host", ["127.0.0.1", "[64:ff9b::7f00:1]", "[2002:a9fe:a9fe::1]"])
def test_a_websocket_stream_to_an_internal_address_is_refused(host: str):
    with pytest.raises(UnsafeAddressError, match=r"`local: true` allows it"):
        connect_ws_socket("bsky", f"wss://{host}/subscribe", allow_local=False, timeout=2)
