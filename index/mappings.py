"""The Elasticsearch mapping of a document, derived from its pydantic model."""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from core.documents import Stored, Text

_SCALARS: dict[type, dict[str, Any]] = {
    str: {"type": "keyword"},
    bool: {"type": "boolean"},
    int: {"type": "long"},
    float: {"type": "float"},
    datetime: {"type": "date"},
}

TEXT_FIELD: dict[str, Any] = {
    "type": "text",
    "fields": {
        "fr": {"type": "text", "analyzer": "french"},
        "en": {"type": "text", "analyzer": "english"},
        "keyword": {"type": "keyword", "ignore_above": 256},
    },
}


def mapping_for(model: type[BaseModel]) -> dict[str, Any]:
    """The `properties` mapping of a model, field by field."""
    return {"dynamic": "strict", "properties": _properties(model)}


def _properties(model: type[BaseModel]) -> dict[str, Any]:
    return {name: _field_mapping(f.annotation, f.metadata) for name, f in model.model_fields.items()}


def _field_mapping(annotation: Any, metadata: list[Any]) -> dict[str, Any]:
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata = [*metadata, *extra]
    if any(isinstance(m, Stored) for m in metadata):
        return {"type": "object", "enabled": False}
    if any(isinstance(m, Text) for m in metadata):
        return TEXT_FIELD
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return _field_mapping(inner, [])
    if origin is list:
        return _field_mapping(get_args(annotation)[0], [])
    if origin is Literal:
        return {"type": "keyword"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"properties": _properties(annotation)}
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    raise TypeError(f"no Elasticsearch mapping for {annotation!r}")
