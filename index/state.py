"""State documents: source cursors and health, leases and locks between processes."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError

from core.documents import SourceState
from index.catalog import DocumentType
from index.client import IndexNames

STATE = DocumentType("state", SourceState)


def get_state(es: Elasticsearch, names: IndexNames, state_id: str) -> SourceState | None:
    try:
        hit = es.get(index=STATE.alias(names), id=state_id)
    except NotFoundError:
        return None
    return SourceState.model_validate(hit["_source"])


def put_state(es: Elasticsearch, names: IndexNames, state: SourceState, refresh: bool = True) -> None:
    es.index(index=STATE.alias(names), id=state.id, document=state.model_dump(mode="json"), refresh=refresh)


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
        current = es.get(index=STATE.alias(names), id=state_id)
    except NotFoundError:
        try:
            es.create(index=STATE.alias(names), id=state_id, document=lease, refresh=True)
            return True
        except ConflictError:
            return False
    held = SourceState.model_validate(current["_source"])
    if held.owner != owner and held.until and held.until > now:
        return False
    try:
        es.index(
            index=STATE.alias(names),
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
        current = es.get(index=STATE.alias(names), id=state_id)
    except NotFoundError:
        return
    if current["_source"].get("owner") != owner:
        return
    with contextlib.suppress(ConflictError, NotFoundError):
        es.delete(
            index=STATE.alias(names),
            id=state_id,
            if_seq_no=current["_seq_no"],
            if_primary_term=current["_primary_term"],
            refresh=True,
        )


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


def source_states(es: Elasticsearch, names: IndexNames, kind: str = "health") -> list[SourceState]:
    result = es.search(
        index=STATE.alias(names), query={"term": {"kind": kind}}, sort=[{"source": "asc"}], size=500
    )
    return [SourceState.model_validate(h["_source"]) for h in result["hits"]["hits"]]
