"""Named read queries used by the dashboard, the CLI and the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from core.documents import Alert, Customer, Mention, SavedSearch, SourceState, document_id
from index.client import IndexNames
from index.periods import indices_for, locate
from index.query_language import to_dsl
from index.search_bounds import CUSTOMER_SEARCH, check_search, parse_search

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


MAX_OWNED = 10_000


def owner_scope(es: Elasticsearch, names: IndexNames, owner_email: str) -> OwnerScope:
    """The scope of one account owner: the ids of the customers whose owner_email is theirs."""
    result = es.search(
        index=names.customers,
        query={"term": {"owner_email": owner_email}},
        source=["customer_id"],
        size=MAX_OWNED,
    )
    return OwnerScope(owner_email, frozenset(h["_source"]["customer_id"] for h in result["hits"]["hits"]))


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
class MentionPage:
    total: int
    hits: list[MentionHit]


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
) -> MentionPage:
    """Newest first, or (order="attention") those needing attention first and newest within each tier,
    with highlighted fragments when a text query is given."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r} (known: {', '.join(ORDERS)})")
    newest: list[Any] = [{"created_at": "desc"}, {"id": "asc"}]
    body: dict[str, Any] = {
        "query": attention_query(flt) if order == "attention" else flt.to_query(),
        "sort": [{"_score": "desc"}, *newest] if order == "attention" else newest,
        "size": size,
        "from": offset,
        "track_total_hits": True,
    }
    if flt.query.strip():
        body["highlight"] = {
            "fields": {"text": {}, "text.fr": {}, "text.en": {}},
            "pre_tags": ["«"],
            "post_tags": ["»"],
            "highlight_query": flt.to_query(),
        }
    result = es.search(index=flt.indices(es, names), **body)
    hits = []
    for hit in result["hits"]["hits"]:
        fragments = [f for frags in hit.get("highlight", {}).values() for f in frags]
        hits.append(MentionHit(Mention.model_validate(hit["_source"]), list(dict.fromkeys(fragments))))
    return MentionPage(total=result["hits"]["total"]["value"], hits=hits)


def get_mention(es: Elasticsearch, names: IndexNames, mention_id: str) -> Mention | None:
    found = locate(es, names, [mention_id]).get(mention_id)
    return Mention.model_validate(found["_source"]) if found else None


def count_mentions(es: Elasticsearch, names: IndexNames, flt: MentionFilter | None = None) -> int:
    flt = flt or MentionFilter()
    return es.count(index=flt.indices(es, names), query=flt.to_query())["count"]


def get_customer(
    es: Elasticsearch, names: IndexNames, customer_id: str, scope: OwnerScope | None = None
) -> Customer | None:
    """The customer with this id; None when there is none, or when `scope` does not hold it."""
    try:
        customer = Customer.model_validate(es.get(index=names.customers, id=customer_id)["_source"])
    except NotFoundError:
        return None
    return customer if scope is None or scope.holds_customer(customer) else None


def search_customers(
    es: Elasticsearch, names: IndexNames, text: str = "", size: int = 50, scope: OwnerScope | None = None
) -> list[Customer]:
    """By name, company, email or handle; all customers by name when `text` is empty; only those
    `scope` holds when given. SearchTooComplexError when `text` is over its bounds."""
    text = check_search(text, CUSTOMER_SEARCH)
    if text:
        needle = text.strip().lstrip("@").lower()
        query: dict[str, Any] = {
            "bool": {
                "should": [
                    {
                        "multi_match": {
                            "query": text,
                            "fields": ["full_name^3", "company^2", "company.fr", "full_name.fr"],
                            "fuzziness": "AUTO",
                        }
                    },
                    {"term": {"email": needle}},
                    {"term": {"emails": needle}},
                    {"term": {"handles": needle}},
                    {"term": {"confirmed_handles": needle}},
                    {"prefix": {"handles": needle}},
                ],
                "minimum_should_match": 1,
            }
        }
        sort: list[Any] = ["_score", {"customer_id": "asc"}]
    else:
        query, sort = {"match_all": {}}, [{"full_name.keyword": "asc"}]
    if scope is not None:
        query = {"bool": {"must": [query], "filter": [{"term": {"owner_email": scope.owner_email}}]}}
    result = es.search(index=names.customers, query=query, sort=sort, size=size)
    return [Customer.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def all_customers(es: Elasticsearch, names: IndexNames, page_size: int = 1000) -> list[Customer]:
    """Every mirrored customer, paged with point-in-time + search_after."""
    pit = es.open_point_in_time(index=names.customers, keep_alive="1m")["id"]
    customers: list[Customer] = []
    search_after = None
    try:
        while True:
            kwargs: dict[str, Any] = {
                "pit": {"id": pit, "keep_alive": "1m"},
                "size": page_size,
                "sort": [{"customer_id": "asc"}],
            }
            if search_after:
                kwargs["search_after"] = search_after
            hits = es.search(**kwargs)["hits"]["hits"]
            if not hits:
                break
            customers.extend(Customer.model_validate(h["_source"]) for h in hits)
            search_after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)
    return customers


def list_alerts(
    es: Elasticsearch,
    names: IndexNames,
    recipient: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
    size: int = 100,
) -> list[Alert]:
    filters: list[dict[str, Any]] = []
    if recipient:
        filters.append({"term": {"recipients": recipient}})
    if customer_id:
        filters.append({"term": {"customer_id": customer_id}})
    if status:
        filters.append({"term": {"status": status}})
    result = es.search(
        index=names.alerts,
        query={"bool": {"filter": filters}},
        sort=[{"created_at": "desc"}],
        size=size,
    )
    return [Alert.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def source_states(es: Elasticsearch, names: IndexNames, kind: str = "health") -> list[SourceState]:
    result = es.search(index=names.state, query={"term": {"kind": kind}}, sort=[{"source": "asc"}], size=500)
    return [SourceState.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def get_customers(
    es: Elasticsearch, names: IndexNames, customer_ids: list[str], scope: OwnerScope | None = None
) -> dict[str, Customer]:
    """The customers with these ids, in one request; ids not in the index (or not in `scope`) left out."""
    ids = list(dict.fromkeys(i for i in customer_ids if i))
    if not ids:
        return {}
    docs = es.mget(index=names.customers, ids=ids)["docs"]
    found = {d["_id"]: Customer.model_validate(d["_source"]) for d in docs if d.get("found")}
    return {i: c for i, c in found.items() if scope is None or scope.holds_customer(c)}


@dataclass
class VersionedMention:
    """A mention with the version (seq_no, primary_term) a conditional triage write needs, and the
    concrete index it was read from."""

    mention: Mention
    seq_no: int
    primary_term: int
    index: str | None = None


def get_mentions_versioned(
    es: Elasticsearch, names: IndexNames, mention_ids: list[str], scope: OwnerScope | None = None
) -> dict[str, VersionedMention]:
    """The mentions with these ids and their current versions, in one request; missing ids (and
    mentions `scope` does not hold) left out."""
    ids = list(dict.fromkeys(i for i in mention_ids if i))
    if not ids:
        return {}
    found = {
        i: VersionedMention(
            Mention.model_validate(d["_source"]), d["_seq_no"], d["_primary_term"], d["_index"]
        )
        for i, d in locate(es, names, ids).items()
    }
    return {i: v for i, v in found.items() if scope is None or scope.holds_mention(v.mention)}


def customers_of_owner(
    es: Elasticsearch, names: IndexNames, owner_email: str, size: int = 200
) -> list[Customer]:
    """The accounts one account owner (a sales person) looks after, by name."""
    result = es.search(
        index=names.customers,
        query={"term": {"owner_email": owner_email}},
        sort=[{"full_name.keyword": "asc"}],
        size=size,
    )
    return [Customer.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def count_customers(es: Elasticsearch, names: IndexNames) -> int:
    """How many CRM records the customer index mirrors."""
    return es.count(index=names.customers)["count"]


def get_parents(es: Elasticsearch, names: IndexNames, mentions: list[Mention]) -> dict[str, Mention]:
    """For each mention that replies to a post Écoute also holds, that post (keyed by the reply's id)."""
    wanted = {
        m.id: document_id(m.source, m.thread.parent_id) for m in mentions if m.thread and m.thread.parent_id
    }
    if not wanted:
        return {}
    docs = locate(es, names, wanted.values())
    found = {i: Mention.model_validate(d["_source"]) for i, d in docs.items()}
    return {reply: found[parent] for reply, parent in wanted.items() if parent in found}


def saved_searches(es: Elasticsearch, names: IndexNames, owner: str) -> list[SavedSearch]:
    """One person's saved inbox searches, by name."""
    result = es.search(
        index=names.saved_searches, query={"term": {"owner": owner}}, sort=[{"name": "asc"}], size=200
    )
    return [SavedSearch.model_validate(h["_source"]) for h in result["hits"]["hits"]]


def _not_scored_by(model: str) -> dict[str, Any]:
    return {"bool": {"must_not": [{"term": {"model": model}}]}}


def mentions_to_rescore(
    es: Elasticsearch, names: IndexNames, model: str, size: int
) -> list[VersionedMention]:
    """Up to `size` stored mentions whose labels are not `model`'s yet, newest first, with their versions.

    The index itself is the queue: what is left to re-score after a crash or a restart is found here.
    """
    result = es.search(
        index=names.mentions,
        query=_not_scored_by(model),
        sort=[{"created_at": "desc"}, {"id": "asc"}],
        size=size,
        seq_no_primary_term=True,
    )
    return [
        VersionedMention(Mention.model_validate(h["_source"]), h["_seq_no"], h["_primary_term"], h["_index"])
        for h in result["hits"]["hits"]
    ]


def count_to_rescore(es: Elasticsearch, names: IndexNames, model: str) -> int:
    """How many stored mentions `model` has not scored yet."""
    return es.count(index=names.mentions, query=_not_scored_by(model))["count"]


def count_collected_since(es: Elasticsearch, names: IndexNames, flt: MentionFilter, since: datetime) -> int:
    """How many mentions `flt` matches that were collected after `since` (the Inbox's "N new")."""
    query = {"bool": {"filter": [flt.to_query(), {"range": {"collected_at": {"gt": since.isoformat()}}}]}}
    return es.count(index=names.mentions, query=query)["count"]


OPEN_STATUSES = ["new", "in_progress"]


def assigned_open(
    es: Elasticsearch, names: IndexNames, email: str, size: int = 1000
) -> dict[str, str | None]:
    """The open mentions assigned to `email`: id -> who made the last assignment (None if unrecorded)."""
    result = es.search(
        index=names.mentions,
        query={
            "bool": {"filter": [{"term": {"triage.assignee": email}}, {"terms": {"status": OPEN_STATUSES}}]}
        },
        source=["id", "history"],
        sort=[{"created_at": "desc"}, {"id": "asc"}],
        size=size,
    )
    found: dict[str, str | None] = {}
    for hit in result["hits"]["hits"]:
        changes = [c for c in hit["_source"].get("history") or [] if c.get("field") == "assignee"]
        found[hit["_source"]["id"]] = changes[-1].get("by") if changes else None
    return found


def iter_mentions(
    es: Elasticsearch, names: IndexNames, flt: MentionFilter, limit: int, page_size: int = 1000
) -> Iterator[Mention]:
    """Up to `limit` mentions `flt` matches, newest first, paged with point-in-time + search_after
    (the exports: every match, never only the page on screen)."""
    pit = es.open_point_in_time(index=names.mentions, keep_alive="2m")["id"]
    given, search_after = 0, None
    try:
        while given < limit:
            kwargs: dict[str, Any] = {
                "pit": {"id": pit, "keep_alive": "2m"},
                "query": flt.to_query(),
                "size": min(page_size, limit - given),
                "sort": [{"created_at": "desc"}, {"id": "asc"}],
            }
            if search_after:
                kwargs["search_after"] = search_after
            hits = es.search(**kwargs)["hits"]["hits"]
            if not hits:
                break
            for hit in hits:
                yield Mention.model_validate(hit["_source"])
            given += len(hits)
            search_after = hits[-1]["sort"]
    finally:
        es.close_point_in_time(id=pit)
