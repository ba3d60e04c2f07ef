"""Benchmark inputs: synthetic enriched mentions (deterministic, seed 7) and unique copies of sample posts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collectors.files import FileCollector, FileConfig
from core.documents import CustomerLink, Label, Mention, RawPost, document_id

ROOT = Path(__file__).resolve().parent.parent

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


def unique_post(post: RawPost, native_id: str, source: str = "bench") -> RawPost:
    """A copy of a sample post as a new post of `source` (own id, text and thread), received now."""
    now = datetime.now(UTC)
    return post.model_copy(
        update={
            "source": source,
            "native_id": native_id,
            "text": f"{post.text} ({native_id})",
            "created_at": now,
            "collected_at": now,
            "thread": post.thread.model_copy(update={"root_id": None, "parent_id": None}),
        }
    )


def sample_stream(count: int, source: str = "bench") -> list[RawPost]:
    """`count` unique posts cycled from the bundled sample (samples/mentions.jsonl)."""
    samples = (
        FileCollector(FileConfig(name="sample", path=ROOT / "samples" / "mentions.jsonl")).fetch({}).posts
    )
    return [unique_post(samples[i % len(samples)], f"{source}-{i}", source) for i in range(count)]
