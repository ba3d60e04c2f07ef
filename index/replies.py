"""Replies to mentions: created once by id, changed only at the version read, listed per mention and
for the approvers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError, TransportError

from core.documents import Reply
from core.errors import EcouteError, IndexUnavailableError
from index.catalog import DocumentType
from index.client import IndexNames
from index.mention_search import MAX_TERMS

REPLIES = DocumentType("replies", Reply)


class ReplyChangedError(EcouteError):
    """Someone else changed the reply since it was read (approved, sent, rejected): nothing was written."""

    def __init__(self, reply_id: str) -> None:
        super().__init__(f"reply {reply_id} was changed by someone else meanwhile; reload")
        self.reply_id = reply_id


@dataclass(frozen=True)
class VersionedReply:
    """A reply with the version a conditional write needs (Elasticsearch's seq_no + primary_term)."""

    reply: Reply
    seq_no: int
    primary_term: int


def create_reply(es: Elasticsearch, names: IndexNames, reply: Reply) -> bool:
    """Record a new reply; False when its id is already there (a second click on the same draft)."""
    try:
        es.create(
            index=REPLIES.alias(names), id=reply.id, document=reply.model_dump(mode="json"), refresh=True
        )
    except ConflictError:
        return False
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot record reply {reply.id}: {exc}") from exc
    return True


def get_reply(es: Elasticsearch, names: IndexNames, reply_id: str) -> VersionedReply | None:
    try:
        hit = es.get(index=REPLIES.alias(names), id=reply_id)
    except NotFoundError:
        return None
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot read reply {reply_id}: {exc}") from exc
    return VersionedReply(Reply.model_validate(hit["_source"]), hit["_seq_no"], hit["_primary_term"])


def save_reply(es: Elasticsearch, names: IndexNames, read: VersionedReply, reply: Reply) -> VersionedReply:
    """Write `reply` only if it is still at the version `read`; ReplyChangedError otherwise."""
    try:
        result = es.index(
            index=REPLIES.alias(names),
            id=reply.id,
            document=reply.model_dump(mode="json"),
            if_seq_no=read.seq_no,
            if_primary_term=read.primary_term,
            refresh=True,
        )
    except ConflictError as exc:
        raise ReplyChangedError(reply.id) from exc
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot save reply {reply.id}: {exc}") from exc
    return VersionedReply(reply, result["_seq_no"], result["_primary_term"])


def replies_to(es: Elasticsearch, names: IndexNames, mention_ids: Iterable[str]) -> dict[str, list[Reply]]:
    """The replies to each of these mentions, oldest first (mentions without any are absent)."""
    ids = list(dict.fromkeys(mention_ids))[:MAX_TERMS]
    if not ids:
        return {}
    result = es.search(
        index=REPLIES.alias(names),
        query={"terms": {"mention_id": ids}},
        sort=[{"drafted_at": "asc"}, {"id": "asc"}],
        size=1000,
    )
    found: dict[str, list[Reply]] = {}
    for hit in result["hits"]["hits"]:
        reply = Reply.model_validate(hit["_source"])
        found.setdefault(reply.mention_id, []).append(reply)
    return found


def awaiting_approval(es: Elasticsearch, names: IndexNames, size: int = 100) -> list[Reply]:
    """Drafts waiting for an approver, the oldest first."""
    result = es.search(
        index=REPLIES.alias(names),
        query={"term": {"status": "draft"}},
        sort=[{"drafted_at": "asc"}, {"id": "asc"}],
        size=size,
    )
    return [Reply.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def replies_to_push(
    es: Elasticsearch,
    names: IndexNames,
    size: int = 100,
    due: Callable[[Reply], bool] | None = None,
    page: int = 500,
) -> list[Reply]:
    """Sent replies due a note in their customer's CRM that has none yet, the oldest sent first: the first
    `size` that `due` accepts (all when None), read page by page past those it does not, so replies
    waiting out their retries (or failing for good) never hide a later one that is due."""
    found: list[Reply] = []
    after: list[Any] | None = None
    while len(found) < size:
        result = es.search(
            index=REPLIES.alias(names),
            query={
                "bool": {
                    "filter": [{"term": {"status": "sent"}}, {"exists": {"field": "crm_source"}}],
                    "must_not": [{"exists": {"field": "crm_note_id"}}],
                }
            },
            sort=[{"sent_at": "asc"}, {"id": "asc"}],
            size=page,
            **({"search_after": after} if after else {}),
        )
        hits = result["hits"]["hits"]
        replies = (Reply.model_validate(h["_source"]) for h in hits)
        found += [r for r in replies if due is None or due(r)]
        if len(hits) < page:
            break
        after = hits[-1]["sort"]
    return found[:size]
