"""From a reply written in the Inbox to a post on the platform: drafted, approved when the policy asks,
posted once, then noted in the mention's history and as an interaction on the customer's CRM record,
and, where the customer's CRM source takes them (`push_replies`), as a note in that CRM itself.

Posting is idempotent: the reply is recorded under the id chosen when it was written, its attempt is
recorded (`sending`) with a conditional write before anything is posted, and only an `approved` or
`failed` reply is ever posted, so a second click, a second approver or a retry never posts it twice.

The CRM note never changes the reply's own state: a CRM that is down or refuses leaves the reply sent,
with `crm_push_error`, and `push_pending` (the scheduler's `crm:replies`, `ecoute crm push-replies`)
tries again; a retry first looks for the note an unanswered attempt may have made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from elasticsearch import Elasticsearch

from collectors.registry import AnySourceConfig
from core.documents import CrmRecord, Customer, Mention, Reply, document_id
from core.errors import EcouteError, IndexUnavailableError
from index.client import IndexNames
from index.crm import OWN_SOURCE, put_crm_records
from index.customers import get_customer
from index.mentions import get_mention
from index.replies import (
    ReplyChangedError,
    VersionedReply,
    create_reply,
    get_reply,
    replies_to_push,
    save_reply,
)
from index.triage import record_reply
from replies.base import Replier, ReplyError
from replies.registry import replier_for
from replies.settings import ReplyPolicy

log = logging.getLogger("ecoute.replies")

STALE_ATTEMPT = timedelta(minutes=5)
"""An attempt without an outcome after this long was cut short (a process that stopped mid-post)."""
UNSURE = "it may have been posted; look at the thread before trying again"


CRM_RETRY_FIRST, CRM_RETRY_MOST = timedelta(minutes=1), timedelta(hours=1)


def _next_push(reply: Reply, at_once: bool = False) -> datetime:
    """When a reply not noted in its CRM yet is tried again."""
    last = reply.crm_push_attempted_at
    if last is None or (at_once and reply.crm_push_error):
        return datetime.min.replace(tzinfo=UTC)
    if not reply.crm_push_error:
        return last + STALE_ATTEMPT
    return last + min(CRM_RETRY_FIRST * 2 ** min(reply.crm_push_attempts - 1, 10), CRM_RETRY_MOST)


class CrmNotes(Protocol):
    """Where sent replies are noted in the customers' own CRM; the application passes one in, so the
    outbox never knows which CRM it is."""

    def source_for(self, customer: Customer) -> str | None:
        """The CRM source that takes notes of replies to this customer; None when none does."""
        ...

    def push(self, reply: Reply, source: str, retrying: bool) -> str:
        """Note `reply` in that source's CRM; the CRM's id of the note. `retrying`: an earlier attempt may
        have made it (looked for first). EcouteError with one line when the CRM did not take it."""
        ...


class ReplyRefused(EcouteError):
    """A reply that cannot go on as asked; `code` and `details` say why, for a message in the reader's
    language (the message itself is the English line)."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code, self.details = code, details


def interaction_of(reply: Reply, account_id: str | None) -> CrmRecord:
    """The reply as an interaction on the customer's record, in Écoute's own CRM records."""
    return CrmRecord(
        id=document_id("crm", OWN_SOURCE, "interaction", reply.id),
        kind="interaction",
        source=OWN_SOURCE,
        native_id=reply.id,
        account_id=account_id,
        customer_id=reply.customer_id,
        title=reply.text[:500],
        stage="sent",
        channel=f"{reply.platform} reply",
        occurred_at=reply.sent_at,
        updated_at=reply.sent_at,
    )


class Outbox:
    """The replies of one installation, posted with each source's credentials."""

    def __init__(
        self,
        es: Elasticsearch,
        names: IndexNames,
        policy: ReplyPolicy,
        sources: Iterable[AnySourceConfig],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        crm: CrmNotes | None = None,
    ) -> None:
        self.es, self.names, self.policy, self.clock, self.crm = es, names, policy, clock, crm
        self.sources = {s.name: s for s in sources}

    def replier(self, source: str) -> Replier | None:
        """The replier of a configured source; None for a platform without replies or a source removed."""
        config = self.sources.get(source)
        return replier_for(config) if config is not None else None

    def check(self, source: str, text: str) -> Replier:
        """The replier that will post `text` from `source`; ReplyRefused when it cannot (no replies
        there, credentials missing, nothing written, too long for the platform)."""
        replier = self.replier(source)
        if replier is None:
            raise ReplyRefused("no_replies", f"{source}: replies cannot be posted from this source")
        missing = replier.missing_credentials()
        if missing:
            raise ReplyRefused(
                "credentials",
                f"{source}: replies need {', '.join(missing)} set in the environment",
                names=", ".join(missing),
            )
        if not text.strip():
            raise ReplyRefused("empty", "the reply is empty")
        length = replier.length(text.strip())
        if length > replier.max_length:
            raise ReplyRefused(
                "too_long",
                f"the reply is {length} characters long; "
                f"{replier.platform} takes {replier.max_length} at most",
                platform=replier.platform,
                n=length,
                limit=replier.max_length,
            )
        return replier

    def write(self, mention: Mention, text: str, by: str, reply_id: str) -> Reply:
        """Record a reply and post it, or keep it as a draft for an approver when the policy asks.

        `reply_id` is chosen when the person starts writing: writing the same reply again (a second
        click) returns the first one and posts nothing more.
        """
        self.check(mention.source, text)
        now = self.clock()
        reply = Reply(
            id=reply_id,
            mention_id=mention.id,
            source=mention.source,
            platform=mention.platform,
            in_reply_to=mention.native_id,
            customer_id=mention.customer_id,
            text=text.strip(),
            status="draft" if self.policy.require_approval else "approved",
            drafted_by=by,
            drafted_at=now,
            updated_at=now,
        )
        if not create_reply(self.es, self.names, reply):
            known = get_reply(self.es, self.names, reply_id)
            return known.reply if known else reply
        if reply.status == "draft":
            record_reply(self.es, self.names, mention.id, by, None, sent=False)
            return reply
        return self.send(reply_id, by)

    def approve(self, reply_id: str, by: str, role: str) -> Reply:
        """An approver (never the author) approves a draft, which is posted at once."""
        read = self._decidable(reply_id, by, role)
        if read.reply.status != "draft":
            return read.reply  # approved or turned down by someone else a moment ago
        now = self.clock()
        approved = read.reply.model_copy(
            update={"status": "approved", "approved_by": by, "approved_at": now, "updated_at": now}
        )
        save_reply(self.es, self.names, read, approved)
        return self.send(reply_id, by)

    def reject(self, reply_id: str, by: str, role: str, reason: str) -> Reply:
        """An approver turns a draft down, saying why; nothing is posted."""
        read = self._decidable(reply_id, by, role)
        if read.reply.status != "draft":
            return read.reply
        now = self.clock()
        rejected = read.reply.model_copy(
            update={
                "status": "rejected",
                "rejected_by": by,
                "rejected_at": now,
                "rejection": reason.strip() or None,
                "updated_at": now,
            }
        )
        return save_reply(self.es, self.names, read, rejected).reply

    def _decidable(self, reply_id: str, by: str, role: str) -> VersionedReply:
        read = get_reply(self.es, self.names, reply_id)
        if read is None:
            raise ReplyRefused("missing", f"no reply {reply_id}")
        if role not in self.policy.approvers:
            raise ReplyRefused("not_approver", f"the {role} role does not approve replies")
        if read.reply.drafted_by == by:
            raise ReplyRefused("own_reply", "a reply is approved by someone other than its author")
        return read

    def send(self, reply_id: str, by: str) -> Reply:
        """Post an approved reply, or try a failed one again; any other reply is returned unchanged
        (a draft waits for approval, a reply being sent or sent is never posted again)."""
        read = get_reply(self.es, self.names, reply_id)
        if read is None:
            raise ReplyRefused("missing", f"no reply {reply_id}")
        reply = read.reply
        if reply.status not in ("approved", "failed"):
            return reply
        replier = self.check(reply.source, reply.text)
        now = self.clock()
        try:
            claimed = save_reply(
                self.es,
                self.names,
                read,
                reply.model_copy(
                    update={
                        "status": "sending",
                        "attempts": reply.attempts + 1,
                        "attempted_at": now,
                        "sent_by": by,
                        "error": None,
                        "updated_at": now,
                    }
                ),
            )
        except ReplyChangedError:  # someone else is sending it, or sent it
            again = get_reply(self.es, self.names, reply_id)
            return again.reply if again else reply
        mention = get_mention(self.es, self.names, reply.mention_id)
        if mention is None:
            return self._failed(claimed, "the mention is no longer in the index")
        try:
            posted = replier.send(mention, claimed.reply)
        except ReplyError as exc:
            return self._failed(claimed, exc.reason)
        except Exception as exc:  # a bug must not leave the reply `sending` for ever
            log.exception("reply %s: unexpected error while posting", reply_id)
            return self._failed(claimed, f"unexpected error ({type(exc).__name__}): {UNSURE}")
        done = self.clock()
        customer = get_customer(self.es, self.names, reply.customer_id) if reply.customer_id else None
        crm_source = self.crm.source_for(customer) if self.crm and customer else None
        sent = claimed.reply.model_copy(
            update={
                "status": "sent",
                "platform_id": posted.platform_id,
                "platform_url": posted.url,
                "sent_at": done,
                "crm_source": crm_source,
                "updated_at": done,
            }
        )
        saved = save_reply(self.es, self.names, claimed, sent)
        self.note(sent, customer)
        if not crm_source:
            return sent
        try:
            return self._push(saved)
        except IndexUnavailableError as exc:  # the reply is sent and recorded; the next pass pushes it
            log.warning("reply %s: CRM note left for the next pass: %s", reply_id, exc)
            return sent

    def give_up(self, reply_id: str, by: str) -> Reply:
        """Mark an attempt that never ended (its process stopped mid-post) as failed, so it can be
        tried again once someone has looked at the thread; a recent attempt is left alone."""
        read = get_reply(self.es, self.names, reply_id)
        if read is None:
            raise ReplyRefused("missing", f"no reply {reply_id}")
        started = read.reply.attempted_at
        if read.reply.status != "sending" or (started and self.clock() - started < STALE_ATTEMPT):
            return read.reply
        return self._failed(read, f"the attempt got no answer: {UNSURE}")

    def _failed(self, claimed: VersionedReply, reason: str) -> Reply:
        failed = claimed.reply.model_copy(
            update={"status": "failed", "error": reason, "updated_at": self.clock()}
        )
        return save_reply(self.es, self.names, claimed, failed).reply

    def note(self, reply: Reply, customer: Customer | None) -> None:
        """A sent reply in the mention's history (the mention answered) and on the customer's record."""
        where = reply.platform_url or reply.platform_id
        record_reply(self.es, self.names, reply.mention_id, reply.drafted_by, where, sent=True)
        if reply.customer_id:
            account = customer.account_id if customer else None
            put_crm_records(self.es, self.names, [interaction_of(reply, account)])

    def push_pending(self, limit: int = 100, at_once: bool = False) -> list[Reply]:
        """Note in their CRM the sent replies not noted yet: those whose last push failed (again after a
        wait that doubles with each failure, up to an hour; `at_once` skips it) and those whose push got
        no outcome within STALE_ATTEMPT (a process stopped mid-push). Each reply as it ends."""
        if self.crm is None:
            return []
        now = self.clock()
        due = replies_to_push(self.es, self.names, limit, due=lambda r: now >= _next_push(r, at_once))
        done = []
        for reply in due:
            read = get_reply(self.es, self.names, reply.id)  # as it is now: another push may have begun
            if read is not None and now >= _next_push(read.reply, at_once):
                done.append(self._push(read))
        return done

    def _push(self, read: VersionedReply) -> Reply:
        """Note a sent reply in its customer's CRM once; a failure is recorded on the reply, never raised."""
        reply = read.reply
        if self.crm is None or reply.status != "sent" or not reply.crm_source or reply.crm_note_id:
            return reply
        retrying = reply.crm_push_attempts > 0
        try:  # the attempt is recorded first: a second pusher finds it taken, a retry looks before posting
            claimed = save_reply(
                self.es,
                self.names,
                read,
                reply.model_copy(
                    update={
                        "crm_push_attempts": reply.crm_push_attempts + 1,
                        "crm_push_attempted_at": self.clock(),
                        "crm_push_error": None,
                    }
                ),
            )
        except ReplyChangedError:
            return reply
        try:
            note_id = self.crm.push(claimed.reply, reply.crm_source, retrying)
        except EcouteError as exc:
            return self._push_failed(claimed, str(exc))
        except Exception as exc:  # a bug must not lose the push: it is tried again
            log.exception("reply %s: unexpected error while noting it in CRM %s", reply.id, reply.crm_source)
            return self._push_failed(claimed, f"unexpected error ({type(exc).__name__})")
        pushed = claimed.reply.model_copy(update={"crm_note_id": note_id, "crm_pushed_at": self.clock()})
        try:
            return save_reply(self.es, self.names, claimed, pushed).reply
        except ReplyChangedError:  # only another push changes a sent reply; its own outcome stands
            return pushed

    def _push_failed(self, claimed: VersionedReply, reason: str) -> Reply:
        reply = claimed.reply
        log.warning(
            "reply %s: not noted in CRM %s (attempt %d): %s; tried again later",
            reply.id,
            reply.crm_source,
            reply.crm_push_attempts,
            reason,
        )
        failed = reply.model_copy(update={"crm_push_error": reason})
        try:
            return save_reply(self.es, self.names, claimed, failed).reply
        except ReplyChangedError:
            return failed
