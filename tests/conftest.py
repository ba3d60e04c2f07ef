"""Fixtures that start real things: the Elasticsearch stand-in, local HTTP servers, settings."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from core.config import ElasticsearchConfig
from ecoute.config import Settings, load_settings
from index.client import EmbeddedServer, IndexNames, connect, free_port
from index.schema import drop_indices, ensure_indices

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def es_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One embedded Elasticsearch stand-in for the whole test session, on a free port."""
    server = EmbeddedServer(tmp_path_factory.mktemp("es-state"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def es(es_server: EmbeddedServer) -> Elasticsearch:
    return connect(es_server.url, ElasticsearchConfig())


@pytest.fixture
def names(es: Elasticsearch) -> Iterator[IndexNames]:
    """A fresh set of Écoute indices with a prefix of this test's own; removed afterwards."""
    names = IndexNames(f"t{uuid.uuid4().hex[:10]}")
    ensure_indices(es, names)
    yield names
    drop_indices(es, names)


def write_config(tmp_path: Path, es_url: str, prefix: str, **overrides) -> Path:
    """A config.yaml in tmp_path based on the shipped one, pointed at the test server."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["elasticsearch"] = {"url": es_url, "index_prefix": prefix}
    data["state_dir"] = str(tmp_path / "state")
    for source in data["sources"]:
        if source.get("type") == "file":
            source["path"] = str(ROOT / source["path"])
    data["crm"]["customers_csv"] = str(ROOT / data["crm"]["customers_csv"])
    data.update(overrides)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def settings_file(tmp_path: Path, es_server: EmbeddedServer, names: IndexNames) -> Path:
    return write_config(tmp_path, es_server.url, names.prefix)


@pytest.fixture
def settings(settings_file: Path) -> Settings:
    return load_settings(settings_file)


@pytest.fixture
def artifacts_dir() -> Path:
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / Path(name).name
    shutil.copy(FIXTURES / name, target)
    return target
