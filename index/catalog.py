"""Document types: each index module declares the ones it owns, and set-up finds them all here.

A module that stores a new kind of document declares it once, next to its reads and writes:

    REPLIES = DocumentType("replies", Reply)

and uses `REPLIES.alias(names)` wherever it names the index. `ensure_indices` and `drop_indices`
(index/schema.py) find every declaration in the index package, so nothing else is edited.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from index.client import IndexNames


@dataclass(frozen=True)
class DocumentType:
    """One kind of stored document: the alias it lives behind and the model its mapping comes from.

    `periodic` types (their model has an immutable `created_at`) are written to one index per period
    of it (index/periods.py), every one behind the alias; the others have one versioned index behind it.
    """

    name: str
    model: type[BaseModel]
    periodic: bool = False

    def alias(self, names: IndexNames) -> str:
        """The alias of this type under these names' prefix, e.g. `ecoute-alerts`."""
        return f"{names.prefix}-{self.name}"


def document_types() -> list[DocumentType]:
    """Every document type the index modules declare, periodic ones first, then by name."""
    import index

    found: dict[str, DocumentType] = {}
    for module_info in pkgutil.iter_modules(index.__path__):
        module = importlib.import_module(f"index.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, DocumentType):
                other = found.setdefault(value.name, value)
                if other != value:
                    raise TypeError(f"two document types are named {value.name!r}: {other} and {value}")
    return sorted(found.values(), key=lambda t: (not t.periodic, t.name))
