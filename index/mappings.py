"""The Elasticsearch mapping of a document, derived from its pydantic model.

What a field costs the index is said once, on the model (core/documents.py): `Text` for full text
(with or without its stemmed and exact sub-fields), `Filtered` for a keyword never sorted or counted
(no doc values), `Stored` for what is only read back (not indexed at all).
"""

from __future__ import annotations

import types
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from core.documents import Filtered, Stored, Text

_SCALARS: dict[type, dict[str, Any]] = {
    str: {"type": "keyword"},
    bool: {"type": "boolean"},
    int: {"type": "long"},
    float: {"type": "float"},
    datetime: {"type": "date"},
}

STEMMED_FIELDS: dict[str, Any] = {
    "fr": {"type": "text", "analyzer": "french"},
    "en": {"type": "text", "analyzer": "english"},
}
EXACT_FIELD: dict[str, Any] = {"keyword": {"type": "keyword", "ignore_above": 256}}


def text_mapping(text: Text) -> dict[str, Any]:
    """A text field, with the sub-fields `text` asks for."""
    fields = {**(STEMMED_FIELDS if text.stemmed else {}), **(EXACT_FIELD if text.exact else {})}
    return {"type": "text", "fields": fields} if fields else {"type": "text"}


def mapping_for(model: type[BaseModel]) -> dict[str, Any]:
    """The `properties` mapping of a model, field by field."""
    return {"dynamic": "strict", "properties": _properties(model)}


def _properties(model: type[BaseModel]) -> dict[str, Any]:
    return {name: _field_mapping(f.annotation, f.metadata) for name, f in model.model_fields.items()}


def _field_mapping(annotation: Any, metadata: list[Any]) -> dict[str, Any]:
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata = [*metadata, *extra]
    if any(isinstance(m, Stored) for m in metadata):  # any JSON value: ES skips a disabled object whole
        return {"type": "object", "enabled": False}
    for marker in metadata:
        if isinstance(marker, Text):
            return text_mapping(marker)
    if any(isinstance(m, Filtered) for m in metadata):
        return {**_field_mapping(annotation, []), "doc_values": False}
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
