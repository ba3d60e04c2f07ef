"""collectors/http.py against a real local server: address guard, retries, body limit, pacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from collectors.base import CollectorError
from collectors.http import (
    HttpSourceConfig,
    SourceHttp,
    UnsafeAddressError,
    check_url,
    retry_after_seconds,
    safe_link,
)
from tests.collectors.conftest import Reply, ScriptedServer


def http_for(local: bool = True, **overrides) -> SourceHttp:
    fields = {"attempts": 3, "max_wait_seconds": 0.05, "requests_per_second": 1000, **overrides}
    return SourceHttp(HttpSourceConfig(name="probe", local=local, **fields))


def test_loopback_server_is_refused_unless_the_source_is_local(http_server: ScriptedServer):
    http_server.script("/feed", Reply(200, {"ok": True}))
    with pytest.raises(UnsafeAddressError) as refused:
        http_for(local=False).get(f"{http_server.url}/feed")
    assert "probe" in str(refused.value) and "`local: true` allows it" in str(refused.value)
    # refused before any byte was sent
    assert http_server.seen() == []
    assert http_for(local=True).get_json(f"{http_server.url}/feed") == {"ok": True}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)"])
def test_non_http_schemes_are_refused_even_for_local_sources(url: str):
    with pytest.raises(UnsafeAddressError, match="only http and https"):
        http_for(local=True).get(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.1.20:8080/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata endpoint
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
        "http://[fd00::1]/",
        "http://0.0.0.0/",
    ],
)
def test_check_url_refuses_private_loopback_and_link_local_addresses(url: str):
    # IP literals resolve without DNS, so this exercises the address classification itself.
    with pytest.raises(UnsafeAddressError):
        check_url(url)
    check_url(url, allow_local=True)


def test_check_url_accepts_a_public_address():
    check_url("https://93.184.216.34/feed.xml")


def test_every_redirect_hop_is_checked(http_server: ScriptedServer):
    """A redirect is followed through the same guard as the first request.

    A local source may follow a redirect to another local path, but a redirect to a non-http
    scheme is refused by the guard on the second hop. (A redirect from a public host to a
    private one cannot be staged without a public server; check_url's refusal of private
    addresses is proven by the test above and is the same function the hook calls.)
    """
    http_server.script("/start", Reply(302, headers={"Location": "/final"}))
    http_server.script("/final", Reply(200, {"hop": 2}))
    assert http_for().get_json(f"{http_server.url}/start") == {"hop": 2}
    assert [r.path for r in http_server.seen()] == ["/start", "/final"]

    http_server.script("/sneaky", Reply(302, headers={"Location": "ftp://127.0.0.1/secret"}))
    with pytest.raises(UnsafeAddressError, match="only http and https"):
        http_for().get(f"{http_server.url}/sneaky")


def test_429_with_retry_after_is_waited_out_then_succeeds(http_server: ScriptedServer):
    http_server.script(
        "/busy", Reply(429, {"error": "slow down"}, headers={"Retry-After": "1"}), Reply(200, {"n": 1})
    )
    http = http_for(max_wait_seconds=2)
    assert http.get_json(f"{http_server.url}/busy") == {"n": 1}
    first, second = http_server.seen("/busy")
    # the pause is at least what the server asked for (a lower bound: a slow machine only adds to it)
    assert second.at - first.at >= 0.95


def test_5xx_every_attempt_becomes_one_collector_error(http_server: ScriptedServer):
    http_server.script("/down", Reply(503, "maintenance"))
    with pytest.raises(CollectorError) as failed:
        http_for(attempts=3).get(f"{http_server.url}/down")
    assert str(failed.value) == f"probe: {http_server.url}/down: HTTP 503 after 3 attempts"
    assert len(http_server.seen("/down")) == 3


def test_4xx_is_not_retried_and_get_json_reports_the_status(http_server: ScriptedServer):
    http_server.script("/gone", Reply(404, {"error": "not found"}))
    with pytest.raises(CollectorError, match="HTTP 404"):
        http_for().get_json(f"{http_server.url}/gone")
    assert len(http_server.seen("/gone")) == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_max_body_bytes_is_refused(http_server: ScriptedServer, chunked: bool):
    http_server.script("/huge", Reply(200, b"x" * 5000, chunked=chunked))
    with pytest.raises(CollectorError, match="body larger than 1024 bytes, not read"):
        http_for(max_body_bytes=1024).get(f"{http_server.url}/huge")
    http_server.script("/small", Reply(200, b"y" * 1000, chunked=chunked))
    assert http_for(max_body_bytes=1024).get(f"{http_server.url}/small").content == b"y" * 1000


def test_invalid_utf8_json_is_decoded_with_replacement_characters(http_server: ScriptedServer):
    http_server.script(
        "/latin1", Reply(200, b'{"text": "caf\xe9 cr\xe8me"}', content_type="application/json")
    )
    assert http_for().get_json(f"{http_server.url}/latin1") == {"text": "caf\ufffd cr\ufffdme"}


def test_a_body_that_is_not_json_is_one_clear_error(http_server: ScriptedServer):
    http_server.script("/html", Reply(200, "<html>oops</html>", content_type="text/html"))
    with pytest.raises(CollectorError, match=r"not JSON \(Expecting value at line 1 column 1\)"):
        http_for().get_json(f"{http_server.url}/html")


def test_a_slow_server_times_out_with_one_line(http_server: ScriptedServer):
    import time

    def slow(_request):
        time.sleep(0.6)
        return Reply(200, {"late": True})

    http_server.route("/slow", slow)
    with pytest.raises(CollectorError, match=r"timed out after 0.2s"):
        http_for(attempts=1, timeout_seconds=0.2).get(f"{http_server.url}/slow")


def test_requests_to_one_host_are_paced(http_server: ScriptedServer):
    """At 4 requests/s per host, three requests cannot all arrive within the first quarter second.

    Only a coarse lower bound is asserted: the limiter must spread them, a slow machine only
    spreads them more.
    """
    http_server.script("/paced", Reply(200, {}))
    http = http_for(requests_per_second=4)
    for _ in range(3):
        http.get(f"{http_server.url}/paced")
    seen = http_server.seen("/paced")
    assert len(seen) == 3
    assert seen[0].at <= seen[1].at <= seen[2].at
    assert seen[2].at - seen[0].at >= 0.25


def test_sent_headers_name_ecoute_and_tls_verification_is_on(http_server: ScriptedServer):
    http_server.script("/ua", Reply(200, {}))
    http = http_for()
    http.get(f"{http_server.url}/ua")
    assert http_server.seen("/ua")[0].header("User-Agent").startswith("Ecoute/")
    # httpx keeps the verify setting on the transport's SSL context
    assert http.client._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("-3") == 0.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 50 <= retry_after_seconds(in_a_minute) <= 60
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_safe_link_keeps_only_http_links():
    assert safe_link(" https://example.org/a ") == "https://example.org/a"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("data:text/html,<script>") is None
    assert safe_link("//example.org/no-scheme") is None
    assert safe_link(42) is None
