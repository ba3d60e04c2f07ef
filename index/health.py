"""Is the index there, what is it, and how many documents does each of Écoute's indices hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from index.catalog import document_types
from index.client import IndexNames

HEALTH_TIMEOUT_SECONDS = 5.0
"""Each request of a health check waits at most this long: the check must not hang the Admin page."""


@dataclass(frozen=True)
class IndexHealth:
    """`documents` maps each alias to its count, None where the index does not exist yet."""

    reachable: bool
    backend: str = ""
    version: str = ""
    documents: dict[str, int | None] = field(default_factory=dict)
    error: str = ""


def aliases(names: IndexNames) -> list[str]:
    """Every alias Écoute keeps under `names.prefix`: one per document type (index/catalog.py)."""
    return [document.alias(names) for document in document_types()]


def index_health(es: Elasticsearch, names: IndexNames) -> IndexHealth:
    """Who answers (node name and version) and the document count of each alias; never raises for an
    index that is away or refusing, it says so in `error`."""
    client = es.options(request_timeout=HEALTH_TIMEOUT_SECONDS)
    try:
        info = client.info()
    except (ApiError, TransportError) as exc:
        return IndexHealth(reachable=False, error=str(exc))
    documents: dict[str, int | None] = {}
    try:
        for alias in aliases(names):
            try:
                documents[alias] = client.count(index=alias)["count"]
            except NotFoundError:
                documents[alias] = None
    except (ApiError, TransportError) as exc:
        return IndexHealth(True, info.get("name", ""), info["version"]["number"], documents, str(exc))
    return IndexHealth(True, info.get("name", ""), info["version"]["number"], documents)
