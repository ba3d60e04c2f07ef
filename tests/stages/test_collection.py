"""The collection stage alone: a source's cursor survives the index going away, and its lease is shared."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from elasticsearch import Elasticsearch

from ecoute.spool import LocalCursors
from ecoute.stages.collection import Collection
from index.client import IndexNames


def collection(es: Elasticsearch, names: IndexNames, state_dir: Path, owner: str = "") -> Collection:
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    return Collection(es, names, state_dir, state_dir, owner, LocalCursors(state_dir))


def test_the_cursor_kept_locally_while_the_index_was_away_wins_over_the_older_one_in_the_index(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    stage = collection(es, names, tmp_path)
    stage.store_cursor("masto", {"since_id": "100"})
    assert stage.cursor("masto") == {"since_id": "100"}
    # A later run stored its cursor on local disk only (the index was away then).
    stage.local_cursors.put("masto", {"since_id": "250"}, datetime.now(UTC) + timedelta(seconds=1))
    assert stage.cursor("masto") == {"since_id": "250"}


def test_a_cursor_stored_by_another_host_in_the_index_wins_over_an_older_local_copy(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    here = collection(es, names, tmp_path / "here")
    here.local_cursors.put("masto", {"since_id": "100"}, datetime.now(UTC) - timedelta(minutes=5))
    collection(es, names, tmp_path / "there").store_cursor("masto", {"since_id": "300"})
    assert here.cursor("masto") == {"since_id": "300"}


def test_a_source_runs_in_one_process_at_a_time_until_its_lease_is_released(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    first = collection(es, names, tmp_path, owner="host-a:1")
    second = collection(es, names, tmp_path, owner="host-b:2")
    lease = timedelta(minutes=5)
    assert first.take_lease("masto", False, lease)
    assert not second.take_lease("masto", False, lease)
    assert second.take_lease("masto", True, lease)  # a refresh runs under a lease of its own
    first.release(["masto"])
    assert second.take_lease("masto", False, lease)
