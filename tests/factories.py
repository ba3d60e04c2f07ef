"""Builders for documents in tests: realistic defaults, override what the test is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.documents import Customer, Label, Mention, document_id

NOW = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
"""Recent, as the mentions a user looks at are: the dashboard's default views show the last days only."""


def make_mention(native_id: str, **overrides: Any) -> Mention:
    data: dict[str, Any] = {
        "id": document_id("test", native_id),
        "source": "test",
        "platform": "mastodon",
        "native_id": native_id,
        "url": f"https://mastodon.example/@someone/{native_id}",
        "author": {"handle": "someone@mastodon.example", "display_name": "Someone", "followers": 120},
        "text": "La box Lumio fonctionne bien.",
        "language": "fr",
        "created_at": NOW,
        "collected_at": NOW,
        "enriched_at": NOW,
        "thread": {},
        "engagement": {},
        "topics": ["Lumio"],
        "sentiment": Label(label="neutral", confidence=0.8),
        "intent": Label(label="other", confidence=0.5),
    }
    data.update(overrides)
    return Mention.model_validate(data)


def make_customer(customer_id: str, **overrides: Any) -> Customer:
    data: dict[str, Any] = {
        "customer_id": customer_id,
        "first_name": "Julie",
        "last_name": "Martin",
        "full_name": "Julie Martin",
        "company": "Boulangerie Martin",
        "email": f"{customer_id.lower()}@client.example",
        "handles": [f"{customer_id.lower()}@mastodon.example"],
        "segment": "smb",
        "account_value": 4800.0,
        "owner_name": "Claire Dubois",
        "owner_email": "claire.dubois@lumio.example",
        "language": "fr",
        "updated_at": NOW,
    }
    data.update(overrides)
    return Customer.model_validate(data)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)
