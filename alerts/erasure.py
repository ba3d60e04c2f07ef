"""An alert with one person taken out (GDPR erasure), for alerts about more people than them.

A spike or a group of mentions stays the team's record of what happened; the erased person's
mentions leave its list and their handle, posts and name leave its explanation. What cannot be
cleaned this way (their name in the summary of a mention alert) makes the alert go instead.
"""

from __future__ import annotations

import re
from typing import Any

from core.documents import Alert
from index.privacy import Identity

_AUTHOR = re.compile(r"@\S+ \(\d+ posts?, [\d,]+ followers\)")


def without_person(doc: dict[str, Any], identity: Identity) -> Alert | None:
    """The alert without the person's mentions and traces; None when it should be deleted instead."""
    alert = Alert.model_validate(doc)
    kept = [i for i in alert.mention_ids if i not in identity.mention_ids]
    primary = alert.mention_id if alert.mention_id not in identity.mention_ids else None
    if alert.kind != "spike" and primary is None:
        return None
    details = dict(alert.details)
    if isinstance(details.get("explanation"), list):
        details["explanation"] = _explanation_without(details["explanation"], alert.mention_ids, identity)
    cleaned = alert.model_copy(
        update={
            "mention_ids": kept,
            "mention_id": primary or (kept[0] if kept else ""),
            "url": alert.url if primary else None,
            "count": alert.count if alert.kind == "spike" else len(kept),  # a spike counts the window
            "details": details,
        }
    )
    return None if identity.in_document(cleaned.model_dump(mode="json")) else cleaned


def _explanation_without(lines: list[Any], mention_ids: list[str], identity: Identity) -> list[str]:
    """A spike's explanation without the person: their author entry, and the `post by` lines of erased
    mentions (those lines follow the alert's mention ids in order) or that name them."""
    kept, post = [], 0
    for line in map(str, lines):
        if line.startswith("post by "):
            erased = post < len(mention_ids) and mention_ids[post] in identity.mention_ids
            post += 1
            if erased:
                continue
        line = _without_authors(line, identity)
        if line and not identity.in_record(line):
            kept.append(line)
    return kept


def _without_authors(line: str, identity: Identity) -> str:
    """An `authors: @a (n posts, f followers), …` line without the person (empty when none is left)."""
    if not line.startswith("authors: "):
        return line
    others = [m.group(0) for m in _AUTHOR.finditer(line) if not identity.in_record(m.group(0))]
    return "authors: " + ", ".join(others) if others else ""
