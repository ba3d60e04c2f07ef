"""The bundled sample: fictional mentions with their gold labels, and the fictional CRM they refer to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.documents import RawPost
from crm.files import read_contacts_csv
from nlp.linking import CustomerDirectory

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MENTIONS = ROOT / "samples" / "mentions.jsonl"
SAMPLE_CRM = ROOT / "samples" / "crm_customers.csv"


def sample_posts() -> tuple[list[RawPost], list[dict[str, Any]]]:
    """Every sample mention as a raw post of source `sample`, and its `expected` block, in file order."""
    rows = [json.loads(line) for line in SAMPLE_MENTIONS.read_text(encoding="utf-8").splitlines() if line]
    posts = [
        RawPost.model_validate({**{k: v for k, v in row.items() if k != "expected"}, "source": "sample"})
        for row in rows
    ]
    return posts, [row["expected"] for row in rows]


def sample_directory() -> CustomerDirectory:
    """The sample CRM as the linker sees it."""
    return CustomerDirectory(read_contacts_csv(SAMPLE_CRM).customers)
