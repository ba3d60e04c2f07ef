"""Reading every hit of a query, page after page, over every index an alias names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from elasticsearch import Elasticsearch


def scan_hits(
    es: Elasticsearch,
    index: str,
    query: dict[str, Any],
    sort: str | list[dict[str, str]],
    page: int = 10_000,
    source: list[str] | None = None,
    keep_alive: str = "1m",
) -> Iterator[dict]:
    """Every hit of `query` in `sort` order, paged with point-in-time + search_after.

    `sort` is a field (ascending) or a list of sort clauses; it must end on a unique field so no hit is
    read twice. Pages are as large as Elasticsearch allows: on the stand-in every page is a pass over
    the whole index, so the number of pages is what a scan costs. `source` limits the fields sent.
    """
    # The concrete indices, named: the stand-in's point in time over an alias of several indices reads
    # only one of them (a real cluster reads them all either way).
    concrete = ",".join(sorted(es.indices.get(index=index)))
    order = [{sort: "asc"}] if isinstance(sort, str) else sort
    pit = es.open_point_in_time(index=concrete, keep_alive=keep_alive)["id"]
    search_after = None
    try:
        while True:
            kwargs: dict[str, Any] = {
                "pit": {"id": pit, "keep_alive": keep_alive},
                "size": page,
                "query": query,
                "sort": order,
            }
            if source is not None:
                kwargs["source"] = source
            if search_after:
                kwargs["search_after"] = search_after
            hits = es.search(**kwargs)["hits"]["hits"]
            if not hits:
                return
            yield from hits
            search_after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)
