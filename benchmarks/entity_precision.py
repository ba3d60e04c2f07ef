"""Entity precision on 100 real posts judged by hand (nlp/data/real/entity_precision.jsonl, see its README).

    .venv/bin/python benchmarks/entity_precision.py

50 French tweets to a telecom operator (FreeMobilaChat, none of the intent evaluation set) run with the
brand Free (keywords free, freebox, free mobile; competitors Orange, SFR, Bouygues), 50 English SemEval
2016 train tweets with no brand. "before" is what the entities were before the entity ruler and the
debris filter (recorded in the file); "now" runs `extract_entities` on the same posts and looks each
entity up in the judgements. An entity nobody judged yet is listed and left out of the precision.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.config import BrandConfig
from nlp.entities import extract_entities
from nlp.pipeline import entity_terms

ROOT = Path(__file__).resolve().parent.parent
JUDGED = ROOT / "nlp" / "data" / "real" / "entity_precision.jsonl"
FREE = BrandConfig(
    name="Free",
    keywords=["free", "freebox", "free mobile"],
    competitors={"Orange": ["orange"], "SFR": ["sfr"], "Bouygues": ["bouygues"]},
)
BRANDS = {"fr": FREE, "en": None}


def precision(correct: int, total: int) -> str:
    return f"{correct / total:.2f} ({correct}/{total})" if total else "n/a"


def main() -> None:
    posts = [json.loads(line) for line in JUDGED.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(f"{'language':<9} {'posts':>5}  {'before':<16} {'now':<16} {'not judged':>10}")
    for language, brand in BRANDS.items():
        mine = [p for p in posts if p["language"] == language]
        judged = {(p["id"], e["text"], e["label"]): e["correct"] for p in mine for e in p["entities"]}
        before = [e["correct"] for p in mine for e in p["entities"] if e["before"]]
        found = extract_entities(
            [p["text"] for p in mine], [language] * len(mine), terms=entity_terms(brand) if brand else ()
        )
        now, unjudged = [], []
        for post, entities in zip(mine, found, strict=True):
            for entity in entities:
                key = (post["id"], entity.text, entity.label)
                if key in judged:
                    now.append(judged[key])
                else:
                    unjudged.append(f"  {post['id']}: {entity.text!r} ({entity.label})")
        print(
            f"{language:<9} {len(mine):>5}  {precision(sum(before), len(before)):<16} "
            f"{precision(sum(now), len(now)):<16} {len(unjudged):>10}"
        )
        for line in unjudged:
            print(line)


if __name__ == "__main__":
    main()
