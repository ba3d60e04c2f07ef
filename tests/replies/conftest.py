"""Local servers that take replies as each platform's write API does and record what was posted.

Answers are shaped like the platforms' documented ones: Mastodon's from a real `POST /api/v1/statuses`
answer (tests/fixtures/collectors/mastodon/recorded), the others from the API references (Bluesky's
com.atproto lexicons, Discourse's `POST /posts.json`, Reddit's `/api/comment`, YouTube's
`comments.insert`).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.collectors.conftest import Reply as Answer
from tests.collectors.conftest import ScriptedServer, SeenRequest, fixture_json

TOKEN = "test-token-with-write-scope"
DID = "did:plc:lumiocare3x7k2wq5mxyztee"
HANDLE = "lumiocare.bsky.social"


@dataclass
class Posted:
    """One reply a platform took: where it answers and what it says."""

    in_reply_to: Any
    text: str
    request: SeenRequest
    extra: dict[str, Any] = field(default_factory=dict)


class Platform:
    """A scripted server that records the replies it took; `fail_with` makes the next posts fail."""

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        self.posted: list[Posted] = []
        self.fail_with: Answer | None = None
        self.lose_answers = False
        """Take the reply, then answer 502 as a proxy whose upstream went silent would."""
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.server.url

    def _failing(self) -> Answer | None:
        return self.fail_with

    def _answer(self, answer: Answer) -> Answer:
        return Answer(502, "<html><body>502 Bad Gateway</body></html>") if self.lose_answers else answer


class MastodonInstance(Platform):
    """POST /api/v1/statuses; an Idempotency-Key seen before gets the same status back, as Mastodon does."""

    def __init__(self, server: ScriptedServer) -> None:
        super().__init__(server)
        self.by_key: dict[str, dict[str, Any]] = {}
        server.route("/api/v1/statuses", self._status)

    def _status(self, request: SeenRequest) -> Answer:
        if request.header("Authorization") != f"Bearer {TOKEN}":
            return Answer(401, {"error": "The access token is invalid"})
        if self._failing():
            return self._failing()
        body = json.loads(request.body)
        key = request.header("Idempotency-Key")
        with self._lock:
            if key and key in self.by_key:
                return Answer(200, self.by_key[key])
            if len(body["status"]) > 500:
                return Answer(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
            status = copy.deepcopy(fixture_json("mastodon", "recorded/mastodonpy_status_reply.json"))
            status_id = str(113_700_000_000_000_000 + len(self.posted))
            status.update(
                id=status_id,
                in_reply_to_id=body.get("in_reply_to_id"),
                visibility=body.get("visibility", "public"),
                content=f"<p>{body['status']}</p>",
                url=f"{self.url}/@lumiocare/{status_id}",
                uri=f"{self.url}/users/lumiocare/statuses/{status_id}",
            )
            self.posted.append(Posted(body.get("in_reply_to_id"), body["status"], request, body))
            if key:
                self.by_key[key] = status
        return self._answer(Answer(200, status))


class BlueskyPds(Platform):
    """createSession, createRecord (a record key taken once), getRecord; and the AppView's getPosts."""

    def __init__(self, server: ScriptedServer, password: str) -> None:
        super().__init__(server)
        self.password = password
        self.records: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        server.route("/xrpc/com.atproto.server.createSession", self._session)
        server.route("/xrpc/com.atproto.repo.createRecord", self._create)
        server.route("/xrpc/com.atproto.repo.getRecord", self._get)
        server.route("/xrpc/app.bsky.feed.getPosts", self._posts)

    def _session(self, request: SeenRequest) -> Answer:
        body = json.loads(request.body)
        if (body.get("identifier"), body.get("password")) != (HANDLE, self.password):
            return Answer(
                401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            )
        return Answer(
            200,
            {
                "did": DID,
                "handle": HANDLE,
                "accessJwt": "jwt-access",
                "refreshJwt": "jwt-refresh",
                "active": True,
            },
        )

    def _create(self, request: SeenRequest) -> Answer:
        if request.header("Authorization") != "Bearer jwt-access":
            return Answer(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
        if self._failing():
            return self._failing()
        body = json.loads(request.body)
        uri = f"at://{body['repo']}/{body['collection']}/{body['rkey']}"
        with self._lock:
            if uri in self.records:
                return Answer(400, {"error": "InvalidRequest", "message": "Record already exists"})
            cid = f"bafyreireply{len(self.records)}"
            self.records[uri] = {"uri": uri, "cid": cid, "value": body["record"]}
            self.posted.append(Posted(body["record"].get("reply"), body["record"]["text"], request, body))
        return self._answer(
            Answer(200, {"uri": uri, "cid": cid, "commit": {"cid": "bafyreicommit", "rev": "3lbx7"}})
        )

    def _get(self, request: SeenRequest) -> Answer:
        uri = f"at://{request.arg('repo')}/{request.arg('collection')}/{request.arg('rkey')}"
        if uri not in self.records:
            return Answer(400, {"error": "RecordNotFound", "message": f"Could not locate record: {uri}"})
        return Answer(200, self.records[uri])

    def _posts(self, request: SeenRequest) -> Answer:
        uris = request.query.get("uris", [])
        return Answer(200, {"posts": [self.views[u] for u in uris if u in self.views]})


class DiscourseForum(Platform):
    """POST /posts.json as the API user; the answer is the post created."""

    def __init__(self, server: ScriptedServer, key: str, username: str) -> None:
        super().__init__(server)
        self.key, self.username = key, username
        server.route("/posts.json", self._post)

    def _post(self, request: SeenRequest) -> Answer:
        if (request.header("Api-Key"), request.header("Api-Username")) != (self.key, self.username):
            return Answer(403, {"errors": ["You are not permitted to view the requested resource."]})
        if self._failing():
            return self._failing()
        body = json.loads(request.body)
        with self._lock:
            number = 7 + len(self.posted)
            self.posted.append(
                Posted((body["topic_id"], body.get("reply_to_post_number")), body["raw"], request)
            )
        return Answer(
            200,
            {
                "id": 90_000 + number,
                "username": self.username,
                "cooked": f"<p>{body['raw']}</p>",
                "post_number": number,
                "post_type": 1,
                "topic_id": body["topic_id"],
                "topic_slug": "lumio-fibre-outage-in-lyon-anyone-else",
                "reply_to_post_number": body.get("reply_to_post_number"),
            },
        )


class RedditApi(Platform):
    """The password grant at /api/v1/access_token and POST /api/comment."""

    def __init__(self, server: ScriptedServer) -> None:
        super().__init__(server)
        server.route("/api/v1/access_token", self._token)
        server.route("/api/comment", self._comment)

    def _token(self, request: SeenRequest) -> Answer:
        form = parse_qs(request.body.decode())
        if form.get("grant_type") != ["password"] or form.get("password") != ["hunter2"]:
            return Answer(200, {"error": "invalid_grant"})
        return Answer(200, {"access_token": "user-token", "token_type": "bearer", "expires_in": 86400})

    def _comment(self, request: SeenRequest) -> Answer:
        if request.header("Authorization") != "bearer user-token":
            return Answer(401, {"message": "Unauthorized", "error": 401})
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        with self._lock:
            self.posted.append(Posted(form["thing_id"], form["text"], request))
            comment_id = f"lm{len(self.posted)}"
        link = form["thing_id"].removeprefix("t3_").removeprefix("t1_")
        return Answer(
            200,
            {
                "json": {
                    "errors": [],
                    "data": {
                        "things": [
                            {
                                "kind": "t1",
                                "data": {
                                    "id": comment_id,
                                    "name": f"t1_{comment_id}",
                                    "parent_id": form["thing_id"],
                                    "body": form["text"],
                                    "permalink": f"/r/france/comments/{link}/_/{comment_id}/",
                                },
                            }
                        ]
                    },
                }
            },
        )


class YoutubeApi(Platform):
    """POST /comments?part=snippet with an OAuth bearer token."""

    def __init__(self, server: ScriptedServer) -> None:
        super().__init__(server)
        server.route("/comments", self._insert)

    def _insert(self, request: SeenRequest) -> Answer:
        if request.header("Authorization") != f"Bearer {TOKEN}":
            error = {"code": 401, "message": "Request had invalid authentication credentials."}
            return Answer(401, {"error": {**error, "errors": [{"reason": "authError"}]}})
        body = json.loads(request.body)
        snippet = body["snippet"]
        with self._lock:
            self.posted.append(Posted(snippet["parentId"], snippet["textOriginal"], request))
            comment_id = f"{snippet['parentId']}.reply{len(self.posted)}"
        return Answer(
            200,
            {
                "kind": "youtube#comment",
                "id": comment_id,
                "snippet": {**snippet, "authorDisplayName": "Lumio"},
            },
        )


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A fresh local HTTP server for one test, on 127.0.0.1 and a free port."""
    scripted = ScriptedServer()
    scripted.start()
    yield scripted
    scripted.stop()
