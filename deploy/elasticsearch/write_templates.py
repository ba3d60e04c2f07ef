"""Write the index templates Écoute puts on a cluster, for review or to install ahead of it.

    python deploy/elasticsearch/write_templates.py [--prefix ecoute] [--shards 1] [--replicas 1]
        [--lifecycle-policy ecoute-mentions] [--out deploy/elasticsearch/templates]

Écoute installs the same templates itself at start-up (index/schema.py `index_templates`); the files here
are made by this script with the defaults above, and tests/index/test_cluster_layout.py checks they match.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.config import IndexConfig
from index.client import IndexNames
from index.schema import index_templates

HERE = Path(__file__).resolve().parent
DEFAULT_LAYOUT = IndexConfig(shards=1, replicas=1, lifecycle_policy="ecoute-mentions")


def template_files(prefix: str = "ecoute", layout: IndexConfig = DEFAULT_LAYOUT) -> dict[str, str]:
    """File name -> JSON text of each document type's template."""
    names = IndexNames(prefix, layout.granularity)
    return {
        f"{t.name}.json": json.dumps(t.body, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for t in index_templates(names, layout)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="ecoute")
    parser.add_argument("--shards", type=int, default=DEFAULT_LAYOUT.shards)
    parser.add_argument("--replicas", type=int, default=DEFAULT_LAYOUT.replicas)
    parser.add_argument("--lifecycle-policy", default=DEFAULT_LAYOUT.lifecycle_policy)
    parser.add_argument("--granularity", choices=["month", "week"], default="month")
    parser.add_argument("--out", type=Path, default=HERE / "templates")
    args = parser.parse_args()
    layout = IndexConfig(
        granularity=args.granularity,
        shards=args.shards,
        replicas=args.replicas,
        lifecycle_policy=args.lifecycle_policy or None,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in template_files(args.prefix, layout).items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(args.out / name)


if __name__ == "__main__":
    main()
