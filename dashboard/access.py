"""Which part of the data a signed-in person may read; pages hand it to every index read they make."""

from __future__ import annotations

from dashboard.auth import User
from dashboard.context import Index
from index.customers import owner_scope
from index.mention_search import OwnerScope

OWNER_SCOPED_ROLES = frozenset({"sales"})
"""Roles that read only the customers they own (and the mentions and alerts linked to them)."""


def scope_of(index: Index, user: User) -> OwnerScope | None:
    """None for a role that reads every account; the accounts a sales person owns otherwise."""
    if user.role not in OWNER_SCOPED_ROLES:
        return None
    return owner_scope(index.es, index.names, user.email)
