"""Inbox: every mention, newest first, narrowed by the filters in the sidebar."""

from __future__ import annotations

import typing

import streamlit as st

from dashboard.context import Index, open_index, period_picker, shown_errors, since
from dashboard.render import mention_card
from dashboard.text import t
from ecoute.config import Intent
from index.aggregations import SENTIMENTS, counts_by
from index.queries import MentionFilter, get_customers, search_mentions

PAGE_SIZE = 50


def filters(index: Index) -> MentionFilter:
    """The sidebar; choices come from what is in the index and from config.yaml."""
    es, names, brand = index.es, index.names, index.settings.brand
    bar = st.sidebar
    bar.header(t("filters"))
    query = bar.text_input(t("search"), key="inbox_query", help=t("search_help"))
    sources = bar.multiselect(t("source"), sorted(counts_by(es, names, "source")), key="inbox_source")
    platforms = bar.multiselect(t("platform"), sorted(counts_by(es, names, "platform")), key="inbox_platform")
    languages = bar.multiselect(t("language"), sorted(counts_by(es, names, "language")), key="inbox_language")
    sentiments = bar.multiselect(t("sentiment"), list(SENTIMENTS), key="inbox_sentiment")
    intents = bar.multiselect(
        t("intent"),
        _union(typing.get_args(Intent), counts_by(es, names, "intent.label")),
        key="inbox_intent",
    )
    topics = bar.multiselect(
        t("topic"),
        _union([brand.name, *brand.competitors], counts_by(es, names, "topics")),
        key="inbox_topic",
    )
    customers_only = bar.checkbox(t("customers_only"), key="inbox_customers_only")
    period = period_picker("inbox_period", default="all")
    return MentionFilter(
        query=query,
        sources=sources,
        platforms=platforms,
        languages=languages,
        sentiments=sentiments,
        intents=intents,
        topics=topics,
        customers_only=customers_only,
        since=since(period),
    )


def _union(known, found: dict[str, int]) -> list[str]:
    return list(dict.fromkeys([*known, *sorted(found)]))


def inbox(index: Index) -> None:
    st.title(t("inbox_title"))
    flt = filters(index)
    limit = st.session_state.setdefault("inbox_limit", PAGE_SIZE)
    page = search_mentions(index.es, index.names, flt, size=limit)
    st.metric(t("inbox_total"), f"{page.total:,}")
    if not page.hits:
        st.info(t("inbox_empty"))
        return
    st.caption(t("inbox_shown", shown=f"{len(page.hits):,}", total=f"{page.total:,}"))
    customers = get_customers(index.es, index.names, [h.mention.customer_id for h in page.hits])
    for hit in page.hits:
        customer = customers.get(hit.mention.customer_id or "")
        mention_card(hit.mention, hit.highlights, customer)
    if page.total > len(page.hits) and st.button(t("show_more"), key="inbox_more"):
        st.session_state["inbox_limit"] = limit + PAGE_SIZE
        st.rerun()


index = open_index()
with shown_errors(index):
    inbox(index)
