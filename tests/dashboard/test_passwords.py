"""Dashboard users' password hashes: made by `ecoute users hash-password`, checked at sign-in."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from core.errors import ConfigError
from ecoute.cli import app
from ecoute.config import load_settings
from ecoute.passwords import hash_password, verify_password
from tests.conftest import ROOT
from tests.dashboard.helpers import APP, sign_in


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


def old_scrypt_hash(password: str) -> str:
    """A hash as Écoute wrote them before (N=2^14), made here with hashlib alone."""
    salt = b"sixteen byte slt"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_a_new_hash_uses_owasp_scrypt_parameters_and_verifies():
    stored = hash_password("s3cret pass")
    assert stored.split("$")[1:4] == ["131072", "8", "1"]  # N=2^17, r=8, p=1
    assert verify_password("s3cret pass", stored)
    assert not verify_password("s3cret pasS", stored)


def test_an_old_hash_signs_in_and_is_replaced_by_a_stronger_one(
    monkeypatch: pytest.MonkeyPatch, settings_file: Path
):
    data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    old = old_scrypt_hash("before 2026")
    data["auth"]["users"].append(
        {"email": "old@lumio.example", "name": "Olga", "role": "admin", "password_hash": old}
    )
    settings_file.write_text(
        "# kept: a comment of the admin's\n" + yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    settings_file.chmod(0o600)  # it holds every user's hash
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))

    at = sign_in(
        AppTest.from_file(str(APP), default_timeout=30).run(timeout=30), "old@lumio.example", "before 2026"
    )

    assert at.session_state["auth"]["email"] == "old@lumio.example"
    text = settings_file.read_text(encoding="utf-8")
    assert old not in text and text.startswith("# kept: a comment of the admin's\n")
    assert settings_file.stat().st_mode & 0o777 == 0o600
    (user,) = [u for u in load_settings(settings_file).auth.users if u.email == "old@lumio.example"]
    assert user.password_hash.split("$")[1:4] == ["131072", "8", "1"]
    assert verify_password("before 2026", user.password_hash)
    again = sign_in(
        AppTest.from_file(str(APP), default_timeout=30).run(timeout=30), "old@lumio.example", "before 2026"
    )
    assert again.session_state["auth"]["email"] == "old@lumio.example"
