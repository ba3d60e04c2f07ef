"""Forum sources are registered: config.yaml blocks validate, build collectors, errors read well."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from collectors.registry import build_collector
from core.errors import ConfigError
from ecoute.config import load_settings
from tests.conftest import ROOT

FORUM_TYPES = {"discourse", "stackexchange", "hackernews", "reddit"}


def test_shipped_examples_validate_and_build_their_collectors():
    settings = load_settings(ROOT / "config.yaml")
    forum_sources = [s for s in settings.sources if s.type in FORUM_TYPES]
    assert {s.type for s in forum_sources} == FORUM_TYPES
    for source in forum_sources:
        assert source.enabled is False  # examples only: they reach the internet
        collector = build_collector(source, settings.base_dir)
        assert collector.type == source.type


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"type": "reddit", "queries": ["x"], "colour": "red"}, "sources.0.colour: unknown key"),
        ({"type": "reddit", "queries": ["x"], "page_size": 500}, "sources.0.page_size: Input should be"),
    ],
)
def test_a_bad_block_is_one_line_naming_the_key(tmp_path: Path, block: dict, message: str):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["sources"] = [{"name": "bad", **block}]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    assert message in str(refused.value)
    assert f".{block['type']}." not in str(refused.value)
