"""Opening the dashboard in AppTest as one of the shipped config.yaml's demo users."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.context import ContextProxy
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import sessions
from dashboard.text import t

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
ADMIN = "admin@lumio.example"
DEMO_PASSWORD = "lumio-demo"  # the shipped config.yaml's demo users


def sign_in(at: AppTest, email: str = ADMIN, password: str = DEMO_PASSWORD) -> AppTest:
    at.text_input(key="sign_in_email").input(email)
    at.text_input(key="sign_in_password").input(password)
    (button,) = [b for b in at.button if b.label == t("sign_in")]
    return button.click().run(timeout=30)


def open_triage(at: AppTest, mention_id: str) -> AppTest:
    """Click a mention's triage button, which builds its form."""
    return at.button(key=f"triage_toggle_{mention_id}").click().run(timeout=30)


class RecordedMedia(MemoryMediaFileStorage):
    """Streamlit's in-memory media store, remembered so a test can read what a download button serves."""

    stores: list[MemoryMediaFileStorage] = []

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        RecordedMedia.stores.append(self)


def downloads(at: AppTest) -> dict[str, bytes]:
    """What each download button of the last run hands out, by label (needs the `recorded_media` fixture)."""
    found: dict[str, bytes] = {}
    for button in at.get("download_button"):
        name = button.proto.url.rsplit("/", 1)[-1]
        for store in reversed(RecordedMedia.stores):
            try:
                found[button.proto.label] = store.get_file(name).content
                break
            except MediaFileStorageError:
                continue
        else:
            raise AssertionError(f"no stored file behind the download button {button.proto.label!r}")
    return found


class Browser:
    """The cookies a browser sends when a tab connects, which AppTest has no way to set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.jar: dict[str, str] = {}
        monkeypatch.setattr(ContextProxy, "cookies", property(lambda _: dict(self.jar)))

    def keep(self, at: AppTest) -> None:
        """What the page's cookie script stored, as the browser would keep it."""
        token = at.session_state.get("session_token", None)
        if token:
            self.jar[sessions.COOKIE] = token
        else:
            self.jar.pop(sessions.COOKIE, None)

    def tab(self, page: str | None = None, **query: str) -> AppTest:
        """A reload, or a new tab on `page` with these query parameters.

        AppTest runs a page file by itself (without app.py) when switched to before any run: the tab
        first runs app.py, which registers the pages, then goes to the address.
        """
        at = AppTest.from_file(str(APP), default_timeout=30).run(timeout=30)
        if page:
            at.query_params.update(query)
            at.switch_page(page).run(timeout=30)
        return at
