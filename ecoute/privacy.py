"""GDPR: retention per source, pseudonymised authors, erasure and export of everything about one person."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from alerts.erasure import without_person
from core.documents import AuditRecord, Author, Mention
from core.errors import ConfigError
from core.names import normalise_handle
from ecoute.safeguards import PrivacyConfig
from ecoute.spool import DeadLetters, Journal, Spool
from index.client import IndexNames
from index.privacy import (
    Identity,
    PersonRecords,
    delete_mentions_and_alerts,
    drop_expired_alert_indices,
    drop_expired_indices,
    erase_person,
    expired_mention_ids,
    find_person,
    post_names,
    write_audit,
)

PSEUDONYM_PREFIX = "anon-"


def pseudonym(handle: str, key: str) -> str:
    """The same handle always gives the same pseudonym; without the key it cannot be reversed or guessed."""
    digest = hmac.new(key.encode("utf-8"), normalise_handle(handle).encode("utf-8"), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:20]


def pseudonymise(mentions: list[Mention], config: PrivacyConfig, key: str | None) -> list[Mention]:
    """Replace the identity of authors neither linked nor proposed for a link by a keyed pseudonym.

    The handle, author id and display name go, and so does the platform's raw payload (it repeats
    them); the text, the URL and the author's follower count stay.
    """
    if not config.pseudonymise_unlinked_authors:
        return mentions
    if not key:
        raise ConfigError(
            "privacy.pseudonymise_unlinked_authors is on but ECOUTE_PSEUDONYM_KEY is not set "
            "in the environment"
        )
    result = []
    for mention in mentions:
        who = mention.author.handle or mention.author.id or mention.author.display_name
        if mention.customer_id or mention.link_proposal or not who:
            result.append(mention)
            continue
        author = Author(handle=pseudonym(who, key), followers=mention.author.followers)
        result.append(mention.model_copy(update={"author": author, "raw": {}}))
    return result


def _operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def subject_digest(identifiers: list[str], key: str | None) -> str:
    """A digest of who was concerned, to answer "was X erased?" later without keeping X."""
    text = "\n".join(sorted(normalise_handle(i) for i in identifiers))
    if key:
        return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _audit(action: str, digest: str | None, scope: str, counts: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        id=uuid.uuid4().hex,
        action=action,  # type: ignore[arg-type]
        at=datetime.now(UTC),
        by=_operator(),
        subject_digest=digest,
        scope=scope,
        counts=counts,
    )


@dataclass
class Person:
    """Who a GDPR request is about: handles (any platform) and email addresses."""

    handles: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    def identifiers(self) -> list[str]:
        return [*self.handles, *self.emails]


@dataclass
class PersonData:
    """Everything held about one person: the index's documents plus copies waiting on local disk."""

    records: PersonRecords
    spooled: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    received: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            **self.records.counts(),
            "spooled": len(self.spooled),
            "dead_letters": len(self.dead_letters),
            "webhook_copies": len(self.received),
        }

    def as_json(self) -> dict[str, Any]:
        r = self.records
        return {
            "mentions": r.mentions,
            "customers": r.customers,
            "crm_records": r.crm_records,
            "link_reviews": r.reviews,
            "alerts": r.alerts + r.alerts_naming,
            "saved_searches": r.saved_searches,
            "replies": r.replies,
            "spooled_mentions": self.spooled,
            "dead_letters": self.dead_letters,
            "received_by_webhook": self.received,
        }


class _Matcher:
    """Whether a locally buffered post or mention document is about the person."""

    def __init__(self, identity: Identity, customer_ids: set[str]) -> None:
        self.identity, self.customer_ids = identity, customer_ids
        self.handles = {*identity.handles, *identity.emails}  # some sources give an address as handle

    def __call__(self, doc_id: str, doc: dict[str, Any] | None) -> bool:
        if doc_id in self.identity.mention_ids:
            return True
        if not doc:
            return False
        author = doc.get("author") or {}
        who = {normalise_handle(str(author.get(k))) for k in ("handle", "id") if author.get(k)}
        proposed = [(doc.get(k) or {}).get("customer_id") for k in ("link", "link_proposal")]
        linked = {doc.get("customer_id"), *proposed}
        return (
            bool(who & self.handles)
            or bool(linked & self.customer_ids)
            or post_names(doc, self.identity)
            or self.identity.is_named(author.get("display_name"))
        )


class Gdpr:
    """The GDPR operations over one index and one state_dir."""

    def __init__(
        self, es: Elasticsearch, names: IndexNames, state_dir: Any, config: PrivacyConfig, key: str | None
    ) -> None:
        self.es, self.names, self.config, self.key = es, names, config, key
        self.state_dir = Path(state_dir)
        self.spool, self.dead_letters = Spool(state_dir), DeadLetters(state_dir)
        self.journal = Journal(state_dir)  # copies of stored mentions the stand-in may not have saved yet

    def _search(self, person: Person) -> tuple[PersonData, _Matcher]:
        handles = list(person.handles)
        if self.key:
            handles += [pseudonym(h, self.key) for h in person.handles]
        records = find_person(self.es, self.names, handles, person.emails)
        # The customer found by email has social handles too: their mentions are about the same person.
        linked = [
            h for c in records.customers for h in [*c.get("handles", []), *c.get("confirmed_handles", [])]
        ]
        if set(linked) - set(handles):
            handles = list(dict.fromkeys([*handles, *linked]))
            records = find_person(self.es, self.names, handles, person.emails)
        matcher = _Matcher(records.identity, {c["customer_id"] for c in records.customers})
        spooled = [
            op.doc or {"id": op.id}
            for segment in self.spool.segments()
            for op in self.spool.read(segment)
            if matcher(op.id, op.doc)
        ]
        letters = [letter.doc for letter in self.dead_letters.all() if matcher(letter.id, letter.doc)]
        received = [post for _, _, _, post in self._webhook_lines(matcher)]
        return PersonData(records, spooled, letters, received), matcher

    def _webhook_lines(self, matcher: _Matcher) -> Iterator[tuple[Path, int, int, dict[str, Any]]]:
        """(file, byte offset, length, post) of the posts about the person still in the webhook spools."""
        for path in sorted((self.state_dir / "webhooks").glob("*.jsonl")):
            offset = 0
            with path.open("rb") as handle:
                for line in handle:
                    at, offset = offset, offset + len(line)
                    try:
                        post = json.loads(line)["post"]
                    except (ValueError, KeyError, TypeError):
                        continue
                    if isinstance(post, dict) and matcher("", post):
                        yield path, at, len(line), post

    def _erase_webhook_copies(self, matcher: _Matcher) -> int:
        """Blank the matching lines in place: the webhook collector reads these files by byte offset."""
        found = list(self._webhook_lines(matcher))
        for path, at, length, _ in found:
            blank = b'{"erased":true}'
            with path.open("r+b") as handle:
                handle.seek(at)
                handle.write(blank + b" " * (length - len(blank) - 1) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        return len(found)

    def export(self, person: Person) -> PersonData:
        """Everything held about the person (GDPR art. 15); the export itself is audited."""
        data, _ = self._search(person)
        write_audit(
            self.es,
            self.names,
            _audit("export", subject_digest(person.identifiers(), self.key), _scope(person), data.counts()),
        )
        return data

    def erase(self, person: Person) -> dict[str, int]:
        """Delete every mention, link, alert, CRM mirror and buffered copy about the person, then audit it."""
        data, matcher = self._search(person)
        identity = data.records.identity
        rewritten = [a for a in (without_person(d, identity) for d in data.records.alerts_naming) if a]
        counts = erase_person(self.es, self.names, data.records, rewritten)
        counts["spooled"] = self.spool.erase(lambda op: matcher(op.id, op.doc))
        self.journal.erase(lambda op: matcher(op.id, op.doc))
        counts["dead_letters"] = self.dead_letters.erase(lambda letter: matcher(letter.id, letter.doc))
        counts["webhook_copies"] = self._erase_webhook_copies(matcher)
        write_audit(
            self.es,
            self.names,
            _audit("erase", subject_digest(person.identifiers(), self.key), _scope(person), counts),
        )
        return counts

    def apply_retention(self, sources: list[str], now: datetime | None = None) -> dict[str, int]:
        """Delete each source's mentions older than its retention; returns mentions deleted per source."""
        now = now or datetime.now(UTC)
        deleted: dict[str, int] = {}
        days_of = {s: d for s in sources if (d := self.config.retention_for(s)) is not None}
        cutoffs = {s: now - timedelta(days=d) for s, d in days_of.items()}
        # Whole period indices past every cutoff go at once; what is left is deleted by id at the edges.
        dropped = drop_expired_indices(self.es, self.names, cutoffs)
        for source, days in days_of.items():
            before = cutoffs[source]
            counts = delete_mentions_and_alerts(
                self.es, self.names, expired_mention_ids(self.es, self.names, source, before)
            )
            counts["mentions"] += sum(d.sources.get(source, 0) for d in dropped)
            counts["alerts"] += sum(d.alerts for d in dropped if source in d.sources)
            counts["indices_dropped"] = sum(1 for d in dropped if source in d.sources)
            counts["dead_letters"] = self.dead_letters.erase(
                lambda letter, s=source, b=before: letter.source == s and _created_before(letter.doc, b)
            )
            deleted[source] = counts["mentions"]
            if any(counts.values()):
                write_audit(
                    self.es, self.names, _audit("retention", None, f"source {source}, {days} days", counts)
                )
        if cutoffs:  # the alerts' months their mentions' retention emptied go whole
            emptied = drop_expired_alert_indices(self.es, self.names, max(cutoffs.values()))
            if emptied:
                counts = {"alerts": sum(d.alerts for d in emptied), "indices_dropped": len(emptied)}
                write_audit(self.es, self.names, _audit("retention", None, "alert indices", counts))
        return deleted


def _created_before(doc: dict[str, Any], before: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(doc.get("created_at"))) < before
    except ValueError:
        return False


def _scope(person: Person) -> str:
    parts = []
    if person.handles:
        parts.append(f"{len(person.handles)} handle(s)")
    if person.emails:
        parts.append(f"{len(person.emails)} email(s)")
    return ", ".join(parts)
