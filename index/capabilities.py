"""Which real-Elasticsearch-only features this cluster has; Écoute never requires them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from elasticsearch import ApiError, Elasticsearch, TransportError

from core.errors import IndexUnavailableError

STANDIN_BUILD = "noida"
"""The `build_hash` the embedded stand-in (noida-db) reports in `GET /`."""


@dataclass(frozen=True)
class Capabilities:
    percolator: bool
    composite: bool
    percentiles: bool
    significant_terms: bool

    def describe(self) -> str:
        flags = ", ".join(f"{name} {'yes' if on else 'no'}" for name, on in vars(self).items())
        return f"optional features: {flags}"


def detect_capabilities(es: Elasticsearch, prefix: str = "ecoute") -> Capabilities:
    """Probe each feature on a throw-away index, by asking for it and checking the answer."""
    index = f"{prefix}-probe-{uuid.uuid4().hex[:8]}"
    es.indices.create(
        index=index,
        mappings={
            "properties": {"q": {"type": "percolator"}, "k": {"type": "keyword"}, "n": {"type": "long"}}
        },
        settings={"number_of_shards": 1, "number_of_replicas": 0},
    )
    try:
        es.index(index=index, id="1", document={"q": {"term": {"k": "a"}}, "k": "a", "n": 1}, refresh=True)
        return Capabilities(
            percolator=_works(
                lambda: (
                    es.search(index=index, query={"percolate": {"field": "q", "document": {"k": "a"}}})[
                        "hits"
                    ]["total"]["value"]
                    == 1
                )
            ),
            composite=_aggregation_works(
                es, index, {"composite": {"sources": [{"k": {"terms": {"field": "k"}}}]}}, "buckets"
            ),
            percentiles=_aggregation_works(es, index, {"percentiles": {"field": "n"}}, "values"),
            significant_terms=_aggregation_works(
                es, index, {"significant_terms": {"field": "k", "min_doc_count": 1}}, "buckets"
            ),
        )
    finally:
        es.options(ignore_status=404).indices.delete(index=index)


def _aggregation_works(es: Elasticsearch, index: str, agg: dict, key: str) -> bool:
    return _works(lambda: key in es.search(index=index, size=0, aggs={"a": agg})["aggregations"]["a"])


def _works(check) -> bool:
    try:
        return bool(check())
    except (ApiError, KeyError, TypeError):
        return False


def standin_process(es: Elasticsearch) -> str | None:
    """Which stand-in process answers (its start time in ms), or None for a real Elasticsearch.

    A real cluster's acknowledged write is in its translog on disk (`index.translog.durability:
    request`, the default), so it needs nothing more. The stand-in acknowledges before it saves (about
    once a second): callers keep what it acknowledged until that same process has had time to save it.
    """
    try:
        if es.info()["version"].get("build_hash") != STANDIN_BUILD:
            return None
        nodes = es.nodes.info(metric="jvm")["nodes"]
        started = [node["jvm"]["start_time_in_millis"] for node in nodes.values()]
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot tell which index process answers: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise IndexUnavailableError(f"the stand-in did not say when it started: {exc!r}") from exc
    if not started:
        raise IndexUnavailableError("the stand-in listed no node")
    return str(started[0])
