"""Searching mentions: the Inbox filter, its orders, the attention score and a sales person's scope;
the reads alert rules and spikes make."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from core.documents import Alert, Customer, Mention
from index.client import IndexNames
from index.periods import MENTIONS, indices_for
from index.query_language import to_dsl
from index.search_bounds import parse_search

ORDERS = ("newest", "attention")


NOISE_FLAGS = ["near_duplicate", "coordinated", "repeated_link"]
"""What "hide duplicates and spam" hides; a date in the future is shown (and flagged), not noise."""


# "Needing attention": what a community manager answers first. Weights add up, so a mention matching
# more of them ranks higher; each weight is larger than all those below it together.
ATTENTION_INTENTS = ["complaint", "churn_risk"]


ATTENTION_CONFIDENCE = 0.7


ATTENTION_WEIGHTS = {"untriaged": 8.0, "unhappy": 4.0, "customer": 2.0}


UNASSIGNED = "__unassigned__"
"""`MentionFilter.assignee` for the mentions nobody is assigned to."""


NO_TEAM = "__no_team__"
"""`MentionFilter.team` for the mentions in no team queue."""


@dataclass(frozen=True)
class OwnerScope:
    """What one account owner (a sales person) may read: the customers they own, and the mentions and
    alerts linked to those customers. Every read below that takes a scope applies it in the query or
    on the documents it fetched, so a page cannot forget it."""

    owner_email: str
    customer_ids: frozenset[str]

    def holds_customer(self, customer: Customer) -> bool:
        return customer.owner_email == self.owner_email

    def holds_mention(self, mention: Mention) -> bool:
        """A mention linked to one of their customers, or to no customer at all (a public post)."""
        return mention.customer_id is None or mention.customer_id in self.customer_ids

    def shown_mention(self, mention: Mention) -> Mention | None:
        """The mention as they may read it: None when `holds_mention` refuses it; a proposed link to a
        customer of someone else's (its id, name and company) left out of a public post."""
        if not self.holds_mention(mention):
            return None
        proposal = mention.link_proposal
        if proposal is not None and proposal.customer_id not in self.customer_ids:
            return mention.model_copy(update={"link_proposal": None})
        return mention

    def holds_alert(self, alert: Alert) -> bool:
        """An alert about one of their customers, or about no customer and sent to them."""
        if alert.customer_id:
            return alert.customer_id in self.customer_ids
        return self.owner_email in alert.recipients

    def alert_query(self) -> dict[str, Any]:
        """`holds_alert` as a query filter."""
        return {
            "bool": {
                "should": [
                    {"terms": {"customer_id": sorted(self.customer_ids)}},
                    {
                        "bool": {
                            "must_not": [{"exists": {"field": "customer_id"}}],
                            "filter": [{"term": {"recipients": self.owner_email}}],
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        }


@dataclass
class MentionFilter:
    """What a person narrows the inbox to; empty lists mean no filter."""

    query: str = ""
    sources: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    sentiments: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    customers_only: bool = False
    hide_noise: bool = False  # near-duplicates, coordinated copies, pushed links and spam
    customer_id: str | None = None
    assignee: str | None = None  # an email, UNASSIGNED, or None for anyone
    team: str | None = None  # a team name, NO_TEAM, or None for any
    past_target: tuple[tuple[str, int], ...] = ()  # (intent, seconds): still new and older than that
    since: datetime | None = None
    until: datetime | None = None

    def to_query(self) -> dict[str, Any]:
        """The query DSL; QuerySyntaxError (with its position) when the search cannot be read,
        SearchTooComplexError when it is over its bounds. The search is the query language alert
        rules use (`index.query_language`), so the same words find the same mentions everywhere."""
        must: list[dict[str, Any]] = []
        filters: list[dict[str, Any]] = []
        tree = parse_search(self.query)
        if tree is not None:
            must.append(to_dsl(tree))
        for field_name, values in (
            ("source", self.sources),
            ("platform", self.platforms),
            ("language", self.languages),
            ("sentiment.label", self.sentiments),
            ("intent.label", self.intents),
            ("topics", self.topics),
            ("status", self.statuses),
        ):
            if values:
                filters.append({"terms": {field_name: values}})
        if self.customers_only:
            filters.append({"exists": {"field": "customer_id"}})
        if self.hide_noise:
            filters.append(
                {
                    "bool": {
                        "must_not": [{"terms": {"flags": NOISE_FLAGS}}, {"term": {"intent.label": "spam"}}]
                    }
                }
            )
        if self.customer_id:
            filters.append({"term": {"customer_id": self.customer_id}})
        if self.assignee == UNASSIGNED:
            filters.append({"bool": {"must_not": [{"exists": {"field": "triage.assignee"}}]}})
        elif self.assignee:
            filters.append({"term": {"triage.assignee": self.assignee}})
        filters += _team_filters(self.team, self.past_target)
        if self.since or self.until:
            bounds = {}
            if self.since:
                bounds["gte"] = self.since.isoformat()
            if self.until:
                bounds["lt"] = self.until.isoformat()
            filters.append({"range": {"created_at": bounds}})
        if not must and not filters:
            return {"match_all": {}}
        return {"bool": {"must": must, "filter": filters}}

    def indices(self, es: Elasticsearch, names: IndexNames) -> str:
        """The mention indices this filter's date range reads (index/periods.py)."""
        return indices_for(es, names, self.since, self.until)

    def chosen(self, facet: str) -> list[str]:
        """The values chosen for a facet field (FACET_CHOICES), e.g. the sources for "source"."""
        return list(getattr(self, FACET_CHOICES[facet]))

    def without(self, facets: tuple[str, ...]) -> MentionFilter:
        """This filter with nothing chosen for these facet fields."""
        return replace(self, **{FACET_CHOICES[f]: [] for f in facets})


FACET_CHOICES = {
    "source": "sources",
    "platform": "platforms",
    "language": "languages",
    "sentiment.label": "sentiments",
    "intent.label": "intents",
    "topics": "topics",
}
"""The keyword fields a MentionFilter chooses values of (a list each): what a sidebar counts choices of."""


FACET_SIZE = 50
"""Values counted per facet at most, the most frequent first."""


def _team_filters(team: str | None, past_target: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
    """The team queue and "past its service target" conditions of a MentionFilter."""
    filters: list[dict[str, Any]] = []
    if team == NO_TEAM:
        filters.append({"bool": {"must_not": [{"exists": {"field": "triage.team"}}]}})
    elif team:
        filters.append({"term": {"triage.team": team}})
    if past_target:
        late = [
            {
                "bool": {
                    "filter": [
                        {"term": {"intent.label": intent}},
                        {"range": {"collected_at": {"lt": f"now-{int(seconds)}s"}}},
                    ]
                }
            }
            for intent, seconds in past_target
        ]
        filters.append({"term": {"status": "new"}})
        filters.append({"bool": {"should": late, "minimum_should_match": 1}})
    return filters


def past_target_of(targets: dict[str, timedelta]) -> tuple[tuple[str, int], ...]:
    """`MentionFilter.past_target` for the service targets by intent."""
    return tuple(sorted((intent, int(target.total_seconds())) for intent, target in targets.items()))


@dataclass
class MentionHit:
    mention: Mention
    highlights: list[str]


@dataclass
class Facet:
    """How many of the mentions a filter matches hold each value of one field, counted as if only that
    value were chosen for it (the other fields' choices kept), so each count is what choosing it adds."""

    counts: dict[str, int]
    complete: bool  # every value held is in `counts` (none left beyond FACET_SIZE)

    def count(self, value: str) -> int | None:
        """The count of a value; 0 for one not held; None when it may be beyond the values counted."""
        return self.counts.get(value, 0 if self.complete else None)


@dataclass
class MentionPage:
    total: int
    hits: list[MentionHit]
    facets: dict[str, Facet] = field(default_factory=dict)


def attention_query(flt: MentionFilter) -> dict[str, Any]:
    """The mentions `flt` matches, scored by how much they need a person, highest first.

    Untriaged (status new) outweighs everything else; then a complaint or churn risk, or a negative
    sentiment, the model is sure of (confidence >= ATTENTION_CONFIDENCE); then a linked customer.
    The text query only filters here, so relevance never reorders the tiers.
    """
    sure = {"gte": ATTENTION_CONFIDENCE}
    unhappy = {
        "bool": {
            "should": [
                {
                    "bool": {
                        "filter": [
                            {"terms": {"intent.label": ATTENTION_INTENTS}},
                            {"range": {"intent.confidence": sure}},
                        ]
                    }
                },
                {
                    "bool": {
                        "filter": [
                            {"term": {"sentiment.label": "negative"}},
                            {"range": {"sentiment.confidence": sure}},
                        ]
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }
    weights = ATTENTION_WEIGHTS
    return {
        "bool": {
            "filter": [flt.to_query()],
            "should": [
                {"constant_score": {"filter": {"term": {"status": "new"}}, "boost": weights["untriaged"]}},
                {"constant_score": {"filter": unhappy, "boost": weights["unhappy"]}},
                {
                    "constant_score": {
                        "filter": {"exists": {"field": "customer_id"}},
                        "boost": weights["customer"],
                    }
                },
            ],
        }
    }


def attention_reasons(mention: Mention) -> list[str]:
    """Which ATTENTION_WEIGHTS a mention earns, as `attention_query` scores it ("untriaged"...)."""
    sure = ATTENTION_CONFIDENCE
    unhappy = (mention.intent.label in ATTENTION_INTENTS and mention.intent.confidence >= sure) or (
        mention.sentiment.label == "negative" and mention.sentiment.confidence >= sure
    )
    earned = {"untriaged": mention.status == "new", "unhappy": unhappy, "customer": bool(mention.customer_id)}
    return [name for name in ATTENTION_WEIGHTS if earned[name]]


def search_mentions(
    es: Elasticsearch,
    names: IndexNames,
    flt: MentionFilter,
    size: int = 50,
    offset: int = 0,
    order: str = "newest",
    facets: tuple[str, ...] = (),
) -> MentionPage:
    """Newest first, or (order="attention") those needing attention first and newest within each tier,
    with highlighted fragments when a text query is given, and the `Facet` of each facet field
    (FACET_CHOICES) asked for: one request, so the index passes over the mentions once."""
    result = es.search(index=flt.indices(es, names), **search_body(flt, size, offset, order, facets))
    return page_of(result, facets)


def search_body(
    flt: MentionFilter, size: int = 50, offset: int = 0, order: str = "newest", facets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The request `search_mentions` sends, for callers that add aggregations of their own to it.

    With facets, the choices made for them filter the hits afterwards (`post_filter`), so each facet is
    counted over the other filters only."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r} (known: {', '.join(ORDERS)})")
    unknown = [f for f in facets if f not in FACET_CHOICES]
    if unknown:
        raise ValueError(f"unknown facet {unknown[0]!r} (known: {', '.join(FACET_CHOICES)})")
    counted = flt.without(facets)
    newest: list[Any] = [{"created_at": "desc"}, {"id": "asc"}]
    body: dict[str, Any] = {
        "query": attention_query(counted) if order == "attention" else counted.to_query(),
        "sort": [{"_score": "desc"}, *newest] if order == "attention" else newest,
        "size": size,
        "from": offset,
        "track_total_hits": True,
    }
    if flt.query.strip():
        body["highlight"] = {
            "fields": {"text": {}},
            "pre_tags": ["«"],
            "post_tags": ["»"],
            "highlight_query": flt.to_query(),
        }
    chosen = {f: {"terms": {f: flt.chosen(f)}} for f in facets if flt.chosen(f)}
    if chosen:
        body["post_filter"] = {"bool": {"filter": list(chosen.values())}}
    if facets:
        body["aggs"] = {}
        for facet in facets:
            values = {"terms": {"field": facet, "size": FACET_SIZE}}
            others = [c for f, c in chosen.items() if f != facet]
            body["aggs"][f"facet:{facet}"] = (
                {"filter": {"bool": {"filter": others}}, "aggs": {"values": values}} if others else values
            )
    return body


def page_of(result: Any, facets: tuple[str, ...] = ()) -> MentionPage:
    """The MentionPage of a response to `search_body`."""
    hits = []
    for hit in result["hits"]["hits"]:
        fragments = [f for frags in hit.get("highlight", {}).values() for f in frags]
        hits.append(MentionHit(Mention.model_validate(hit["_source"]), list(dict.fromkeys(fragments))))
    found: dict[str, Facet] = {}
    for facet in facets:
        agg = result["aggregations"][f"facet:{facet}"]
        agg = agg.get("values", agg)
        counts = {str(b["key"]): b["doc_count"] for b in agg["buckets"]}
        found[facet] = Facet(counts, complete=not agg.get("sum_other_doc_count"))
    return MentionPage(total=result["hits"]["total"]["value"], hits=hits, facets=found)


MAX_TERMS = 1000


def created_between(since: datetime | None, until: datetime | None) -> dict[str, Any]:
    """A filter on `created_at` in [since, until); an open side where it is None."""
    bounds = {"gte": since.isoformat()} if since else {}
    if until:
        bounds["lt"] = until.isoformat()
    return {"range": {"created_at": bounds}}


def mentions_matching(
    es: Elasticsearch,
    names: IndexNames,
    query: dict[str, Any],
    since: datetime | None = None,
    until: datetime | None = None,
    size: int = 50,
) -> tuple[int, list[Mention]]:
    """(how many, the newest `size`) mentions a compiled rule query finds, optionally in a period."""
    filters: list[dict[str, Any]] = [query]
    if since or until:
        filters.append(created_between(since, until))
    result = es.search(
        index=indices_for(es, names, since, until),
        query={"bool": {"filter": filters}},
        sort=[{"created_at": "desc"}, {"id": "asc"}],
        size=size,
        track_total_hits=True,
    )
    mentions = [Mention.model_validate(h["_source"]) for h in result["hits"]["hits"]]
    return result["hits"]["total"]["value"], mentions


@dataclass
class WindowCounts:
    """Mentions and negative mentions per topic in one time window."""

    start: datetime
    end: datetime
    total: dict[str, int]
    negative: dict[str, int]


def topic_counts_in_windows(
    es: Elasticsearch, names: IndexNames, windows: list[tuple[datetime, datetime]], size: int = 50
) -> list[WindowCounts]:
    """Per window, mentions and negatives per topic, from one request (a filters aggregation)."""
    aggs = {
        "windows": {
            "filters": {
                "filters": {
                    str(i): {"range": {"created_at": {"gte": s.isoformat(), "lt": e.isoformat()}}}
                    for i, (s, e) in enumerate(windows)
                }
            },
            "aggs": {
                "topics": {
                    "terms": {"field": "topics", "size": size},
                    "aggs": {"negative": {"filter": {"term": {"sentiment.label": "negative"}}}},
                }
            },
        }
    }
    indices = (
        indices_for(es, names, min(s for s, _ in windows), max(e for _, e in windows))
        if windows
        else MENTIONS.alias(names)
    )
    result = es.search(index=indices, size=0, aggs=aggs)
    buckets = result["aggregations"]["windows"]["buckets"]
    found = []
    for i, (start, end) in enumerate(windows):
        topics = buckets.get(str(i), {}).get("topics", {}).get("buckets", [])
        found.append(
            WindowCounts(
                start,
                end,
                {str(b["key"]): b["doc_count"] for b in topics},
                {str(b["key"]): b["negative"]["doc_count"] for b in topics},
            )
        )
    return found


def mentions_about(
    es: Elasticsearch,
    names: IndexNames,
    topic: str,
    windows: list[tuple[datetime, datetime]],
    size: int = 500,
) -> list[Mention]:
    """Mentions of a topic in any of the windows (for explaining a spike), without raw payloads."""
    ranges = [{"range": {"created_at": {"gte": s.isoformat(), "lt": e.isoformat()}}} for s, e in windows]
    bounded = (
        indices_for(es, names, min(s for s, _ in windows), max(e for _, e in windows)) if windows else None
    )
    result = es.search(
        index=bounded or MENTIONS.alias(names),
        query={
            "bool": {
                "filter": [
                    {"term": {"topics": topic}},
                    {"bool": {"should": ranges, "minimum_should_match": 1}},
                ]
            }
        },
        sort=[{"created_at": "desc"}],
        size=size,
        source_excludes=["raw", "history"],
    )
    return [Mention.model_validate(h["_source"]) for h in result["hits"]["hits"]]
