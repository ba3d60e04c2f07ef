"""Connection to Elasticsearch: a real cluster from config, or the embedded stand-in started here."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal, Protocol

import httpx
from elasticsearch import ApiError, Elasticsearch, TransportError

from core.config import ElasticsearchConfig, IndexConfig, Secrets
from core.errors import IndexUnavailableError


@dataclass(frozen=True)
class IndexNames:
    """The prefix of every alias (tests give each run its own) and the period of the mentions' indices.

    Each document type's alias is `<prefix>-<name>`, declared by the index module that owns it
    (index/catalog.py); mentions live in one index per period (`granularity`) of their `created_at`,
    all behind their alias (index/periods.py).
    """

    prefix: str = "ecoute"
    granularity: Literal["month", "week"] = "month"

    @classmethod
    def of(cls, config: ElasticsearchConfig, index: IndexConfig) -> IndexNames:
        """The names config.yaml gives (prefix and mention period)."""
        return cls(config.index_prefix, index.granularity)


class IndexSettings(Protocol):
    """What opening the index reads from the settings (`Settings` has it): the elasticsearch block and
    the state folder the embedded stand-in keeps its data in."""

    @property
    def elasticsearch(self) -> ElasticsearchConfig: ...

    @property
    def state_dir(self) -> Path: ...

    def resolve(self, path: Path) -> Path: ...


def embedded_server(settings: IndexSettings) -> EmbeddedServer:
    """The embedded stand-in of these settings: its port, its data under state_dir (not started here)."""
    return EmbeddedServer(settings.resolve(settings.state_dir), settings.elasticsearch.embedded_port)


def index_url(settings: IndexSettings) -> str:
    """Where the index answers: elasticsearch.url, or the embedded stand-in's loopback address."""
    return settings.elasticsearch.url or embedded_server(settings).url


def open_index(
    settings: IndexSettings,
    *,
    start_embedded: bool = True,
    check: bool = True,
    request_timeout: float | None = None,
) -> Elasticsearch:
    """A client for the configured cluster, or for the embedded stand-in when elasticsearch.url is unset
    (or empty).

    `start_embedded` starts a stand-in that is not running; otherwise, with `check`, one that is not
    running is an IndexUnavailableError naming `ecoute es up`. `check` also asks the index its version.
    Without either nothing is asked: the first request finds out (a dashboard page, the API).
    `request_timeout` replaces elasticsearch.request_timeout for this client.
    """
    config = settings.elasticsearch
    url = config.url
    if not url:
        server = embedded_server(settings)
        if start_embedded:
            server.start()
        elif check and not server.answers():
            raise IndexUnavailableError(
                f"embedded Elasticsearch is not running on {server.url}: run `ecoute es up`"
            )
        url = server.url
    if request_timeout is not None:
        config = config.model_copy(update={"request_timeout": request_timeout})
    es = connect(url, config)
    if check:
        ping(es)
    return es


def connect(url: str, config: ElasticsearchConfig, secrets: Secrets | None = None) -> Elasticsearch:
    """A client for `url`, with credentials from the environment and TLS verification on."""
    secrets = secrets or Secrets()
    kwargs: dict = {"request_timeout": config.request_timeout}
    if url.startswith("https://"):
        kwargs["verify_certs"] = config.verify_certs
        if config.ca_certs:
            kwargs["ca_certs"] = str(config.ca_certs)
    if secrets.es_api_key:
        kwargs["api_key"] = secrets.es_api_key.get_secret_value()
    elif secrets.es_username and secrets.es_password:
        kwargs["basic_auth"] = (secrets.es_username, secrets.es_password.get_secret_value())
    return Elasticsearch(url, **kwargs)


def ping(es: Elasticsearch) -> str:
    """Server version, or IndexUnavailableError with the reason."""
    try:
        return es.info()["version"]["number"]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"Elasticsearch at {_hosts(es)} is unreachable: {exc}") from exc


def _hosts(es: Elasticsearch) -> str:
    return ", ".join(f"{n.scheme}://{n.host}:{n.port}" for n in es.transport.node_pool.all())


class EmbeddedServer:
    """The `noida-db` Elasticsearch stand-in, started on loopback with its data under state_dir."""

    def __init__(self, state_dir: Path, port: int = 9200) -> None:
        self.state_dir = Path(state_dir)
        self.port = port
        self.data_dir = self.state_dir / "elasticsearch"
        self.pid_file = self.state_dir / "elasticsearch.pid"
        self.log_file = self.state_dir / "elasticsearch.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start the server unless one of ours already answers; return its URL."""
        if self.answers():
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        binary = _binary()
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [
                    str(binary), "start", "--only", "elasticsearch",
                    "--host", "127.0.0.1", "--elasticsearch-port", str(self.port),
                    "--data-dir", str(self.data_dir),
                ],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if self.answers():
                return self.url
            time.sleep(0.1)
        self.stop()
        raise IndexUnavailableError(
            f"embedded Elasticsearch did not answer on {self.url} within {timeout:.0f}s: "
            f"{self.last_log_line() or 'no output'} (log: {self.log_file})"
        )

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the server by its PID; True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            self.pid_file.unlink(missing_ok=True)
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self) -> bool:
        try:
            return httpx.get(self.url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def last_log_line(self) -> str:
        """Last meaningful log line; the binary's harmless GLIBC_2.39 notice is left out."""
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        useful = [line for line in lines if line.strip() and "GLIBC_2.39" not in line]
        return useful[-1] if useful else ""


def _binary() -> Path:
    path = Path(str(files("noida_db").joinpath("noida-db")))
    if not path.is_file():
        raise IndexUnavailableError(f"embedded Elasticsearch binary not found at {path}")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def free_port() -> int:
    """A TCP port nothing listens on right now (for tests and `--port 0`)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
