"""Index set-up and every write: templates, aliases, bulk, state, locks."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk
from pydantic import BaseModel, ValidationError
from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from core.documents import (
    Alert,
    AuditRecord,
    CrmRecord,
    Customer,
    Delivery,
    LinkReview,
    Mention,
    SavedSearch,
    SourceState,
    StoredRule,
    Triage,
    TriageChange,
)
from core.errors import EcouteError, IndexUnavailableError
from index import periods
from index.client import IndexNames
from index.mappings import mapping_for
from index.periods import SCHEMA_VERSION, locate, mention_index, mention_indices, period_bounds

log = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION"]


def _document_types(names: IndexNames) -> list[tuple[str, type[BaseModel]]]:
    return [
        (names.mentions, Mention),
        (names.customers, Customer),
        (names.alerts, Alert),
        (names.state, SourceState),
        (names.saved_searches, SavedSearch),
        (names.crm, CrmRecord),
        (names.reviews, LinkReview),
        (names.audit, AuditRecord),
        (names.deliveries, Delivery),
        (names.rules, StoredRule),
    ]


def ensure_indices(es: Elasticsearch, names: IndexNames) -> list[str]:
    """Create the versioned templates, indices and aliases that are missing; return created indices.

    The mentions' template also gives every period index (`<alias>-v<N>-<period>`, index/periods.py)
    the alias, so the first write of a new month creates its index, mapped and aliased; the current
    period's index is made here so that the alias is there before any mention is.
    """
    created = []
    try:
        for alias, model in _document_types(names):
            template: dict[str, Any] = {
                "settings": {"number_of_shards": 1, "number_of_replicas": 0},
                "mappings": mapping_for(model),
            }
            if alias == names.mentions:
                template["aliases"] = {alias: {}}
            es.indices.put_index_template(
                name=f"{alias}-template",
                index_patterns=[f"{alias}-v*"],
                template=template,
                version=SCHEMA_VERSION,
                priority=100,
            )
            if not es.indices.exists_alias(name=alias):
                if alias == names.mentions:
                    index = mention_index(names, datetime.now(UTC))
                    es.indices.create(index=index)
                else:
                    index = f"{alias}-v{SCHEMA_VERSION}"
                    es.indices.create(index=index, aliases={alias: {"is_write_index": True}})
                created.append(index)
            else:  # fields added to a model since the index was made reach it (additive changes only)
                es.indices.put_mapping(index=alias, properties=mapping_for(model)["properties"])
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot create Écoute's indices: {exc}") from exc
    return created


def drop_indices(es: Elasticsearch, names: IndexNames) -> None:
    """Delete every index and template of this prefix (tests, `ecoute es reset`)."""
    for alias, _ in _document_types(names):
        indices = list(es.indices.get(index=f"{alias}-v*", allow_no_indices=True))
        if indices:  # deleting needs exact names: wildcards are refused by default
            es.indices.delete(index=",".join(indices))
        es.options(ignore_status=404).indices.delete_index_template(name=f"{alias}-template")


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


def _reason(error: object) -> str:
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
                reason = _reason(result.get("error"))
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


def index_mentions(
    es: Elasticsearch,
    names: IndexNames,
    mentions: list[Mention],
    attempts: int = 1,
    backoff_seconds: float = 0.5,
    defer: bool = False,
    refresh: bool = True,
) -> BulkReport:
    """Create mentions by id (see `create_documents`), each in the index of its `created_at`;
    `refresh=False` leaves them to the index's own refresh (within `refresh_interval`, 1 s by default)
    or to a later `refresh_mentions(report.indices)`, which then marks the change (marking it before
    they are searchable would let a list be cached without them)."""
    try:
        report = create_documents(
            es,
            names.mentions,
            ((m.id, m) for m in mentions),
            refresh=refresh,
            attempts=attempts,
            backoff_seconds=backoff_seconds,
            defer=defer,
            targets=mention_targets(es, names, mentions),
        )
    except Exception:  # the passes before the one that raised may have stored some
        if refresh:
            mark_mentions_changed(es, names)
        raise
    if report.created and refresh:
        mark_mentions_changed(es, names)
    return report


UNSTABLE_DATE_FLAGS = ("undated", "future_date")
"""A mention dated when collected (its post gave no date, or one not believed): collected again later,
its `created_at` may fall in another period, so it is looked up by id before it is written."""


def mention_targets(es: Elasticsearch, names: IndexNames, mentions: list[Mention]) -> dict[str, str]:
    """The index each mention is created in: the period of its `created_at`, or where it already is.

    A mention whose date may move (UNSTABLE_DATE_FLAGS) and, while a pre-period index is still behind
    the alias (before `ecoute index migrate`), every mention, is looked up by id first, so collecting
    it twice stays one copy.
    """
    targets = {m.id: mention_index(names, m.created_at) for m in mentions}
    legacy = any(period_bounds(i) is None for i in mention_indices(es, names)) if mentions else False
    unsure = [m.id for m in mentions if legacy or set(UNSTABLE_DATE_FLAGS) & set(m.flags)]
    for mention_id, doc in locate(es, names, unsure).items():
        targets[mention_id] = doc["_index"]
    return targets


def refresh_mentions(es: Elasticsearch, names: IndexNames, indices: Iterable[str] | None = None) -> None:
    """Make the mentions written so far to `indices` (all of them when None) searchable now."""
    periods.refresh(es, [names.mentions] if indices is None else indices)
    mark_mentions_changed(es, names)


MENTIONS_GENERATION = "generation:mentions"
"""The state document whose token changes after every write to the mentions (cache keys read it)."""
NO_GENERATION = ""


def mark_mentions_changed(es: Elasticsearch, names: IndexNames) -> None:
    """Give the mentions a new generation token, so lists cached under the old one are read again.

    Called after every write to the mentions. It never fails the write: if the token cannot be
    stored, a warning is logged and the dashboard's cache expires on its own (its TTL).
    """
    state = SourceState(
        id=MENTIONS_GENERATION,
        kind="generation",
        source="mentions",
        data={"token": uuid.uuid4().hex},
        updated_at=datetime.now(UTC),
    )
    try:  # a get by id is real-time: no refresh needed for readers to see the new token
        put_state(es, names, state, refresh=False)
    except (ApiError, TransportError) as exc:
        log.warning("mentions changed but their generation was not bumped (caches expire alone): %s", exc)


def mentions_generation(es: Elasticsearch, names: IndexNames) -> str:
    """The current generation token of the mentions (one get by id); NO_GENERATION before any write."""
    state = get_state(es, names, MENTIONS_GENERATION)
    return str(state.data.get("token", NO_GENERATION)) if state else NO_GENERATION


def write_alerts(es: Elasticsearch, names: IndexNames, alerts: list[Alert]) -> BulkReport:
    return create_documents(es, names.alerts, ((a.id, a) for a in alerts))


def upsert_customers(es: Elasticsearch, names: IndexNames, customers: list[Customer]) -> int:
    """Mirror CRM contacts: the latest import replaces the previous copy of each."""
    actions = (
        {
            "_op_type": "index",
            "_index": names.customers,
            "_id": c.customer_id,
            "_source": c.model_dump(mode="json"),
        }
        for c in customers
    )
    written = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            if not ok:
                result = item["index"]
                raise IndexUnavailableError(f"customer {result.get('_id')}: {result.get('error')}")
            written += 1
        es.indices.refresh(index=names.customers)
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot write customers: {exc}") from exc
    return written


def set_alert_status(es: Elasticsearch, names: IndexNames, alert_id: str, status: str) -> None:
    es.update(index=names.alerts, id=alert_id, doc={"status": status}, refresh=True)


def get_state(es: Elasticsearch, names: IndexNames, state_id: str) -> SourceState | None:
    try:
        hit = es.get(index=names.state, id=state_id)
    except NotFoundError:
        return None
    return SourceState.model_validate(hit["_source"])


def put_state(es: Elasticsearch, names: IndexNames, state: SourceState, refresh: bool = True) -> None:
    es.index(index=names.state, id=state.id, document=state.model_dump(mode="json"), refresh=refresh)


def acquire_lock(es: Elasticsearch, names: IndexNames, name: str, owner: str, ttl: timedelta) -> bool:
    """Take the named lease for `ttl` unless another live owner holds it.

    The lease lives in `ecoute-state`, so two `ecoute run` processes sharing one index never run
    the same job at once; a crashed owner's lease simply expires.
    """
    now = datetime.now(UTC)
    state_id = f"lock:{name}"
    lease = SourceState(
        id=state_id, kind="lock", source=name, owner=owner, until=now + ttl, updated_at=now
    ).model_dump(mode="json")
    try:
        current = es.get(index=names.state, id=state_id)
    except NotFoundError:
        try:
            es.create(index=names.state, id=state_id, document=lease, refresh=True)
            return True
        except ConflictError:
            return False
    held = SourceState.model_validate(current["_source"])
    if held.owner != owner and held.until and held.until > now:
        return False
    try:
        es.index(
            index=names.state,
            id=state_id,
            document=lease,
            if_seq_no=current["_seq_no"],
            if_primary_term=current["_primary_term"],
            refresh=True,
        )
    except ConflictError:
        return False
    return True


def release_lock(es: Elasticsearch, names: IndexNames, name: str, owner: str) -> None:
    state_id = f"lock:{name}"
    try:
        current = es.get(index=names.state, id=state_id)
    except NotFoundError:
        return
    if current["_source"].get("owner") != owner:
        return
    with contextlib.suppress(ConflictError, NotFoundError):
        es.delete(
            index=names.state,
            id=state_id,
            if_seq_no=current["_seq_no"],
            if_primary_term=current["_primary_term"],
            refresh=True,
        )


TRIAGE_FIELDS = ("status", "assignee", "team", "tags", "note")


class TriageError(EcouteError):
    """A triage change that cannot be saved as asked (unknown mention, invalid value)."""


class TriageConflictError(EcouteError):
    """Someone else changed the mention since it was read: nothing was written."""

    def __init__(self, mention_id: str, changed_by: str | None, changed_at: datetime | None) -> None:
        self.mention_id, self.changed_by, self.changed_at = mention_id, changed_by, changed_at
        when = changed_at.strftime("%H:%M") if changed_at else "?"
        super().__init__(f"mention {mention_id} was changed by {changed_by or 'someone'} at {when}; reload")


@dataclass(frozen=True)
class TriageVersion:
    """The version of a mention a write is conditional on (Elasticsearch's seq_no + primary_term)."""

    seq_no: int
    primary_term: int


def _triage_value(mention: Mention, name: str) -> object:
    if name == "status":
        return mention.status
    triage = mention.triage or Triage()
    return getattr(triage, name)


def _history_text(value: object) -> str | None:
    if isinstance(value, list):
        return ", ".join(value) or None
    return None if value in (None, "") else str(value)


def update_triage(
    es: Elasticsearch,
    names: IndexNames,
    mention_id: str,
    changes: dict[str, object],
    by: str,
    seq_no: int,
    primary_term: int,
    seen: dict[str, object] | None = None,
) -> TriageVersion:
    """Apply `changes` (status, assignee, tags, note) only if the mention is still at the version read.

    Every changed field is appended to the mention's history with who and when; a mention whose triage
    changed in between raises TriageConflictError naming who changed it, and nothing is overwritten.
    `seen` (the triage fields as the person saw them) lets a save go through when only something else,
    such as the labels of a background re-score, changed since.
    """
    unknown = sorted(set(changes) - set(TRIAGE_FIELDS))
    if unknown:
        raise TriageError(f"cannot change {', '.join(unknown)}: triage fields are {', '.join(TRIAGE_FIELDS)}")
    current = locate(es, names, [mention_id]).get(mention_id)
    if current is None:
        raise TriageError(f"no mention with id {mention_id}")
    index = current["_index"]
    mention = Mention.model_validate(current["_source"])
    if (current["_seq_no"], current["_primary_term"]) != (seq_no, primary_term):
        # Another write came in between; it is a conflict only if it changed what the person saw of the
        # triage (a background re-score changes the labels, not the triage).
        if seen is None or seen != {name: _triage_value(mention, name) for name in TRIAGE_FIELDS}:
            triage = mention.triage or Triage()
            raise TriageConflictError(mention_id, triage.updated_by, triage.updated_at)
        seq_no, primary_term = current["_seq_no"], current["_primary_term"]
    now = datetime.now(UTC).replace(microsecond=0)
    history = list(mention.history)
    triage_data = (mention.triage or Triage()).model_dump()
    status = mention.status
    for name in TRIAGE_FIELDS:
        if name not in changes:
            continue
        old, new = _triage_value(mention, name), changes[name]
        if name == "tags":
            new = list(dict.fromkeys(str(tag).strip() for tag in new if str(tag).strip()))  # type: ignore[attr-defined]
        elif name in ("assignee", "team", "note") and isinstance(new, str):
            new = new.strip() or None
        if new == old:
            continue
        change = TriageChange(at=now, by=by, field=name, old=_history_text(old), new=_history_text(new))
        history.append(change)
        if name == "status":
            status = new  # type: ignore[assignment]
        else:
            triage_data[name] = new
    if len(history) == len(mention.history):
        return TriageVersion(seq_no, primary_term)
    triage_data.update(updated_by=by, updated_at=now)
    try:
        updated = mention.model_copy(
            update={"status": status, "triage": Triage.model_validate(triage_data), "history": history}
        )
        Mention.model_validate(updated.model_dump())
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TriageError(f"mention {mention_id}: {problem}") from exc
    doc = updated.model_dump(mode="json", include={"status", "triage", "history"})
    try:
        result = es.update(
            index=index,
            id=mention_id,
            doc=doc,
            if_seq_no=seq_no,
            if_primary_term=primary_term,
            refresh=True,
        )
    except ConflictError as exc:
        latest = Mention.model_validate(es.get(index=index, id=mention_id)["_source"]).triage
        latest = latest or Triage()
        raise TriageConflictError(mention_id, latest.updated_by, latest.updated_at) from exc
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot save triage of mention {mention_id}: {exc}") from exc
    mark_mentions_changed(es, names)
    return TriageVersion(result["_seq_no"], result["_primary_term"])


def save_search(es: Elasticsearch, names: IndexNames, search: SavedSearch) -> None:
    """Store (or replace, for the same owner and name) a saved inbox search."""
    es.index(index=names.saved_searches, id=search.id, document=search.model_dump(mode="json"), refresh=True)


def delete_saved_search(es: Elasticsearch, names: IndexNames, search_id: str) -> None:
    es.delete(index=names.saved_searches, id=search_id, refresh=True)


def delete_mentions(es: Elasticsearch, names: IndexNames, mention_ids: list[str]) -> int:
    """Delete these mentions (the platform reported the posts deleted); returns how many were there."""
    if not mention_ids:
        return 0
    where = {i: doc["_index"] for i, doc in locate(es, names, mention_ids).items()}
    actions = ({"_op_type": "delete", "_index": index, "_id": i} for i, index in where.items())
    deleted = 0
    try:
        for ok, item in streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=False):
            result = item["delete"]
            if ok:
                deleted += 1
            elif result.get("status") != 404:
                raise IndexUnavailableError(
                    f"cannot delete mention {result.get('_id')}: {result.get('error')}"
                )
        periods.refresh(es, where.values())
    except TransportError as exc:
        raise IndexUnavailableError(f"cannot delete mentions: {exc}") from exc
    finally:  # also when it stopped half-way: some may be gone
        mark_mentions_changed(es, names)
    return deleted


class LeaseKeeper:
    """Renews a lease taken with acquire_lock every third of its ttl while a long job runs.

    Without it a run slower than the lease's ttl would let another process take the lease, and
    the source, while the first run is still going.
    """

    def __init__(self, es: Elasticsearch, names: IndexNames, name: str, owner: str, ttl: timedelta) -> None:
        self.es, self.names, self.name, self.owner, self.ttl = es, names, name, owner, ttl
        self.lost = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease:{name}", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.ttl.total_seconds())

    def _renew(self) -> None:
        while not self._stopped.wait(self.ttl.total_seconds() / 3):
            try:
                if not acquire_lock(self.es, self.names, self.name, self.owner, self.ttl):
                    self.lost = True
                    return
            except (ApiError, TransportError):
                continue  # the index is briefly unreachable: the lease still has two thirds to run


LABEL_FIELDS = ("sentiment", "intent", "intents", "model")
"""What a re-score may change on a stored mention; triage, links and flags are never touched."""


@dataclass
class RelabelReport:
    updated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # changed meanwhile: read again and re-scored later
    failed: list[tuple[str, str]] = field(default_factory=list)


def store_relabels(
    es: Elasticsearch, names: IndexNames, relabelled: list[tuple[Mention, int, int, str | None]]
) -> RelabelReport:
    """Write new labels onto stored mentions, each only if still at the version read (seq_no, term), in
    the index it was read from (None: the index of its `created_at`).

    A mention triaged, erased or re-scored in between is left as it is and reported in `conflicts`.
    """
    report = RelabelReport()
    if not relabelled:
        return report
    operations: list[dict[str, Any]] = []
    written: set[str] = set()
    for mention, seq_no, primary_term, index in relabelled:
        index = index or mention_index(names, mention.created_at)
        written.add(index)
        operations.append(
            {
                "update": {
                    "_index": index,
                    "_id": mention.id,
                    "if_seq_no": seq_no,
                    "if_primary_term": primary_term,
                }
            }
        )
        operations.append({"doc": mention.model_dump(mode="json", include=set(LABEL_FIELDS))})
    try:
        result = es.bulk(operations=operations, refresh=False)
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot store re-scored labels: {exc}") from exc
    for item in result["items"]:
        outcome = item.get("update", {})
        status = outcome.get("status", 500)
        if status < 300:
            report.updated.append(outcome["_id"])
        elif status in (404, 409):
            report.conflicts.append(outcome["_id"])
        else:
            report.failed.append((outcome.get("_id", "?"), _reason(outcome.get("error"))))
    if report.updated:
        refresh_mentions(es, names, written)
    return report
