"""index.client.open_index: how every caller reaches the index from its settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import ConnectionError as ClientConnectionError

from core.errors import IndexUnavailableError
from ecoute.config import Settings
from index.client import embedded_server, free_port, index_url, open_index


def stand_in_settings(settings: Settings, state_dir: Path, url: str | None = None) -> Settings:
    """The settings with no elasticsearch.url (unset or empty): a stand-in of their own, not started."""
    elasticsearch = settings.elasticsearch.model_copy(update={"url": url, "embedded_port": free_port()})
    return settings.model_copy(update={"elasticsearch": elasticsearch, "state_dir": state_dir})


@pytest.mark.parametrize("configured", [None, ""])
def test_a_stand_in_that_is_not_running_is_one_error_saying_how_to_start_it(
    settings: Settings, tmp_path: Path, configured: str | None
):
    stopped = stand_in_settings(settings, tmp_path, configured)
    url = embedded_server(stopped).url
    with pytest.raises(IndexUnavailableError) as raised:
        open_index(stopped, start_embedded=False)
    assert str(raised.value) == f"embedded Elasticsearch is not running on {url}: run `ecoute es up`"


def test_without_check_nothing_is_asked_before_the_first_request(settings: Settings, tmp_path: Path):
    stopped = stand_in_settings(settings, tmp_path)
    es = open_index(stopped, start_embedded=False, check=False, request_timeout=2)
    assert index_url(stopped) == embedded_server(stopped).url
    with pytest.raises(ClientConnectionError):
        es.info()


def test_a_configured_cluster_is_opened_and_asked_its_version(settings: Settings):
    es = open_index(settings)
    assert index_url(settings) == settings.elasticsearch.url
    assert es.info()["version"]["number"]
