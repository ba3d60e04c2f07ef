"""The review and comment sources as config.yaml blocks: registered, built, and their mistakes explained."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from collectors.appstore import AppStoreCollector
from collectors.googleplay import GooglePlayCollector
from collectors.registry import build_collector
from collectors.reviewpage import ReviewPageCollector
from collectors.webhook import WebhookCollector
from collectors.youtube import YoutubeCollector
from core.errors import ConfigError
from ecoute.config import load_settings
from tests.conftest import ROOT

BUILT = {
    "lumio-youtube": YoutubeCollector,
    "lumio-appstore": AppStoreCollector,
    "lumio-googleplay": GooglePlayCollector,
    "lumio-review-pages": ReviewPageCollector,
    "lumio-helpdesk": WebhookCollector,
}


def test_the_shipped_examples_load_disabled_and_build_their_collectors(tmp_path: Path):
    settings = load_settings(ROOT / "config.yaml")
    for name, kind in BUILT.items():
        config = settings.source(name)
        assert config.enabled is False
        assert isinstance(build_collector(config, settings.base_dir, tmp_path), kind)
    helpdesk = build_collector(settings.source("lumio-helpdesk"), settings.base_dir, tmp_path)
    assert helpdesk.path == tmp_path / "webhooks" / "lumio-helpdesk.jsonl"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"name": "yt", "type": "youtube"}, "sources.0: Value error, set video_ids or channel_ids"),
        ({"name": "ios", "type": "appstore", "app_id": "lumio"}, "sources.0.app_id: String should match"),
        ({"name": "ios", "type": "appstore", "app_id": "1", "max_pages": 11}, "sources.0.max_pages: Input"),
        ({"name": "gp", "type": "googleplay"}, "sources.0.package_name: required key is missing"),
        ({"name": "rp", "type": "reviewpage", "urls": ["ftp://x"]}, "sources.0.urls.0: URL scheme should be"),
        ({"name": "wh", "type": "webhook", "secret": "inline"}, "sources.0.secret: unknown key"),
    ],
)
def test_a_wrong_block_is_one_line_naming_the_key(tmp_path: Path, block: dict, message: str):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"brand": {"name": "Lumio"}, "sources": [block]}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    line = str(caught.value)
    assert "\n" not in line and message in line
