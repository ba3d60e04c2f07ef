"""The documents every layer shares: a raw post as a source gives it, and one pydantic model per stored
document type (index/mappings.py derives the Elasticsearch mapping from it)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Text:
    """Full text, searched word by word (standard analyzer); `stemmed` adds French and English analysed
    sub-fields (`.fr`, `.en`), `exact` a keyword sub-field (`.keyword`) to sort on."""

    stemmed: bool = True
    exact: bool = True


SEARCHED_TEXT = Text(stemmed=False, exact=False)
"""Text the search language reads (`index/query_language.py`: standard analyzer only), nothing more."""


@dataclass(frozen=True)
class Stored:
    """Kept in _source (read back, exported, audited) but not indexed: no search, filter, sort or count."""


@dataclass(frozen=True)
class Filtered:
    """A keyword searched by exact value but never sorted or counted: indexed without doc values."""


class Author(BaseModel):
    id: Annotated[str | None, Filtered()] = None
    handle: str | None = None
    display_name: Annotated[str | None, Filtered()] = None
    followers: int | None = None
    created_at: Annotated[datetime | None, Stored()] = Field(
        default=None, description="when the account was opened, if known"
    )


class Thread(BaseModel):
    parent_id: str | None = None
    root_id: str | None = None


class Engagement(BaseModel):
    likes: int = 0
    replies: int = 0
    shares: int = 0


class RawPost(BaseModel):
    """One post as a source gave it, before any enrichment."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="name of the configured source that collected it")
    platform: str = Field(description="where it was published: news, mastodon, reddit...")
    native_id: str
    url: str | None = None
    author: Author = Field(default_factory=Author)
    title: str | None = None
    text: str
    language_hint: str | None = None
    created_at: datetime
    dated: bool = Field(
        default=True,
        description="False when the source gave no date: created_at is then when it was collected",
    )
    collected_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    thread: Thread = Field(default_factory=Thread)
    engagement: Engagement = Field(default_factory=Engagement)
    hashtags: list[str] = Field(
        default_factory=list, description="the platform's own hashtags, without #, where it lists them"
    )
    raw: dict[str, Any] = Field(default_factory=dict, description="payload kept for audit")


class Label(BaseModel):
    label: str
    confidence: float = Field(ge=0.0, le=1.0)


class Entity(BaseModel):
    text: str
    label: Annotated[str, Stored()]


class LinkFact(BaseModel):
    """One fact behind a customer link, as a kind and its values, so each reader's language can say it."""

    kind: Literal[
        "handle", "confirmed_handle", "email", "name", "company_entity", "company_named", "email_domain",
        "link_domain", "rivals", "decided",
    ]  # fmt: skip
    values: Annotated[dict[str, str], Stored()] = Field(default_factory=dict)


class CustomerLink(BaseModel):
    customer_id: Annotated[str, Filtered()]
    method: Annotated[str, Stored()]
    confidence: Annotated[float, Stored()]
    reason: Annotated[str, Stored()] = Field(
        description="the facts in one English sentence, for logs, the CLI and the API"
    )
    facts: Annotated[list[LinkFact], Stored()] = Field(
        default_factory=list, description="the reason's facts, for the dashboard"
    )


class Triage(BaseModel):
    """Who handles a mention and what the team noted about it; never touched by re-collection."""

    assignee: str | None = None
    team: str | None = Field(default=None, description="the team queue it is in (routing or a hand-off)")
    tags: Annotated[list[str], Stored()] = Field(default_factory=list)
    note: Annotated[str | None, SEARCHED_TEXT] = Field(default=None, max_length=4000)
    updated_by: Annotated[str | None, Stored()] = None
    updated_at: datetime | None = None


class TriageChange(BaseModel):
    """One recorded triage change: who changed which field from what to what, and when."""

    at: Annotated[datetime, Stored()]
    by: Annotated[str, Stored()]
    field: str
    old: Annotated[str | None, Stored()] = None
    new: Annotated[str | None, Stored()] = None


class Edit(BaseModel):
    """A later version of a post's text, as a refresh read it; the mention's `text` stays the first seen."""

    text: Annotated[str, SEARCHED_TEXT]
    title: Annotated[str | None, SEARCHED_TEXT] = None
    seen_at: Annotated[datetime, Stored()]


MAX_EDITS = 10
"""Edits kept per mention (newest last); older ones drop off."""


class Mention(BaseModel):
    """An enriched post as stored in `ecoute-mentions`."""

    id: str
    source: str
    platform: str
    native_id: Annotated[str, Stored()]
    url: Annotated[str | None, Stored()] = None
    author: Author
    title: Annotated[str | None, SEARCHED_TEXT] = None
    text: Annotated[str, SEARCHED_TEXT]
    language: str
    created_at: datetime = Field(description="when it was published; collection time if it claims later")
    published_claimed: Annotated[datetime | None, Stored()] = Field(
        default=None, description="the date a post claimed beyond a day after collection (flag future_date)"
    )
    collected_at: datetime
    enriched_at: Annotated[datetime, Stored()]
    thread: Annotated[Thread, Stored()]
    engagement: Annotated[Engagement, Stored()]
    topics: list[str] = Field(default_factory=list, description="brand/competitors it mentions")
    hashtags: list[str] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    sentiment: Label
    intent: Label
    intents: Annotated[list[Label], Stored()] = Field(
        default_factory=list, description="every intent above its threshold"
    )
    model: str | None = Field(
        default=None, description="the model whose sentiment and intents these are: fast, accurate, …"
    )
    link: Annotated[CustomerLink | None, Stored()] = None
    customer_id: str | None = None
    link_proposal: CustomerLink | None = Field(
        default=None, description="a fuzzy match below the apply threshold, waiting in the review queue"
    )
    flags: list[Literal["near_duplicate", "coordinated", "repeated_link", "future_date", "undated"]] = Field(
        default_factory=list,
        description="spam/bot signals (nlp/dedup.py); future_date: a claimed date in the future; "
        "undated: no date given, dated when collected",
    )
    duplicate_of: Annotated[str | None, Stored()] = Field(
        default=None, description="the first mention seen with this text"
    )
    flag_reasons: Annotated[list[str], Stored()] = Field(default_factory=list)
    status: Literal["new", "in_progress", "answered", "closed", "ignored"] = "new"
    triage: Triage | None = None
    history: list[TriageChange] = Field(default_factory=list)
    raw: Annotated[dict[str, Any], Stored()] = Field(default_factory=dict)
    edits: list[Edit] = Field(
        default_factory=list, description="later versions of the text, newest last (at most MAX_EDITS)"
    )
    refreshed_at: Annotated[datetime | None, Stored()] = Field(
        default=None, description="when a refresh last changed its counts, reach or text"
    )


class SocialHandle(BaseModel):
    network: str
    handle: str


class QualityIssue(BaseModel):
    """A data-quality problem found in a CRM record; the record is kept and the problem shown."""

    kind: Literal["invalid_email", "invalid_phone", "missing_owner", "bad_handle"]
    detail: str = Field(description="in English, for logs and the CLI")
    value: str | None = Field(default=None, description="the value at fault, as the CRM has it")
    network: str | None = Field(default=None, description="for a bad handle: its network")


class Customer(BaseModel):
    """A CRM contact mirrored into `ecoute-customers`."""

    customer_id: str
    first_name: str | None = None
    last_name: str | None = None
    full_name: Annotated[str, Text()]
    company: Annotated[str | None, Text()] = None
    email: str | None = None
    phone: str | None = None
    handles: list[str] = Field(default_factory=list, description="lower-cased social handles")
    segment: str | None = None
    account_value: float | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    language: str | None = None
    updated_at: datetime
    source: str | None = Field(default=None, description="the CRM source it is mirrored from")
    account_id: str | None = None
    emails: list[str] = Field(default_factory=list, description="every address, normalised")
    phones: list[str] = Field(default_factory=list, description="every number, E.164 when valid")
    profiles: list[SocialHandle] = Field(default_factory=list)
    confirmed_handles: list[str] = Field(
        default_factory=list,
        description="handles a person confirmed in the review queue; kept across imports",
    )
    quality: list[QualityIssue] = Field(default_factory=list)


class CrmRecord(BaseModel):
    """An account, open or closed opportunity, or interaction (ticket, call, order) in `ecoute-crm`."""

    id: str
    kind: Literal["account", "opportunity", "interaction"]
    source: str
    native_id: str
    account_id: str | None = None
    customer_id: str | None = None
    title: Annotated[str | None, Text()] = Field(default=None, description="company, deal or subject")
    segment: str | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    stage: str | None = Field(default=None, description="opportunity stage or interaction status")
    channel: str | None = Field(default=None, description="ticket, call, order...")
    amount: float | None = None
    is_open: bool | None = None
    occurred_at: datetime | None = Field(default=None, description="close date or when it happened")
    updated_at: datetime | None = None


class LinkReview(BaseModel):
    """A proposed link (mention author <-> customer) a person confirms or rejects, in `ecoute-reviews`.

    One per author and customer; the decision holds for every later mention by that author.
    """

    id: str
    author_key: str = Field(description="platform:handle, lower-cased")
    platform: str
    author_handle: str
    author_name: str | None = None
    customer_id: str
    customer_name: str
    company: str | None = None
    confidence: float
    reason: str
    evidence: list[str] = Field(default_factory=list)
    facts: list[LinkFact] = Field(default_factory=list, description="the evidence, for the dashboard")
    mention_ids: list[str] = Field(default_factory=list)
    status: Literal["pending", "confirmed", "rejected"] = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Alert(BaseModel):
    """One alert raised by a rule, in `ecoute-alerts`: about one mention, or a burst of them, or a spike.

    `dedup_keys` (rule + customer + thread) are never alerted twice; later matches within the rule's
    cooldown for the same `group_key` (rule + customer, or rule + recipients) join the alert instead.
    """

    id: str
    rule: str
    mention_id: str
    customer_id: str | None = None
    recipients: list[str]
    created_at: datetime
    summary: Annotated[str, Text()]
    sentiment: str = ""
    intent: str = ""
    url: str | None = None
    status: Literal["new", "acknowledged"] = "new"
    kind: Literal["mention", "spike"] = "mention"
    mention_ids: list[str] = Field(default_factory=list, description="every mention grouped into it")
    count: int = 1
    dedup_keys: list[str] = Field(default_factory=list)
    group_key: str | None = None
    updated_at: datetime | None = None
    topic: str | None = None
    details: Annotated[dict[str, Any], Stored()] = Field(
        default_factory=dict, description="what drives a spike: numbers, posts, terms, authors"
    )
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class Delivery(BaseModel):
    """One alert sent (or to send) to one recipient on one channel, in `ecoute-deliveries`.

    Its id is alert + recipient + channel, so an alert is delivered at most once per channel; a failed
    one keeps its reason and is retried with backoff until `max_attempts`.
    """

    id: str
    alert_id: str
    recipient: str
    channel: str = Field(description="email or webhook:<name>")
    status: Literal["pending", "sending", "sent", "failed"] = "pending"
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class StoredRule(BaseModel):
    """A rule created or edited in the dashboard, in `ecoute-rules`; it wins over config.yaml by name."""

    id: str
    name: str
    rule: Annotated[dict[str, Any], Stored()]
    updated_by: str
    updated_at: datetime


class SavedSearch(BaseModel):
    """A person's named inbox filter, in `ecoute-saved-searches`."""

    id: str
    owner: str
    name: str
    filters: Annotated[dict[str, Any], Stored()] = Field(default_factory=dict)
    created_at: datetime


class SourceState(BaseModel):
    """Cursor, lock and health of one source, and the mentions' generation, in `ecoute-state`."""

    id: str
    kind: Literal["cursor", "lock", "health", "crm", "generation"]
    source: str
    data: Annotated[dict[str, Any], Stored()] = Field(default_factory=dict)
    owner: str | None = None
    until: datetime | None = None
    updated_at: datetime


class AuditRecord(BaseModel):
    """One GDPR operation (erasure, export, retention, platform deletion), in `ecoute-audit`.

    The person concerned is kept only as a keyed digest: the audit trail proves a request was
    carried out without holding again what was erased.
    """

    id: str
    action: Literal["erase", "export", "retention", "platform_deletion"]
    at: datetime
    by: str = Field(description="operating-system user and host that ran it")
    subject_digest: str | None = None
    scope: str = Field(default="", description="source, or which identifiers were asked (never their values)")
    counts: Annotated[dict[str, Any], Stored()] = Field(default_factory=dict)


ReplyStatus = Literal["draft", "approved", "sending", "sent", "failed", "rejected"]


class Reply(BaseModel):
    """A reply to a mention, written in the Inbox and posted where the mention was, in `ecoute-replies`.

    `draft` waits for an approver, `approved` is about to be posted, `sending` is an attempt recorded
    before posting (never posted again while it stands), `sent` keeps the platform's id and address,
    `failed` the reason (the text stays for another try), `rejected` the approver's reason. A sent reply
    to a customer whose CRM takes notes keeps that push's state apart: it never changes `status`.
    """

    id: str = Field(description="chosen when the person starts writing: a second click finds it")
    mention_id: str
    source: str
    platform: str
    in_reply_to: str = Field(description="native id of the post answered")
    customer_id: str | None = None
    text: Annotated[str, Text()]
    status: ReplyStatus = "draft"
    drafted_by: str
    drafted_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection: str | None = Field(default=None, description="why the approver turned it down")
    sent_by: str | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    attempted_at: datetime | None = None
    platform_id: str | None = Field(default=None, description="the platform's id of the reply posted")
    platform_url: str | None = None
    error: str | None = Field(default=None, description="why the last attempt failed")
    crm_source: str | None = Field(
        default=None, description="the CRM source the sent reply is noted in (one with push_replies)"
    )
    crm_note_id: str | None = Field(default=None, description="that CRM's id of the note, once made")
    crm_pushed_at: datetime | None = None
    crm_push_attempts: int = 0
    crm_push_attempted_at: datetime | None = None
    crm_push_error: str | None = Field(default=None, description="why the last push to the CRM failed")
    updated_at: datetime


def document_id(*parts: str) -> str:
    """Stable id from its parts, so writing the same thing twice never duplicates it."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def as_utc(value: datetime) -> datetime:
    """Give naive datetimes the UTC zone so every timestamp compares."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Handled:
    """What the team figures need of one mention."""

    id: str
    source: str
    intent: str
    team: str | None
    collected_at: datetime
    status: str
    history: list[TriageChange] = field(default_factory=list)


@dataclass
class AlertTimes:
    """What the acknowledgement figure needs of one alert."""

    intent: str
    created_at: datetime
    acknowledged_at: datetime | None
