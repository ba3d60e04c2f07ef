"""Bluesky: sign in with an app password (com.atproto.server.createSession), then create an
app.bsky.feed.post record whose `reply` names the thread's root and the post answered (uri and cid).

The cids come from the mention as collected (a search result or a Jetstream commit), or else from
app.bsky.feed.getPosts on the public AppView. The record key is made from the reply's id and the time
it was written, so a second attempt cannot create a second post: it finds the first one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, ClassVar

import regex

from collectors.bluesky import POST_COLLECTION, POST_URI, BlueskyConfig, post_web_url
from core.documents import Mention, Reply
from replies.base import PlatformHttp, Posted, ReplyError, first_text, secret, unset

MAX_GRAPHEMES = 300
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def _base32(value: int) -> str:
    out = ""
    while value:
        value, digit = divmod(value, 32)
        out = TID_ALPHABET[digit] + out
    return out


def record_key(reply: Reply) -> str:
    """A timestamp identifier (TID, the record key of posts) fixed by the reply: the microsecond it was
    drafted and a clock id taken from its id."""
    micros = int(reply.drafted_at.timestamp() * 1_000_000)
    clock = int(hashlib.sha1(reply.id.encode("utf-8")).hexdigest(), 16) % 1024
    return _base32(micros).rjust(11, "2") + _base32(clock).rjust(2, "2")


def _strong_ref(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    uri, cid = value.get("uri"), value.get("cid")
    if isinstance(uri, str) and isinstance(cid, str) and POST_URI.match(uri):
        return {"uri": uri, "cid": cid}
    return None


def thread_refs(uri: str, payload: Any) -> tuple[dict[str, str], dict[str, str]] | None:
    """(root, parent) of a reply to the post `uri`, from a PostView or a Jetstream commit event."""
    if not isinstance(payload, dict):
        return None
    commit = payload.get("commit") if isinstance(payload.get("commit"), dict) else {}
    record = payload.get("record") if isinstance(payload.get("record"), dict) else commit.get("record")
    parent = _strong_ref({"uri": uri, "cid": payload.get("cid") or commit.get("cid")})
    if parent is None:
        return None
    reply = record.get("reply") if isinstance(record, dict) and isinstance(record.get("reply"), dict) else {}
    return _strong_ref(reply.get("root")) or parent, parent


class BlueskyReplier:
    platform: ClassVar[str] = "Bluesky"
    max_length: ClassVar[int] = MAX_GRAPHEMES

    def __init__(self, config: BlueskyConfig) -> None:
        self.config = config
        self.pds = str(config.pds_url).rstrip("/")
        self.appview = str(config.base_url).rstrip("/")
        self.http = PlatformHttp(config, explain=_explain)

    def missing_credentials(self) -> list[str]:
        return unset(self.config.handle_env, self.config.app_password_env)

    def prefill(self, mention: Mention) -> str:
        return ""

    def length(self, text: str) -> int:
        """Graphemes, as Bluesky counts: an emoji made of several code points is one."""
        return len(regex.findall(r"\X", text))

    def send(self, mention: Mention, reply: Reply) -> Posted:
        if not POST_URI.match(mention.native_id):
            raise ReplyError(self.config.name, f"{mention.native_id!r} is not a post uri")
        root, parent = self._thread(mention)
        session = self.http.call(
            "POST",
            f"{self.pds}/xrpc/com.atproto.server.createSession",
            json={
                "identifier": secret(self.config.handle_env),
                "password": secret(self.config.app_password_env),
            },
            posting=False,
        )
        token, did = session.get("accessJwt"), session.get("did")
        if not isinstance(token, str) or not isinstance(did, str):
            raise ReplyError(self.config.name, "createSession: no accessJwt and did in the answer")
        key = record_key(reply)
        record = {
            "$type": POST_COLLECTION,
            "text": reply.text,
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        try:
            answer = self.http.call(
                "POST",
                f"{self.pds}/xrpc/com.atproto.repo.createRecord",
                json={"repo": did, "collection": POST_COLLECTION, "rkey": key, "record": record},
                headers={"Authorization": f"Bearer {token}"},
            )
        except ReplyError as refused:
            answer = self._already_posted(did, key)
            if answer is None:
                raise refused from None
        uri = answer.get("uri") if isinstance(answer, dict) else None
        if not isinstance(uri, str) or not POST_URI.match(uri):
            raise ReplyError(self.config.name, "createRecord: no post uri in the answer", unsure=True)
        handle = session.get("handle") if isinstance(session.get("handle"), str) else None
        return Posted(uri, post_web_url(uri, handle))

    def _thread(self, mention: Mention) -> tuple[dict[str, str], dict[str, str]]:
        """The root and parent references, from the mention as collected or from getPosts."""
        refs = thread_refs(mention.native_id, mention.raw)
        if refs is not None:
            return refs
        answer = self.http.call(
            "GET",
            f"{self.appview}/xrpc/app.bsky.feed.getPosts",
            params={"uris": mention.native_id},
            posting=False,
        )
        posts = answer.get("posts") if isinstance(answer, dict) else None
        view = next(
            (p for p in posts or [] if isinstance(p, dict) and p.get("uri") == mention.native_id), None
        )
        refs = thread_refs(mention.native_id, view)
        if refs is None:
            raise ReplyError(self.config.name, f"{mention.native_id}: the post is gone or has no cid")
        return refs

    def _already_posted(self, did: str, key: str) -> dict[str, Any] | None:
        """The post an earlier attempt made under this record key, if there is one."""
        try:
            found = self.http.call(
                "GET",
                f"{self.pds}/xrpc/com.atproto.repo.getRecord",
                params={"repo": did, "collection": POST_COLLECTION, "rkey": key},
                posting=False,
            )
        except ReplyError:
            return None
        return found if isinstance(found, dict) and found.get("uri") else None


def _explain(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    return first_text(" ".join(v for v in (body.get("error"), body.get("message")) if isinstance(v, str)))
