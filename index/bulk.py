"""Bulk creation with retries of what the index refuses for a while; a report of what was stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, TransportError
from elasticsearch.helpers import streaming_bulk
from pydantic import BaseModel
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from core.errors import IndexUnavailableError
from index import periods

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
"""Answers that mean "not now" (busy, restarting): the document is tried again, never dead-lettered."""


@dataclass
class BulkReport:
    created: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    """Ids the index could not take now (unreachable, 429, 5xx) after every attempt: the caller keeps them."""
    deferred_reason: str | None = None
    indices: set[str] = field(default_factory=set)
    """The concrete indices written to (created or already there): the ones a refresh needs."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.deferred


def failure_reason(error: object) -> str:
    """The index's reason for refusing a document, with its cause ("out of range for a long")."""
    if not isinstance(error, dict):
        return str(error)
    reason = str(error.get("reason", error))
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason") and cause["reason"] not in reason:
        reason += f" ({cause['reason']})"
    return reason


def _bulk_pass(
    es: Elasticsearch,
    alias: str,
    pending: dict[str, dict[str, Any]],
    report: BulkReport,
    targets: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """One bulk `create` of `pending` (each into `targets[id]`, else `alias`); returns the documents worth
    another try (and why, in the report)."""
    targets = targets or {}
    actions = (
        {"_op_type": "create", "_index": targets.get(doc_id, alias), "_id": doc_id, "_source": source}
        for doc_id, source in pending.items()
    )
    answered: set[str] = set()
    again: dict[str, dict[str, Any]] = {}
    try:
        for ok, item in streaming_bulk(
            es, actions, raise_on_error=False, raise_on_exception=False, chunk_size=500
        ):
            result = item["create"]
            doc_id = str(result.get("_id", "?"))
            answered.add(doc_id)
            status = result.get("status")
            if ok or status == 409:
                report.indices.add(str(result.get("_index") or targets.get(doc_id, alias)))
            if ok:
                report.created += 1
            elif status == 409:
                report.duplicates += 1
            else:
                reason = failure_reason(result.get("error"))
                if status in RETRYABLE_STATUS and doc_id in pending:
                    again[doc_id] = pending[doc_id]
                    report.deferred_reason = f"HTTP {status}: {reason}"
                else:
                    report.failed.append((doc_id, reason))
    except TransportError as exc:  # unreachable mid-bulk: whatever was not answered is tried again
        again.update({doc_id: s for doc_id, s in pending.items() if doc_id not in answered})
        report.deferred_reason = str(exc)
    return again


def create_documents(
    es: Elasticsearch,
    alias: str,
    docs: Iterable[tuple[str, BaseModel]],
    refresh: bool = True,
    attempts: int = 1,
    backoff_seconds: float = 0.5,
    defer: bool = False,
    targets: dict[str, str] | None = None,
) -> BulkReport:
    """Bulk `create` by id: an id already there counts as a duplicate, never a second copy.

    `targets` names the concrete index of a document (by id) when it is not `alias` (the mentions).

    Only the documents a pass could not store for a passing reason (429, 5xx, connection lost) are
    sent again, up to `attempts` passes in all. What is left is `deferred` when `defer` is set (the
    caller keeps it), otherwise IndexUnavailableError. A document refused for what it is (mapping,
    bad value) is in `failed` with the index's reason and is never retried here.
    """
    pending = {doc_id: doc.model_dump(mode="json") for doc_id, doc in docs}
    report = BulkReport()
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff_seconds, max=max(backoff_seconds * 8, 0.001)),
        retry=retry_if_result(bool),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else {},
    )
    left = {"pending": pending}

    def one_pass() -> dict[str, dict[str, Any]]:
        left["pending"] = _bulk_pass(es, alias, left["pending"], report, targets)
        return left["pending"]

    report.deferred = list(retrying(one_pass))
    if report.deferred and not defer:
        raise IndexUnavailableError(
            f"cannot write to {alias}: {len(report.deferred)} documents not taken ({report.deferred_reason})"
        )
    if refresh and (report.created or report.duplicates):
        periods.refresh(es, report.indices or {alias})
    return report
