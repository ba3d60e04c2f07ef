"""EspoCRM's REST API (`/api/v1/{Entity}`), read with an API user's key; written to only when the source
has `push_replies`, and then only to note a sent reply on its contact's stream.

The write follows EspoCRM's API documentation (docs.espocrm.com/development/api/stream, "Post to
stream": `POST Note` with `type` "Post", `parentType`, `parentId` and `post`; "List stream notes of a
specific record": `GET {entityType}/{id}/stream` with offset and maxSize, answering `list` and `total`
as the CRUD list does, docs.espocrm.com/development/api/crud). The API has no idempotency key, so the
note carries the reply's id and a retry looks for it on the stream before posting again.

EspoCRM shows a post as Markdown and reads each `@name` in it as a mention of its user (notified), so
the note's text is written literally (core.text.markdown_literal): the reply, who sent it and where are
read, never followed, rendered or mentioned; the only link is the reply's own http(s) address. A record
id from the CRM goes into a request's path only when it is an EspoCRM id (letters, digits, `-`, `_`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from core.documents import Reply
from core.errors import ConfigError
from core.text import markdown_literal
from crm.base import CrmSourceError
from crm.sources import Entity, EspoCrmSourceConfig

# EspoCRM's own field names for each kind of record; a mapping in config.yaml overrides any of them.
ESPO_COLUMNS: dict[Entity, dict[str, str]] = {
    "accounts": {
        "account_id": "id",
        "company": "name",
        "segment": "type",
        "owner_name": "assignedUserName",
        "owner_email": "assignedUserEmail",
        "updated_at": "modifiedAt",
    },
    "contacts": {
        "customer_id": "id",
        "account_id": "accountId",
        "first_name": "firstName",
        "last_name": "lastName",
        "full_name": "name",
        "company": "accountName",
        "email": "emailAddress",
        "phone": "phoneNumber",
        "owner_name": "assignedUserName",
        "owner_email": "assignedUserEmail",
        "updated_at": "modifiedAt",
    },
    "opportunities": {
        "opportunity_id": "id",
        "account_id": "accountId",
        "customer_id": "contactId",
        "name": "name",
        "stage": "stage",
        "amount": "amount",
        "close_date": "closeDate",
        "updated_at": "modifiedAt",
    },
    "interactions": {
        "interaction_id": "id",
        "customer_id": "contactId",
        "account_id": "accountId",
        "kind": "type",
        "subject": "name",
        "status": "status",
        "occurred_at": "createdAt",
        "updated_at": "modifiedAt",
    },
}
OWNER_EMAIL = "assignedUserEmail"  # not an EspoCRM attribute: filled from the assigned User record
ESPO_TIME = "%Y-%m-%d %H:%M:%S"  # EspoCRM's datetime format, always UTC
STREAM_LOOKED_AT = 1000
"""A retry looks for its note among this many of the contact's newest stream notes."""
ESPO_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What an EspoCRM record id is made of (17 hex digits, or a UUID): nothing that moves a URL's path."""
_NOT_IN_A_LINK = re.compile(r"[\s<>\\\x00-\x1f\x7f-\x9f]")


def reply_marker(reply_id: str) -> str:
    """The line that ties a note to the reply it records, so a retry finds it: the note's last line, and
    never in its text above (written literally, a `[` there is always escaped)."""
    return f"[ecoute-reply:{reply_id}]"


def address_link(url: str | None) -> str | None:
    """The reply's address as a Markdown autolink when it is a plain http(s) address without user info,
    its `@` written `%40` (EspoCRM would read `@name` as a mention); None otherwise."""
    if not url or _NOT_IN_A_LINK.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    path, query, fragment = (p.replace("@", "%40") for p in (parts.path, parts.query, parts.fragment))
    return f"<{urlunsplit((parts.scheme, parts.netloc, path, query, fragment))}>"


def note_text(reply: Reply) -> str:
    """The note's text, written literally: who answered where, the reply itself, its address, and the
    reply's marker as the last line."""
    who = f" by {reply.sent_by}" if reply.sent_by else ""
    lines = [
        markdown_literal(f"Reply sent on {reply.platform}{who} (Écoute):"),
        "",
        markdown_literal(reply.text),
    ]
    where = address_link(reply.platform_url) or markdown_literal(
        reply.platform_url or reply.platform_id or ""
    )
    return "\n".join([*lines, "", *([where] if where else []), reply_marker(reply.id)])


def is_record_id(value: str) -> bool:
    return bool(ESPO_ID.fullmatch(value))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in (429, 502, 503, 504)


class EspoCrmSource:
    """Lists records page by page, oldest change first, and the ids still there for deletions."""

    type: ClassVar[str] = "espocrm"

    def __init__(self, config: EspoCrmSourceConfig, base_dir: Any = None) -> None:
        self.config, self.name = config, config.name
        key = os.environ.get(config.api_key_env)
        if not key:
            raise ConfigError(f"crm.sources.{config.name}.api_key_env: ${config.api_key_env} is not set")
        self.client = httpx.Client(
            base_url=config.url.rstrip("/") + "/api/v1/",
            headers={"X-Api-Key": key, "Accept": "application/json"},
            timeout=config.timeout_seconds,
        )
        self._user_emails: dict[str, str | None] = {}
        self._columns: dict[str, list[str]] = {}

    def default_columns(self, entity: Entity) -> dict[str, str]:
        return ESPO_COLUMNS[entity]

    @retry(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )
    def _get_once(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return self._get_once(path, params or {})
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            reason = {401: "API key refused (401)", 403: "the API user may not read this (403)"}.get(
                status, f"HTTP {status}"
            )
            raise CrmSourceError(self.name, f"GET {path}", reason) from exc
        except httpx.TransportError as exc:
            raise CrmSourceError(self.name, f"GET {path}", f"unreachable ({exc})") from exc
        except ValueError as exc:
            raise CrmSourceError(self.name, f"GET {path}", "answer is not JSON") from exc

    def _pages(self, table: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._get(table, {**params, "offset": offset, "maxSize": self.config.page_size})
            records = page.get("list")
            if not isinstance(records, list):
                raise CrmSourceError(self.name, f"GET {table}", "answer has no 'list' of records")
            yield from records
            offset += len(records)
            total = page.get("total", -1)
            if not records or (isinstance(total, int) and total >= 0 and offset >= total):
                return

    def columns(self, entity: Entity, table: str) -> list[str]:
        if table not in self._columns:
            page = self._get(table, {"maxSize": 1, "offset": 0})
            first = (page.get("list") or [{}])[0]
            # An empty table tells nothing about its fields: trust the mapping until records exist.
            names = list(first) if first else list(ESPO_COLUMNS[entity].values())
            if first and "assignedUserId" in first:
                names.append(OWNER_EMAIL)
            self._columns[table] = names
        return self._columns[table]

    def rows(
        self, entity: Entity, table: str, since: datetime | None, updated_column: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        params: dict[str, Any] = {"orderBy": updated_column or "createdAt", "order": "asc"}
        if since is not None and updated_column:
            params.update(
                {
                    "where[0][type]": "after",
                    "where[0][attribute]": updated_column,
                    "where[0][value]": since.astimezone(UTC).strftime(ESPO_TIME),
                }
            )
        for record in self._pages(table, params):
            if record.get("assignedUserId"):
                record[OWNER_EMAIL] = self._user_email(record["assignedUserId"])
            yield f"{table} {record.get('id', '?')}", record

    def ids(self, entity: Entity, table: str, id_column: str) -> set[str] | None:
        return {str(r[id_column]) for r in self._pages(table, {"select": id_column}) if r.get(id_column)}

    def note_reply(self, reply: Reply, retrying: bool) -> str:
        """Post the sent reply on its contact's stream (`push_replies` only); the Note's id."""
        if not self.config.push_replies:
            raise CrmSourceError(self.name, "POST Note", "push_replies is off for this source")
        if not reply.customer_id:
            raise CrmSourceError(self.name, "POST Note", f"reply {reply.id} has no customer")
        if not is_record_id(reply.customer_id):
            shown = reply.customer_id[:40]
            raise CrmSourceError(self.name, "POST Note", f"contact id {shown!r} is not an EspoCRM record id")
        parent = self.config.mapping["contacts"].table
        if retrying:
            found = self._reply_note(parent, reply.customer_id, reply.id)
            if found:
                return found
        body = {"type": "Post", "parentType": parent, "parentId": reply.customer_id, "post": note_text(reply)}
        note = self._post("Note", body)
        if not isinstance(note.get("id"), str) or not note["id"]:
            raise CrmSourceError(self.name, "POST Note", "the answer has no note id (it may have been made)")
        return note["id"]

    def _reply_note(self, parent: str, contact_id: str, reply_id: str) -> str | None:
        """The id of the post on the contact's stream whose last line is the reply's marker, if one is."""
        marker = reply_marker(reply_id)
        for looked, note in enumerate(self._pages(f"{parent}/{contact_id}/stream", {}), start=1):
            post = note.get("post")
            ours = note.get("type") == "Post" and isinstance(post, str) and post.splitlines()[-1:] == [marker]
            if ours and note.get("id"):
                return str(note["id"])
            if looked >= STREAM_LOOKED_AT:
                break
        return None

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One POST, never repeated here: a retry is the caller's, after looking for what it made."""
        try:
            response = self.client.post(path, json=body)
        except httpx.TransportError as exc:
            raise CrmSourceError(self.name, f"POST {path}", f"no answer ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            reason = {
                401: "API key refused (401)",
                403: f"the API user may not create {path} records (403): give its role create on {path}",
            }.get(response.status_code, f"HTTP {response.status_code}")
            said = " ".join(response.headers.get("X-Status-Reason", "").split())[:200]
            raise CrmSourceError(self.name, f"POST {path}", reason + (f": {said}" if said else ""))
        try:
            answer = response.json()
        except ValueError as exc:
            raise CrmSourceError(
                self.name, f"POST {path}", "answer is not JSON (it may have been made)"
            ) from exc
        return answer if isinstance(answer, dict) else {}

    def _user_email(self, user_id: str) -> str | None:
        if not is_record_id(user_id):  # never a path of its own choosing, with the API key
            return None
        if user_id not in self._user_emails:
            self._user_emails[user_id] = self._get(f"User/{user_id}").get("emailAddress")
        return self._user_emails[user_id]

    def close(self) -> None:
        self.client.close()
