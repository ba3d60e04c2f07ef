"""Triage of a mention (status, assignee, team, note): versioned updates with their history, and who
has what open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from elasticsearch import ConflictError, Elasticsearch, TransportError
from pydantic import ValidationError

from core.documents import (
    Mention,
    Triage,
    TriageChange,
)
from core.errors import EcouteError, IndexUnavailableError
from index.client import IndexNames
from index.mentions import mark_mentions_changed
from index.periods import MENTIONS, locate

TRIAGE_FIELDS = ("status", "assignee", "team", "tags", "note")


class TriageError(EcouteError):
    """A triage change that cannot be saved as asked (unknown mention, invalid value)."""


class TriageConflictError(EcouteError):
    """Someone else changed the mention since it was read: nothing was written."""

    def __init__(self, mention_id: str, changed_by: str | None, changed_at: datetime | None) -> None:
        self.mention_id, self.changed_by, self.changed_at = mention_id, changed_by, changed_at
        when = changed_at.strftime("%H:%M") if changed_at else "?"
        super().__init__(f"mention {mention_id} was changed by {changed_by or 'someone'} at {when}; reload")


@dataclass(frozen=True)
class TriageVersion:
    """The version of a mention a write is conditional on (Elasticsearch's seq_no + primary_term)."""

    seq_no: int
    primary_term: int


def _triage_value(mention: Mention, name: str) -> object:
    if name == "status":
        return mention.status
    triage = mention.triage or Triage()
    return getattr(triage, name)


def _history_text(value: object) -> str | None:
    if isinstance(value, list):
        return ", ".join(value) or None
    return None if value in (None, "") else str(value)


def update_triage(
    es: Elasticsearch,
    names: IndexNames,
    mention_id: str,
    changes: dict[str, object],
    by: str,
    seq_no: int,
    primary_term: int,
    seen: dict[str, object] | None = None,
) -> TriageVersion:
    """Apply `changes` (status, assignee, tags, note) only if the mention is still at the version read.

    Every changed field is appended to the mention's history with who and when; a mention whose triage
    changed in between raises TriageConflictError naming who changed it, and nothing is overwritten.
    `seen` (the triage fields as the person saw them) lets a save go through when only something else,
    such as the labels of a background re-score, changed since.
    """
    unknown = sorted(set(changes) - set(TRIAGE_FIELDS))
    if unknown:
        raise TriageError(f"cannot change {', '.join(unknown)}: triage fields are {', '.join(TRIAGE_FIELDS)}")
    current = locate(es, names, [mention_id]).get(mention_id)
    if current is None:
        raise TriageError(f"no mention with id {mention_id}")
    index = current["_index"]
    mention = Mention.model_validate(current["_source"])
    if (current["_seq_no"], current["_primary_term"]) != (seq_no, primary_term):
        # Another write came in between; it is a conflict only if it changed what the person saw of the
        # triage (a background re-score changes the labels, not the triage).
        if seen is None or seen != {name: _triage_value(mention, name) for name in TRIAGE_FIELDS}:
            triage = mention.triage or Triage()
            raise TriageConflictError(mention_id, triage.updated_by, triage.updated_at)
        seq_no, primary_term = current["_seq_no"], current["_primary_term"]
    now = datetime.now(UTC).replace(microsecond=0)
    history = list(mention.history)
    triage_data = (mention.triage or Triage()).model_dump()
    status = mention.status
    for name in TRIAGE_FIELDS:
        if name not in changes:
            continue
        old, new = _triage_value(mention, name), changes[name]
        if name == "tags":
            new = list(dict.fromkeys(str(tag).strip() for tag in new if str(tag).strip()))  # type: ignore[attr-defined]
        elif name in ("assignee", "team", "note") and isinstance(new, str):
            new = new.strip() or None
        if new == old:
            continue
        change = TriageChange(at=now, by=by, field=name, old=_history_text(old), new=_history_text(new))
        history.append(change)
        if name == "status":
            status = new  # type: ignore[assignment]
        else:
            triage_data[name] = new
    if len(history) == len(mention.history):
        return TriageVersion(seq_no, primary_term)
    triage_data.update(updated_by=by, updated_at=now)
    try:
        updated = mention.model_copy(
            update={"status": status, "triage": Triage.model_validate(triage_data), "history": history}
        )
        Mention.model_validate(updated.model_dump())
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TriageError(f"mention {mention_id}: {problem}") from exc
    try:
        return _write_triage(es, names, index, updated, TriageVersion(seq_no, primary_term))
    except ConflictError as exc:
        latest = Mention.model_validate(es.get(index=index, id=mention_id)["_source"]).triage
        latest = latest or Triage()
        raise TriageConflictError(mention_id, latest.updated_by, latest.updated_at) from exc
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot save triage of mention {mention_id}: {exc}") from exc


def _write_triage(
    es: Elasticsearch, names: IndexNames, index: str, mention: Mention, version: TriageVersion
) -> TriageVersion:
    """Write `mention`'s status, triage and history only if it is still at `version` (ConflictError
    otherwise), searchable at once, and mark the mentions changed so cached lists are read again."""
    result = es.update(
        index=index,
        id=mention.id,
        doc=mention.model_dump(mode="json", include={"status", "triage", "history"}),
        if_seq_no=version.seq_no,
        if_primary_term=version.primary_term,
        refresh=True,
    )
    mark_mentions_changed(es, names)
    return TriageVersion(result["_seq_no"], result["_primary_term"])


REPLY_FIELD = "reply"
"""The history field of a reply posted from the Inbox; its value is where the reply can be read."""
ANSWERED_FROM = ("new", "in_progress", "ignored")
"""Statuses a posted reply moves to answered; a closed mention stays closed."""


def record_reply(
    es: Elasticsearch,
    names: IndexNames,
    mention_id: str,
    by: str,
    where: str | None,
    sent: bool,
    attempts: int = 3,
) -> bool:
    """Note a reply in the mention's history: a posted one (`sent`) as a `reply` entry naming `where`
    it is, moving the mention to answered; a draft waiting for approval moves a new mention to in
    progress. Recorded once: a reply entry already naming `where` is not added again. False when the
    mention is gone. A concurrent triage change is read again and kept (up to `attempts` tries)."""
    for _ in range(attempts):
        current = locate(es, names, [mention_id]).get(mention_id)
        if current is None:
            return False
        mention = Mention.model_validate(current["_source"])
        now = datetime.now(UTC).replace(microsecond=0)
        history = list(mention.history)
        status = mention.status
        if sent and not any(c.field == REPLY_FIELD and c.new == where for c in history):
            history.append(TriageChange(at=now, by=by, field=REPLY_FIELD, new=where))
        wanted = "answered" if sent and status in ANSWERED_FROM else status
        if not sent and status == "new":
            wanted = "in_progress"
        if wanted != status:
            history.append(TriageChange(at=now, by=by, field="status", old=status, new=wanted))
        if len(history) == len(mention.history):
            return True
        triage = (mention.triage or Triage()).model_copy(update={"updated_by": by, "updated_at": now})
        updated = mention.model_copy(update={"status": wanted, "triage": triage, "history": history})
        version = TriageVersion(current["_seq_no"], current["_primary_term"])
        try:
            _write_triage(es, names, current["_index"], updated, version)
        except ConflictError:
            continue
        except TransportError as exc:
            raise IndexUnavailableError(f"cannot note the reply on mention {mention_id}: {exc}") from exc
        return True
    raise IndexUnavailableError(f"mention {mention_id} kept changing: the reply is not in its history")


OPEN_STATUSES = ["new", "in_progress"]


def assigned_open(
    es: Elasticsearch, names: IndexNames, email: str, size: int = 1000
) -> dict[str, str | None]:
    """The open mentions assigned to `email`: id -> who made the last assignment (None if unrecorded)."""
    result = es.search(
        index=MENTIONS.alias(names),
        query={
            "bool": {"filter": [{"term": {"triage.assignee": email}}, {"terms": {"status": OPEN_STATUSES}}]}
        },
        source=["id", "history"],
        sort=[{"created_at": "desc"}, {"id": "asc"}],
        size=size,
    )
    found: dict[str, str | None] = {}
    for hit in result["hits"]["hits"]:
        changes = [c for c in hit["_source"].get("history") or [] if c.get("field") == "assignee"]
        found[hit["_source"]["id"]] = changes[-1].get("by") if changes else None
    return found
