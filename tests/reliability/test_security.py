"""Security by default: no secret in any output, log or state file; TLS certificates checked."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collectors.base import CollectorError
from collectors.rss import RssCollector, RssConfig
from core.config import ElasticsearchConfig
from core.errors import IndexUnavailableError
from index.client import connect, free_port, ping
from tests.reliability.conftest import posts_config, write_posts
from tests.reliability.proxy import FaultProxy

SECRETS = {
    "ES_USERNAME": "ecoute-writer",
    "ES_PASSWORD": "es-pw-7f3a9c1e",
    "ES_API_KEY": "",
    "SMTP_PASSWORD": "smtp-pw-b81d44",
    "ECOUTE_PSEUDONYM_KEY": "pseudonym-key-c55e02",
    "ESPOCRM_API_KEY": "espo-key-9e0f21",
}


def ecoute(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ecoute", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def unseen_copies(posts: Path, folder: Path) -> Path:
    """The same posts under ids the index has not seen, so a run must write them (known ones are only
    compared with what is stored)."""
    lines = [json.loads(line) for line in posts.read_text(encoding="utf-8").splitlines()]
    return write_posts(
        folder / "posts.jsonl", [{**post, "native_id": f"{post['native_id']}-again"} for post in lines]
    )


def test_no_secret_reaches_the_output_logs_or_state_files(
    tmp_path: Path, es_server, names, forty_posts: Path
):
    import os

    env = {**os.environ, **SECRETS}
    proxy = FaultProxy(es_server.url)
    try:
        good = posts_config(
            tmp_path,
            es_server.url,
            names.prefix,
            forty_posts,
            privacy={"pseudonymise_unlinked_authors": True},
        )
        runs = [ecoute("collect", "posts", "--config", str(good), cwd=tmp_path, env=env)]
        assert runs[0].returncode == 0, runs[0].stderr
        busy = tmp_path / "busy"
        busy.mkdir()
        proxy.faults.bulk_status = 429  # the warnings of a spooling run carry the index's answers
        runs.append(
            ecoute(
                "collect",
                "posts",
                "--config",
                str(posts_config(busy, proxy.url, names.prefix, unseen_copies(forty_posts, busy))),
                "--since",
                "2000-01-01",
                cwd=busy,
                env=env,
            )
        )
        assert "spooled until the index is back" in runs[-1].stdout
        down = tmp_path / "down"
        down.mkdir()
        dead = posts_config(down, f"http://127.0.0.1:{free_port()}", names.prefix, forty_posts)
        runs.append(ecoute("collect", "posts", "--config", str(dead), cwd=down, env=env))
        assert runs[-1].returncode == 2 and "unreachable" in runs[-1].stderr
        runs.append(ecoute("es", "status", "--config", str(good), cwd=tmp_path, env=env))
    finally:
        proxy.close()
    written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    for secret in (v for v in SECRETS.values() if v):
        for run in runs:
            assert secret not in run.stdout + run.stderr
        assert not any(secret in text for text in written)
    assert "Traceback" not in "".join(r.stderr for r in runs)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on loopback, self-signed, that answers like Elasticsearch or a feed."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path.endswith(".xml"):
                body, kind = (
                    b"<rss version='2.0'><channel><title>t</title></channel></rss>",
                    "application/rss+xml",
                )
            else:
                body, kind = (
                    json.dumps({"version": {"number": "8.15.0"}, "tagline": "You Know, for Search"}).encode(),
                    "application/json",
                )
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()


def test_elasticsearch_over_https_verifies_the_certificate_by_default(self_signed: tuple[str, Path]):
    url, cert = self_signed
    assert ElasticsearchConfig().verify_certs is True
    with pytest.raises(IndexUnavailableError, match="(?i)certificate"):
        ping(connect(url, ElasticsearchConfig(request_timeout=5)))
    assert ping(connect(url, ElasticsearchConfig(ca_certs=cert))) == "8.15.0"  # trusted once its CA is given


def test_a_feed_over_https_with_an_untrusted_certificate_is_refused(self_signed: tuple[str, Path]):
    url, _ = self_signed
    config = RssConfig(name="feed", url=f"{url}/feed.xml", local=True, attempts=1)
    with pytest.raises(CollectorError, match="(?i)certificate"):
        RssCollector(config).fetch({})
