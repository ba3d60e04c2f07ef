"""The `dashboard` fixture: the app in AppTest, signed in, reading this test's own indices."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import sessions
from tests.dashboard.helpers import ADMIN, APP, Browser, RecordedMedia, sign_in


@pytest.fixture
def recorded_media(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the files download buttons serve, so a test can open an export as a person would."""
    from streamlit.testing.v1 import app_test

    RecordedMedia.stores.clear()
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", RecordedMedia)


@pytest.fixture
def dashboard(monkeypatch: pytest.MonkeyPatch, settings_file: Path):
    """Open the dashboard on a page, signed in, against this test's own indices."""
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))

    def open_page(page: str = "pages/inbox.py", as_user: str = ADMIN, **query_params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.run(timeout=30)
        sign_in(at, as_user)
        if page != "pages/inbox.py" or query_params:
            at.query_params.update(query_params)
            at.switch_page(page).run(timeout=30)
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, settings_file: Path) -> Browser:
    """Tabs of one browser, sharing its cookies, on the dashboard reading this test's own indices."""
    monkeypatch.setenv("ECOUTE_CONFIG", str(settings_file))
    monkeypatch.delenv(sessions.SECRET_ENV, raising=False)
    return Browser(monkeypatch)
