"""Index set-up: every document type's versioned index, alias and mapping, created or dropped together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError

from core.config import IndexConfig
from core.errors import ConfigError, IndexUnavailableError
from index.catalog import DocumentType, document_types
from index.client import IndexNames
from index.mappings import mapping_for
from index.periods import MENTIONS, SCHEMA_VERSION, period_index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexTemplate:
    """The index template of one document type: what every index behind its alias is made from."""

    name: str
    alias: str
    body: dict[str, Any]  # index_patterns, template, version, priority: the body of PUT _index_template
    document: DocumentType  # periodic: one index per period behind the alias (index/periods.py)

    @property
    def periodic(self) -> bool:
        return self.document.periodic


def index_templates(names: IndexNames, layout: IndexConfig | None = None) -> list[IndexTemplate]:
    """Every document type's template: its mapping derived from the model, the shards and replicas of
    `layout`, and for period indices their alias; the mentions' ones also the lifecycle policy, if any
    (alerts go with their mentions: Écoute's retention drops them, index/privacy.py)."""
    layout = layout or IndexConfig()
    templates = []
    for document in document_types():
        alias = document.alias(names)
        settings: dict[str, Any] = {"number_of_shards": layout.shards, "number_of_replicas": layout.replicas}
        template: dict[str, Any] = {"settings": settings, "mappings": mapping_for(document.model)}
        if document.periodic:
            template["aliases"] = {alias: {}}
            if layout.lifecycle_policy and document == MENTIONS:
                settings["index.lifecycle.name"] = layout.lifecycle_policy
        body = {
            "index_patterns": [f"{alias}-v*"],
            "template": template,
            "version": SCHEMA_VERSION,
            "priority": 100,
        }
        templates.append(IndexTemplate(f"{alias}-template", alias, body, document))
    return templates


def check_lifecycle_policy(es: Elasticsearch, layout: IndexConfig) -> None:
    """A configured lifecycle policy must exist on the cluster; the stand-in has no lifecycle management."""
    name = layout.lifecycle_policy
    if not name:
        return
    try:
        es.ilm.get_lifecycle(name=name)
    except NotFoundError as exc:
        raise ConfigError(
            f"index.lifecycle_policy: the cluster has no policy {name!r}; create it first "
            f"(PUT _ilm/policy/{name} with deploy/elasticsearch/ilm-policy.json)"
        ) from exc
    except BadRequestError as exc:
        raise ConfigError(
            f"index.lifecycle_policy: this index has no lifecycle management (the embedded stand-in has "
            f"none): remove index.lifecycle_policy, or point elasticsearch.url at a cluster ({exc.message})"
        ) from exc
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot read lifecycle policy {name!r}: {exc}") from exc


def ensure_indices(es: Elasticsearch, names: IndexNames, layout: IndexConfig | None = None) -> list[str]:
    """Create the versioned templates, indices and aliases that are missing; return created indices.

    A periodic type's template (mentions, alerts) also gives every period index
    (`<alias>-v<N>-<period>`, index/periods.py) the alias, so the first write of a new month creates its
    index, mapped and aliased; the current period's index is made here so that the alias is there before
    any document is. `layout`'s shards,
    replicas and lifecycle policy reach indices made from now on, not those already there.
    """
    layout = layout or IndexConfig()
    check_lifecycle_policy(es, layout)
    created = []
    try:
        for template in index_templates(names, layout):
            es.indices.put_index_template(name=template.name, **template.body)
            alias = template.alias
            mappings = template.body["template"]["mappings"]
            if not es.indices.exists_alias(name=alias):
                if template.periodic:
                    index = period_index(template.document, names, datetime.now(UTC))
                    es.indices.create(index=index)
                else:
                    index = f"{alias}-v{SCHEMA_VERSION}"
                    es.indices.create(index=index, aliases={alias: {"is_write_index": True}})
                created.append(index)
            else:  # fields added to a model since the index was made reach it (additive changes only)
                es.indices.put_mapping(
                    index=_current_indices(alias, names),
                    properties=mappings["properties"],
                    allow_no_indices=True,
                )
    except (ApiError, TransportError) as exc:
        raise IndexUnavailableError(f"cannot create Écoute's indices: {exc}") from exc
    return created


def _current_indices(alias: str, names: IndexNames) -> str:
    """The indices of `alias` made with this SCHEMA_VERSION's mapping: the mentions' older period indices
    keep theirs (a field no longer indexed cannot be changed in place) until `ecoute index migrate`."""
    return f"{alias}-v{SCHEMA_VERSION}-*" if alias == MENTIONS.alias(names) else alias


def drop_indices(es: Elasticsearch, names: IndexNames) -> None:
    """Delete every index and template of this prefix (tests, `ecoute es reset`)."""
    for alias in (document.alias(names) for document in document_types()):
        indices = list(es.indices.get(index=f"{alias}-v*", allow_no_indices=True))
        if indices:  # deleting needs exact names: wildcards are refused by default
            es.indices.delete(index=",".join(indices))
        es.options(ignore_status=404).indices.delete_index_template(name=f"{alias}-template")
