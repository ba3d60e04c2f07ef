"""Dashboard users' password hashes: made by `ecoute users hash-password`, checked at sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ecoute.cli import app
from ecoute.config import load_settings
from ecoute.errors import ConfigError
from ecoute.passwords import verify_password
from tests.conftest import ROOT


def test_the_cli_hash_checks_the_password_and_nothing_else():
    result = CliRunner().invoke(app, ["users", "hash-password"], input="s3cret pass\ns3cret pass\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert verify_password("s3cret pass", stored)
    assert not verify_password("s3cret pas", stored)
    assert not verify_password("s3cret pass", stored.replace("scrypt$", "md5$"))


def test_a_malformed_hash_in_config_is_one_clear_line(tmp_path: Path):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["auth"]["users"][0]["password_hash"] = "lumio-demo"  # a password pasted instead of its hash
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"auth\.users\.0\.password_hash: Value error, not a password hash"):
        load_settings(config)
