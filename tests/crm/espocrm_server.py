"""A local server that answers like EspoCRM's REST API (/api/v1): the records of tests/fixtures/espocrm
with EspoCRM's paging, order and `after` filter, and the notes posted to a record's stream.

Reading replays the recorded lists. Writing follows EspoCRM's API documentation, since nothing was
recorded for it: `POST Note` takes `type`, `parentType`, `parentId` and `post` and answers the note
made (docs.espocrm.com/development/api/stream and /crud), `GET {entityType}/{id}/stream` lists the
record's notes newest first as `list` and `total`, and a refusal gives its reason in the
X-Status-Reason header, as EspoCRM's error answers do.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.conftest import FIXTURES

API_KEY = "7f3c2a9e41b05d8e"
ENTITIES = ("Account", "Contact", "Opportunity", "Case", "User")
API_USER_ID = "6540a1c2e8f3b7d99"


class EspoReplay:
    """The recorded records, the notes posted since the server started, and what the next posts meet.

    `post_failures`: statuses the next POSTs are answered with, first first, nothing made;
    `lose_answers`: the note is made, then the answer lost (502, as a proxy whose upstream went silent);
    `notes_forbidden`: the API user's role has no create right on Note (403).
    """

    def __init__(self) -> None:
        self.data = {
            e: json.loads((FIXTURES / "espocrm" / f"{e}.json").read_text())["list"] for e in ENTITIES
        }
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posts: list[tuple[str, dict[str, Any]]] = []
        # Julie's stream before any reply: her creation, and a colleague's post.
        self.notes: list[dict[str, Any]] = [
            self._note("6570f1a2b3c4d9001", "Create", None, "6542c3e4a0b5d9f01", "2026-03-02 10:15:00"),
            self._note(
                "6570f1a2b3c4d9002", "Post", "Called her about the box, see case 4471.",
                "6542c3e4a0b5d9f01", "2026-11-01 09:12:00", by="6540a1c2e8f3b7d21",
            ),
        ]  # fmt: skip
        self.post_failures: list[int] = []
        self.lose_answers = False
        self.notes_forbidden = False
        self._lock = threading.Lock()

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, object]:
        parts = path.removeprefix("/api/v1/").split("/")
        if len(parts) == 3 and parts[2] == "stream":
            return self._stream(parts[0], parts[1], query)
        if parts[0] not in self.data:
            return 404, {"message": "Not Found"}
        records = self.data[parts[0]]
        if len(parts) == 2:
            found = [r for r in records if r["id"] == parts[1]]
            return (200, found[0]) if found else (404, {"message": "Not Found"})
        if query.get("where[0][type]") == "after":
            attribute, value = query["where[0][attribute]"], query["where[0][value]"]
            records = [r for r in records if (r.get(attribute) or "") > value]
        if "orderBy" in query:
            records = sorted(
                records, key=lambda r: r.get(query["orderBy"]) or "", reverse=query.get("order") == "desc"
            )
        offset, size = int(query.get("offset", 0)), int(query.get("maxSize", 20))
        page = records[offset : offset + size]
        if "select" in query:
            keep = query["select"].split(",")
            page = [{k: r.get(k) for k in ["id", *keep]} for r in page]
        return 200, {"total": len(records), "list": page}

    def _stream(self, entity: str, record_id: str, query: dict[str, str]) -> tuple[int, object]:
        if not any(r["id"] == record_id for r in self.data.get(entity, [])):
            return 404, {"message": "Not Found"}
        with self._lock:
            notes = [
                n for n in reversed(self.notes) if (n["parentType"], n["parentId"]) == (entity, record_id)
            ]
        offset, size = int(query.get("offset", 0)), int(query.get("maxSize", 20))
        return 200, {"total": len(notes), "list": notes[offset : offset + size]}

    def _note(
        self, note_id: str, kind: str, post: str | None, parent_id: str, at: str, parent: str = "Contact",
        by: str = API_USER_ID,
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "id": note_id,
            "deleted": False,
            "post": post,
            "data": {},
            "type": kind,
            "targetType": None,
            "isGlobal": False,
            "createdAt": at,
            "modifiedAt": at,
            "parentId": parent_id,
            "parentType": parent,
            "parentName": next(r["name"] for r in self.data[parent] if r["id"] == parent_id),
            "createdById": by,
            "attachmentsIds": [],
        }

    def made(self) -> list[dict[str, Any]]:
        """The notes made through the API (by its user), oldest first."""
        with self._lock:
            return [n for n in self.notes if n["createdById"] == API_USER_ID and n["type"] == "Post"]

    def create(self, path: str, body: dict[str, Any]) -> tuple[int, object, str | None]:
        """(status, answer, X-Status-Reason) of one POST."""
        with self._lock:
            self.posts.append((path, body))
            if path != "/api/v1/Note":
                return 404, {"message": "Not Found"}, None
            if self.notes_forbidden:
                return 403, None, "No create access for Note."
            if self.post_failures:
                return self.post_failures.pop(0), None, "Internal Server Error"
            parent = (body.get("parentType"), body.get("parentId"))
            if not any(r["id"] == parent[1] for r in self.data.get(str(parent[0]), [])):
                return 400, None, "Parent record not found."
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            note_id = f"6570f1a2b3c4d{len(self.notes):04d}"
            note = self._note(
                note_id, str(body.get("type")), body.get("post"), str(parent[1]), now, str(parent[0])
            )
            self.notes.append(note)
            if self.lose_answers:
                return 502, None, None
            return 200, note, None


def note_as_read(post: str) -> str:
    """A note's text as a person reads it in EspoCRM: Markdown's escapes and the word joiners gone."""
    return re.sub(r"\\(.)", r"\1", post).replace("\u2060", "")


@contextmanager
def serve_espocrm() -> Iterator[tuple[str, EspoReplay]]:
    """The server on 127.0.0.1 and a free port: its address and what it holds and saw."""
    replay = EspoReplay()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: object, reason: str | None = None) -> None:
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if reason:
                self.send_header("X-Status-Reason", reason)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            replay.requests.append((url.path, query))
            if self.headers.get("X-Api-Key") != API_KEY:
                self._send(401, None)
                return
            self._send(*replay.answer(url.path, query))

        def do_POST(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            replay.requests.append((url.path, {"method": "POST"}))
            if self.headers.get("X-Api-Key") != API_KEY:
                self._send(401, None)
                return
            self._send(*replay.create(url.path, body))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", replay
    finally:
        server.shutdown()
        server.server_close()
