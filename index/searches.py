"""Saved searches, one per owner and name."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from core.documents import SavedSearch
from index.catalog import DocumentType
from index.client import IndexNames

SAVED_SEARCHES = DocumentType("saved-searches", SavedSearch)


def save_search(es: Elasticsearch, names: IndexNames, search: SavedSearch) -> None:
    """Store (or replace, for the same owner and name) a saved inbox search."""
    es.index(
        index=SAVED_SEARCHES.alias(names), id=search.id, document=search.model_dump(mode="json"), refresh=True
    )


def delete_saved_search(es: Elasticsearch, names: IndexNames, search_id: str) -> None:
    es.delete(index=SAVED_SEARCHES.alias(names), id=search_id, refresh=True)


def saved_searches(es: Elasticsearch, names: IndexNames, owner: str) -> list[SavedSearch]:
    """One person's saved inbox searches, by name."""
    result = es.search(
        index=SAVED_SEARCHES.alias(names), query={"term": {"owner": owner}}, sort=[{"name": "asc"}], size=200
    )
    return [SavedSearch.model_validate(h["_source"]) for h in result["hits"]["hits"]]
