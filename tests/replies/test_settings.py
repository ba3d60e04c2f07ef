"""The `replies:` block of config.yaml: checked at start-up, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from ecoute.config import load_settings
from tests.conftest import ROOT


def config_with(tmp_path: Path, replies: object) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["replies"] = replies
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_replies_are_sent_without_approval_unless_asked(tmp_path: Path):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    del data["replies"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    replies = load_settings(path).replies
    assert (replies.require_approval, replies.approvers) == (False, ["admin", "marketer"])
    asked = load_settings(config_with(tmp_path, {"require_approval": True, "approvers": ["admin"]})).replies
    assert (asked.require_approval, asked.approvers) == (True, ["admin"])


@pytest.mark.parametrize(
    ("replies", "said"),
    [
        ({"approvers": ["boss"]}, "replies.approvers.0: Input should be 'community_manager'"),
        ({"approvers": []}, "replies.approvers: List should have at least 1 item"),
        ({"require_aproval": True}, "replies.require_aproval: unknown key"),
    ],
)
def test_a_wrong_replies_block_is_one_line_naming_the_key(tmp_path: Path, replies: dict, said: str):
    with pytest.raises(ConfigError) as refused:
        load_settings(config_with(tmp_path, replies))
    assert said in str(refused.value) and "\n" not in str(refused.value)
