"""Sign-in attempts are slowed per address on the server, and every page checks the role itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from streamlit.runtime.context import ContextProxy
from streamlit.testing.v1 import AppTest

from dashboard.auth import SignInThrottle
from dashboard.text import t
from ecoute.config import AuthConfig
from ecoute.passwords import hash_password
from index.mentions import index_mentions
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


class ClientAddress:
    """The address Streamlit reads from the browser's websocket, which AppTest has no way to set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: str | None = None
        monkeypatch.setattr(ContextProxy, "ip_address", property(lambda _: self.now))

    def browser(self, address: str | None) -> AppTest:
        """A new browser session connecting from `address` (None: loopback, as Streamlit reports it)."""
        self.now = address
        return AppTest.from_file(str(APP), default_timeout=30).run(timeout=30)


# The throttle is shared by the whole process: each test attacks from an address of its own.
ATTACKERS = iter(f"203.0.113.{n}" for n in range(1, 255))
USER = "198.51.100.7"
# Long enough that no test run, however slow, outlives the first wait.
SLOW = {"first_delay_seconds": 600, "lockout_minutes": 15}


def test_wrong_passwords_slow_the_address_that_typed_them_in_every_browser_session(
    monkeypatch: pytest.MonkeyPatch, settings_file: Path, es, names
):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    email = f"lea.{names.prefix}@lumio.example"
    app_with_user(monkeypatch, settings_file, email, max_failed_sign_ins=3, **SLOW)
    network, attacker = ClientAddress(monkeypatch), next(ATTACKERS)
    at = network.browser(attacker)
    for _ in range(3):
        at = sign_in(at, email, "wrong")
        assert [e.value for e in at.error] == [t("sign_in_wrong")]
    at = sign_in(at, email, "right")  # the right password, but this address must wait: not even checked
    assert [e.value for e in at.error] == [t("sign_in_wait", wait="10 min")]
    assert "auth" not in at.session_state and "Lumio secret du jour." not in [el.value for el in at.text]
    other_browser = sign_in(network.browser(attacker), email, "right")
    assert [e.value for e in other_browser.error] == [t("sign_in_wait", wait="10 min")]


def test_the_real_user_from_another_address_signs_in_at_once(
    monkeypatch: pytest.MonkeyPatch, settings_file: Path, es, names
):
    """Knowing a colleague's email is not enough to keep them out (it used to lock the email)."""
    email = f"lea.{names.prefix}@lumio.example"
    app_with_user(monkeypatch, settings_file, email, max_failed_sign_ins=3, **SLOW)
    network, attacker = ClientAddress(monkeypatch), next(ATTACKERS)
    at = network.browser(attacker)
    for _ in range(6):
        at = sign_in(at, email, "wrong")
    assert [e.value for e in at.error] == [t("sign_in_wait", wait="10 min")]
    user = sign_in(network.browser(USER), email, "right")
    assert not user.error and user.session_state["auth"]["email"] == email
    at_home = sign_in(network.browser(None), email, "right")  # and from the machine itself
    assert not at_home.error and at_home.session_state["auth"]["email"] == email


def test_one_address_guessing_across_many_emails_is_slowed_too(
    monkeypatch: pytest.MonkeyPatch, settings_file: Path, es, names
):
    email = f"lea.{names.prefix}@lumio.example"
    app_with_user(
        monkeypatch, settings_file, email, max_failed_sign_ins=3, max_failed_sign_ins_per_address=4, **SLOW
    )
    network, attacker = ClientAddress(monkeypatch), next(ATTACKERS)
    at = network.browser(attacker)
    for guessed in ("a@lumio.example", "b@lumio.example", "c@lumio.example", email):
        at = sign_in(at, guessed, "wrong")  # one wrong password per email: no pair reaches its limit
    at = sign_in(at, email, "right")
    assert [e.value for e in at.error] == [
        t("sign_in_wait", wait="10 min")
    ] and "auth" not in at.session_state
    user = sign_in(network.browser(USER), email, "right")
    assert user.session_state["auth"]["email"] == email


def test_the_wait_doubles_after_each_wrong_password_up_to_the_longest():
    auth = AuthConfig(max_failed_sign_ins=2, first_delay_seconds=1, lockout_minutes=1)
    throttle, attacker = SignInThrottle(), "203.0.113.250"
    waits = []
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    for _ in range(10):
        throttle.failed(attacker, "lea@lumio.example", auth, now)
        waits.append(throttle.wait(attacker, "lea@lumio.example", auth, now).total_seconds())
        now += timedelta(seconds=waits[-1])  # the attacker tries again as soon as allowed
    assert waits == [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert throttle.wait(USER, "lea@lumio.example", auth, now) == timedelta(0)
    # quiet for a whole longest wait after the last one ended: forgiven
    assert throttle.wait(attacker, "lea@lumio.example", auth, now + timedelta(minutes=1)) == timedelta(0)
    throttle.failed(attacker, "lea@lumio.example", auth, now + timedelta(minutes=1))
    assert throttle.wait(attacker, "lea@lumio.example", auth, now + timedelta(minutes=1)) == timedelta(0)


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
