"""Signed session cookies: a reload or a new tab stays signed in with its language, sign-out revokes, and
a link opened before signing in lands on its own page once signed in."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch

from core.documents import document_id
from dashboard import context, sessions
from dashboard.text import STRINGS, t
from ecoute.passwords import hash_password
from index.client import IndexNames
from index.customers import upsert_customers
from index.mentions import get_mentions_versioned, index_mentions
from index.triage import update_triage
from tests.dashboard.helpers import DEMO_PASSWORD, Browser, sign_in
from tests.dashboard.test_pages import mention
from tests.factories import make_customer

CM = "community@lumio.example"
SECRET = b"0123456789abcdef0123456789abcdef"


def test_a_token_is_refused_once_tampered_with_expired_or_signed_with_another_key():
    token = sessions.issue(SECRET, CM, "community_manager", "fr", minutes=5, password_hash="scrypt$…")
    claims = sessions.verify(SECRET, token)
    assert claims and (claims.email, claims.role, claims.lang) == (CM, "community_manager", "fr")
    version, payload, mac = token.split(".")
    forged = sessions.sign(b"another key, long enough......", claims)
    promoted = sessions.SessionClaims(claims.sid, CM, "admin", "fr", claims.exp, claims.pw)
    assert sessions.verify(SECRET, forged) is None
    assert sessions.verify(SECRET, f"{version}.{sessions.sign(SECRET, promoted).split('.')[1]}.{mac}") is None
    assert sessions.verify(SECRET, token, now=time.time() + 6 * 60) is None
    assert sessions.verify(SECRET, "v1.garbage.garbage") is None
    for junk in ("<!()", ' ;"', "\x00"):  # base64 decoders skip these: the signature would still match
        assert sessions.verify(SECRET, token + junk) is None
    assert sessions.verify(SECRET, None) is None


def test_the_generated_secret_is_private_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(sessions.SECRET_ENV, raising=False)
    first = sessions.session_secret(tmp_path / "state")
    assert len(first) >= 32
    mode = (tmp_path / "state" / sessions.SECRET_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    sessions._file_secret.cache_clear()
    assert sessions.session_secret(tmp_path / "state") == first
    monkeypatch.setenv(sessions.SECRET_ENV, "from-the-environment-0123456789")
    assert sessions.session_secret(tmp_path / "state") == b"from-the-environment-0123456789"
    monkeypatch.setenv(sessions.SECRET_ENV, "short")
    with pytest.raises(ValueError, match=sessions.SECRET_ENV):
        sessions.session_secret(tmp_path / "state")


def test_a_reload_keeps_the_session_and_the_language(es: Elasticsearch, names: IndexNames, browser: Browser):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    at = browser.tab()
    at.sidebar.selectbox(key="language").set_value("fr").run(timeout=30)
    at.text_input(key="sign_in_email").input(CM)
    at.text_input(key="sign_in_password").input(DEMO_PASSWORD)
    (button,) = [b for b in at.button if b.label == STRINGS["fr"]["sign_in"]]
    browser.keep(button.click().run(timeout=30))

    reloaded = browser.tab()
    assert not reloaded.exception
    assert [title.value for title in reloaded.title] == [STRINGS["fr"]["inbox_title"]]
    assert [el.value for el in reloaded.text] == ["Lumio secret du jour."]
    assert reloaded.session_state["language"] == "fr"


def test_signing_out_revokes_the_cookie_everywhere(es: Elasticsearch, names: IndexNames, browser: Browser):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    other_tab = sign_in(browser.tab(), CM)
    browser.keep(other_tab)
    at = browser.tab()  # AppTest shows app.py's sidebar on a tab's first page only: a fresh tab
    assert [el.value for el in at.text] == ["Lumio secret du jour."]
    copied = browser.jar[sessions.COOKIE]

    at.sidebar.button(key="sign_out").click().run(timeout=30)
    assert at.text_input(key="sign_in_email")
    other_tab.run(timeout=30)  # the other tab's next run: signed out too
    assert "Lumio secret du jour." not in [el.value for el in other_tab.text]
    assert other_tab.text_input(key="sign_in_email")
    browser.jar[sessions.COOKIE] = copied  # a copy of the cookie kept somewhere
    assert browser.tab().text_input(key="sign_in_email")


def test_a_forged_cookie_signs_nobody_in(browser: Browser):
    claims = sessions.SessionClaims("x", "admin@lumio.example", "admin", "en", int(time.time()) + 600, "x")
    browser.jar[sessions.COOKIE] = sessions.sign(b"a key the attacker picked......", claims)
    at = browser.tab()
    assert at.text_input(key="sign_in_email")
    assert not at.sidebar.get("button") or not [b for b in at.sidebar.button if b.key == "sign_out"]


def test_a_customer_link_lands_on_the_customer_after_signing_in(
    es: Elasticsearch, names: IndexNames, browser: Browser
):
    upsert_customers(es, names, [make_customer("C1", full_name="Julie Martin")])
    at = browser.tab("pages/customers.py", customer="C1")
    assert [title.value for title in at.title] == [t("sign_in_title")]
    at = sign_in(at, CM)
    assert not at.exception
    assert [title.value for title in at.title] == [t("customers_title")]
    assert at.selectbox(key="customer_pick").value == "C1"
    assert at.query_params["customer"] in ("C1", ["C1"])

    browser.keep(at)  # the same link in a new tab: no password asked
    tab = browser.tab("pages/customers.py", customer="C1")
    assert [title.value for title in tab.title] == [t("customers_title")]
    assert tab.selectbox(key="customer_pick").value == "C1"


def test_the_sidebar_counts_my_open_assignments(es: Elasticsearch, names: IndexNames, browser: Browser):
    """The toast for a new assignment needs a second run of app.py, which AppTest only gives a tab's first
    page: the browser test (tests/browser/dashboard.mjs) checks it."""
    index_mentions(es, names, [mention("a", "Lumio un.", hours=1), mention("b", "Lumio deux.", hours=2)])
    browser.keep(sign_in(browser.tab(), CM))
    assert t("assigned_badge", n=0, new=0) in [c.value for c in browser.tab().sidebar.caption]
    for native_id in ("a", "b"):
        found = document_id("test", native_id)
        version = _version(es, names, found)
        update_triage(es, names, found, {"assignee": CM}, "admin@lumio.example", *version)
    update_triage(es, names, found, {"status": "closed"}, CM, *_version(es, names, found))
    assert t("assigned_badge", n=1, new=0) in [c.value for c in browser.tab().sidebar.caption]


def _version(es: Elasticsearch, names: IndexNames, mention_id: str) -> tuple[int, int]:
    found = get_mentions_versioned(es, names, [mention_id])[mention_id]  # in its own period index
    return found.seq_no, found.primary_term


def test_a_mention_link_lands_on_that_mention_with_its_form_open(
    es: Elasticsearch, names: IndexNames, browser: Browser
):
    index_mentions(es, names, [mention(f"m{i}", f"Lumio {i}.", hours=i + 1) for i in range(55)])
    old = document_id("test", "m54")  # beyond the first page of 50
    at = browser.tab("pages/inbox.py", mention=old)
    at = sign_in(at, CM)
    assert not at.exception
    assert at.session_state["inbox_listed"][1][0] == old  # first in the list drawn
    assert old in at.session_state["triage_opened"]  # its triage form open (the browser test sees it)


def _change_user(settings_file: Path, email: str, **changes: str | None) -> None:
    """Edit one user in config.yaml (None removes them), then start the dashboard again on it."""
    data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    users = data["auth"]["users"]
    (user,) = [u for u in users if u["email"] == email]
    if changes.get("removed"):
        users.remove(user)
    else:
        user.update(changes)
    settings_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    context._open.clear()  # the dashboard reads config.yaml at start: a restart


def test_a_password_change_ends_the_sessions_signed_in_with_the_old_one(
    es: Elasticsearch, names: IndexNames, browser: Browser, settings_file: Path
):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    open_tab = sign_in(browser.tab(), CM)
    browser.keep(open_tab)
    stolen = browser.jar[sessions.COOKIE]

    _change_user(settings_file, CM, password_hash=hash_password("a new password, not the demo one"))
    browser.jar[sessions.COOKIE] = stolen
    assert browser.tab().text_input(key="sign_in_email")  # the copied cookie opens nothing
    open_tab.run(timeout=30)
    assert "Lumio secret du jour." not in [el.value for el in open_tab.text]
    assert open_tab.text_input(key="sign_in_email")

    at = sign_in(browser.tab(), CM, "a new password, not the demo one")
    assert [el.value for el in at.text] == ["Lumio secret du jour."]
    browser.keep(at)
    assert [el.value for el in browser.tab().text] == ["Lumio secret du jour."]  # the new cookie holds


@pytest.mark.parametrize("change", [{"role": "marketer"}, {"removed": "yes"}], ids=["role", "removed"])
def test_a_changed_role_or_a_removed_user_ends_their_sessions(
    es: Elasticsearch, names: IndexNames, browser: Browser, settings_file: Path, change: dict[str, str]
):
    index_mentions(es, names, [mention("a", "Lumio secret du jour.", hours=1)])
    open_tab = sign_in(browser.tab(), CM)
    browser.keep(open_tab)

    _change_user(settings_file, CM, **change)
    assert browser.tab().text_input(key="sign_in_email")
    open_tab.run(timeout=30)
    assert open_tab.text_input(key="sign_in_email")
