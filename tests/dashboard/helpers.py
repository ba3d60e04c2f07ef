"""Opening the dashboard in AppTest as one of the shipped config.yaml's demo users."""

from __future__ import annotations

from pathlib import Path

from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

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
