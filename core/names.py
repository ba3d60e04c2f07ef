"""How people's handles and names compare, wherever they are matched or erased."""

from __future__ import annotations

import re
import unicodedata

_NOT_NAME = re.compile(r"[^a-z\s'-]")


def normalise_handle(handle: str) -> str:
    """Handles compare without a leading @ and without case."""
    return handle.strip().lstrip("@").lower()


def author_key(platform: str, handle: str) -> str:
    """Who wrote a mention, as decisions remember them: platform + handle."""
    return f"{platform.lower()}:{normalise_handle(handle)}"


def fold_name(name: str) -> str:
    """Lower case, no accents, no emoji or digits: 'Élodie GARNIER 🌿' -> 'elodie garnier'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(_NOT_NAME.sub(" ", plain.replace("_", " ").replace(".", " ")).split())
