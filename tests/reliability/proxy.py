"""A real HTTP proxy in front of the Elasticsearch stand-in that misbehaves on demand.

It forwards every request as it is, except what the test asks it to refuse: whole bulk requests
(429 or 503, as a busy or restarting cluster answers) or single documents inside a bulk (429
`es_rejected_execution_exception`, as a cluster with a full write queue answers item by item).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "content-encoding", "keep-alive"}


@dataclass
class Bulk:
    """One bulk request as the proxy saw it: the document ids it carried and what it answered."""

    index: str | None
    ids: list[str]
    status: int


@dataclass
class Faults:
    bulk_status: int | None = None
    """Answer every bulk request with this status instead of forwarding it."""
    fail_after_bulks: int | None = None
    """Forward this many bulk requests to the mentions, then refuse every bulk with `bulk_status` (or 503)."""
    reject_once: set[str] = field(default_factory=set)
    """Document ids refused with an item-level 429 the first time they are sent."""


def is_mentions(index: str | None, prefix: str = "[^/]+") -> bool:
    """Whether a bulk writes mentions: to the alias, or to one of their period indices."""
    return bool(index and re.fullmatch(rf"{prefix}-mentions(-v\d+-[0-9.w]+)?", index))


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = Faults()
        self.bulks: list[Bulk] = []
        self._client = httpx.Client(timeout=30)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, content = proxy.answer(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()

    def mention_bulks(self, prefix: str) -> list[Bulk]:
        return [b for b in self.bulks if is_mentions(b.index, prefix)]

    def heal(self) -> None:
        self.faults = Faults()

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes):
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        response = self._client.request(method, self.upstream + path, headers=sent, content=body)
        return response.status_code, dict(response.headers), response.content

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes):
        if not path.split("?")[0].endswith("/_bulk"):
            return self._forward(method, path, headers, body)
        lines = [line for line in body.split(b"\n") if line.strip()]
        pairs: list[tuple[dict, bytes, bytes | None]] = []
        position = 0
        while position < len(lines):
            action = json.loads(lines[position])
            has_source = next(iter(action)) != "delete"
            pairs.append((action, lines[position], lines[position + 1] if has_source else None))
            position += 2 if has_source else 1
        ids = [next(iter(action.values())).get("_id") for action, _, _ in pairs]
        index = next(iter(pairs[0][0].values())).get("_index") if pairs else None
        with self._lock:
            faults = self.faults
            refuse = faults.bulk_status if faults.fail_after_bulks is None else None
            if faults.fail_after_bulks is not None:
                if faults.fail_after_bulks <= 0:
                    refuse = faults.bulk_status or 503
                elif is_mentions(index):
                    faults.fail_after_bulks -= 1
            rejected = {i for i in ids if i in faults.reject_once}
            faults.reject_once -= rejected
        if refuse:
            self.bulks.append(Bulk(index, ids, refuse))
            error = {
                "error": {"type": "unavailable", "reason": "injected by the test proxy"},
                "status": refuse,
            }
            return (
                refuse,
                {"Content-Type": "application/json", "X-Elastic-Product": "Elasticsearch"},
                (json.dumps(error).encode()),
            )
        self.bulks.append(Bulk(index, ids, 200))
        kept = [p for p, i in zip(pairs, ids, strict=True) if i not in rejected]
        forwarded: list[dict] = []
        status, out_headers = 200, {"Content-Type": "application/json", "X-Elastic-Product": "Elasticsearch"}
        if kept:
            status, out_headers, content = self._forward(
                method,
                path,
                headers,
                b"".join(
                    raw + b"\n" + (source + b"\n" if source is not None else b"") for _, raw, source in kept
                ),
            )
            forwarded = json.loads(content)["items"]
        answered = iter(forwarded)
        items = []
        for (action, _, _), doc_id in zip(pairs, ids, strict=True):
            op = next(iter(action))
            if doc_id in rejected:
                error = {"type": "es_rejected_execution_exception", "reason": "write queue full (test proxy)"}
                items.append(
                    {op: {"_id": doc_id, "_index": action[op].get("_index"), "status": 429, "error": error}}
                )
            else:
                items.append(next(answered))
        errors = any("error" in next(iter(item.values())) for item in items)
        return status, out_headers, json.dumps({"took": 1, "errors": errors, "items": items}).encode()
