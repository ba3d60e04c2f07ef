"""Synthetic enriched mentions for the benchmarks: realistic field values, deterministic (seed 7)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from index.documents import CustomerLink, Label, Mention, document_id

WORDS = [
    "box",
    "fibre",
    "panne",
    "réseau",
    "forfait",
    "facture",
    "support",
    "merci",
    "lent",
    "coupure",
    "mobile",
    "router",
    "outage",
    "bill",
]


def synthetic_mentions(count: int, customer_ids: list[str], now: datetime) -> list[Mention]:
    rng = random.Random(7)
    mentions = []
    for i in range(count):
        customer = rng.choice(customer_ids) if rng.random() < 0.1 else None
        created = now - timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        mentions.append(
            Mention(
                id=document_id("bench", str(i)),
                source=rng.choice(["sample", "reddit", "mastodon-fr", "bluesky", "reviews"]),
                platform=rng.choice(["reddit", "mastodon", "bluesky", "trustpilot"]),
                native_id=str(i),
                url=f"https://example.org/post/{i}",
                author={
                    "handle": f"user{i % 5000}",
                    "display_name": f"User {i % 5000}",
                    "followers": i % 9000,
                },
                text=f"Lumio {' '.join(rng.sample(WORDS, 6))} #{i}",
                language=rng.choice(["fr", "en"]),
                created_at=created,
                collected_at=created,
                enriched_at=created,
                thread={},
                engagement={},
                topics=rng.sample(["Lumio", "Zéphyr Télécom", "Arcadia Mobile"], rng.randint(1, 2)),
                sentiment=Label(label=rng.choice(["positive", "neutral", "negative"]), confidence=0.8),
                intent=Label(label=rng.choice(["complaint", "praise", "question", "other"]), confidence=0.7),
                customer_id=customer,
                link=CustomerLink(customer_id=customer, method="handle", confidence=1.0, reason="bench")
                if customer
                else None,
            )
        )
    return mentions
