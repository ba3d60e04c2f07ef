"""Index set-up: every document type's versioned index, alias and mapping, created or dropped together."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from pydantic import BaseModel

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
)
from core.errors import IndexUnavailableError
from index.client import IndexNames
from index.mappings import mapping_for
from index.periods import SCHEMA_VERSION, mention_index

log = logging.getLogger(__name__)


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
