"""Sign-in attempts are limited per email on the server, and every page checks the role itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard.text import t
from ecoute.passwords import hash_password
from index.writes import index_mentions
from tests.dashboard.helpers import APP, sign_in
from tests.dashboard.test_pages import mention


def app_with_user(monkeypatch: pytest.MonkeyPatch, settings_file: Path, email: str, **auth: int) -> AppTest:
    data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    data["auth"]["users"].append(
        {
            "email": email,
            "name": "Léa Test",
            "role": "community_manager",
            "password_hash": hash_password("right"),
        }
    )
    data["auth"].update(auth)
    settings_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))
    return AppTest.from_file(str(APP), default_timeout=30).run(timeout=30)


def test_repeated_wrong_passwords_lock_the_email_in_every_browser_session(
    monkeypatch: pytest.MonkeyPatch, settings_file: Path, es, names
):

    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    email = f"lea.{names.prefix}@lumio.example"
    at = app_with_user(monkeypatch, settings_file, email, max_failed_sign_ins=3, lockout_minutes=15)
    for _ in range(3):
        at = sign_in(at, email, "wrong")
        assert [e.value for e in at.error] == [t("sign_in_wrong")]
    at = sign_in(at, email, "right")  # the right password, too late
    assert [e.value for e in at.error] == [t("sign_in_locked", minutes=15)]
    assert "auth" not in at.session_state and "Lumio secret du jour." not in [el.value for el in at.text]
    other_browser = sign_in(AppTest.from_file(str(APP), default_timeout=30).run(timeout=30), email, "right")
    assert [e.value for e in other_browser.error] == [t("sign_in_locked", minutes=15)]
    someone_else = sign_in(AppTest.from_file(str(APP), default_timeout=30).run(timeout=30))
    assert "auth" in someone_else.session_state  # other accounts are not locked out


@pytest.mark.parametrize(
    ("page", "email", "role"),
    [
        ("pages/insights.py", "sarah.whitfield@lumio.example", "sales"),
        ("pages/review.py", "sarah.whitfield@lumio.example", "sales"),
        ("pages/admin.py", "community@lumio.example", "community_manager"),
    ],
)
def test_a_page_opened_by_its_address_checks_the_role_on_the_server(
    page: str, email: str, role: str, dashboard, es, names
):

    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    at = dashboard("pages/alerts.py", as_user=email)
    at.switch_page(page).run(timeout=30)
    assert not at.exception
    assert [e.value for e in at.error] == [t("not_allowed", role=t(f"role_{role}"))]
    assert "Lumio secret du jour." not in [el.value for el in at.text]
