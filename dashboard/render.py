"""Pieces the pages share. Text from posts and the CRM is untrusted: shown literally, never as markup."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

import altair as alt
import streamlit as st

from core.documents import Customer, CustomerLink, Label, LinkFact, Mention, QualityIssue
from core.text import markdown_literal
from crm.quality import HANDLE_FORMATS
from dashboard.pages import page_named
from dashboard.text import chart_number_locale, date_text, number, percent, plural, t, text_or

SENTIMENT_COLORS = {"positive": "green", "neutral": "gray", "negative": "red"}
CHART_COLORS = {"positive": "#2e9e5b", "neutral": "#9e9e9e", "negative": "#d64545"}


def literal(value: object) -> str:
    """`value` as markdown that shows exactly its characters on one line: every ASCII punctuation
    mark is backslash-escaped and every autolink start broken, so no emphasis, link, HTML, directive
    or formula can come through."""
    return markdown_literal(" ".join(str(value).split()))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with a host, or None: `javascript:` and friends never become links."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def sentiment_text(sentiment: str) -> str:
    """A sentiment as a word of the interface's language: "negative", "négatif"."""
    return text_or(f"sentiment_{sentiment}", sentiment)


def intent_text(intent: str) -> str:
    """An intent as words of the interface's language: "churn risk", "risque de départ"."""
    return text_or(f"intent_{intent}", intent)


def entity_text(kind: str) -> str:
    """An entity's type as a word of the interface's language: "place", "lieu"."""
    return text_or(f"entity_{kind}", kind)


def label_text(label: Label, name: str) -> str:
    """A label's name and the model's confidence in it: "negative 0.82", "négatif 0,82"."""
    return f"{name} {number(label.confidence, 2)}"


def fact_text(fact: LinkFact) -> str:
    """One fact behind a customer link, in the interface's language."""
    values = dict(fact.values)
    if fact.kind == "name":
        values["score"] = percent(float(values.get("score") or 0))
    if fact.kind == "decided":
        values["date"] = date_text(date.fromisoformat(values["date"])) if values.get("date") else ""
    if fact.kind == "rivals":
        return plural("link_fact_rivals", int(values.get("n") or 0))
    return t(f"link_fact_{fact.kind}", **values)


def link_reason(link: CustomerLink) -> str:
    """How a mention was linked to its customer, how sure Écoute is, and why."""
    reason = t("facts_separator").join(fact_text(f) for f in link.facts) if link.facts else link.reason
    method = text_or(f"link_method_{link.method}", link.method)
    return t("link_reason", method=method, confidence=number(link.confidence, 2), reason=reason)


def quality_text(issue: QualityIssue) -> str:
    """A problem in a CRM record, in the interface's language (the stored English detail for a record
    mirrored before the value at fault was kept)."""
    if issue.kind == "missing_owner":
        return t("quality_issue_missing_owner")
    if issue.value is None:
        return issue.detail
    if issue.kind == "bad_handle" and issue.network:
        form = text_or(f"handle_form_{issue.network}", HANDLE_FORMATS.get(issue.network, ("", "?"))[1])
        return t("quality_issue_bad_handle", network=issue.network, value=repr(issue.value), form=form)
    return t(f"quality_issue_{issue.kind}", value=repr(issue.value))


def draw_chart(chart: alt.TopLevelMixin) -> None:
    """An Altair chart across the page, its axes and tooltips writing numbers as the interface's
    language does (Vega formats them itself, in English unless told)."""
    st.altair_chart(chart.configure(locale={"number": chart_number_locale()}), width="stretch")


def when(moment: datetime) -> str:
    """A stored moment to the minute, followed by its zone (UTC)."""
    return f"{date_text(moment)} UTC"


def mention_card(
    mention: Mention,
    highlights: list[str] | None = None,
    customer: Customer | None = None,
    show_customer: bool = True,
    parent: Mention | None = None,
) -> None:
    """One mention: who, where, when, the post itself, what the NLP made of it and who the customer is."""
    with st.container(border=True):
        if parent is not None:
            st.caption(literal(t("in_reply_to", author=parent.author.handle or t("anonymous"))))
            st.text(f"↳ {parent.text}")
        head, action = st.columns([5, 1])
        with head:
            author = mention.author
            who = [f"**{literal(author.display_name)}**"] if author.display_name else []
            who.append(literal(author.handle or t("anonymous")))
            if author.followers is not None:
                who.append(literal(plural("followers", author.followers)))
            st.markdown(" · ".join(who))
            dates = [when(mention.created_at)]
            if mention.published_claimed:  # dated when collected: the post's own date is in the future
                dates.append(t("date_claimed", date=date_text(mention.published_claimed, with_time=False)))
            st.caption(" · ".join(literal(v) for v in (mention.platform, mention.source, *dates)))
        url = safe_url(mention.url)
        if url:
            action.link_button(t("open_original"), url, width="stretch")
        if mention.title:
            st.markdown(f"**{literal(mention.title)}**")
        st.text(mention.text)
        if highlights:
            st.caption(t("matches"))
            for fragment in highlights:
                st.text(f"… {fragment} …")
        sentiment = mention.sentiment
        sentiment_color = SENTIMENT_COLORS.get(sentiment.label, "gray")
        intents = mention.intents or [mention.intent]
        st.markdown(
            f":{sentiment_color}-badge[{literal(label_text(sentiment, sentiment_text(sentiment.label)))}] "
            + " ".join(f":blue-badge[{literal(label_text(i, intent_text(i.label)))}]" for i in intents)
            + f" :gray-badge[{literal(t('status'))}\\: {literal(t(f'status_{mention.status}'))}]"
            + "".join(f" :orange-badge[{literal(t('flag_' + f))}]" for f in mention.flags)
        )
        if show_customer and mention.customer_id:
            _customer_line(mention, customer)
        details = []
        if mention.model:  # fast: scored at ingest; accurate: re-scored by the transformer since
            known = mention.model in ("fast", "accurate")
            details.append(
                literal(t("scored_by", model=t("model_" + mention.model) if known else mention.model))
            )
        if mention.topics:
            details.append(f"{literal(t('topics'))}\\: {literal(', '.join(mention.topics))}")
        if mention.entities:
            entities = ", ".join(f"{e.text} ({entity_text(e.label)})" for e in mention.entities)
            details.append(f"{literal(t('entities'))}\\: {literal(entities)}")
        if details:
            st.caption(" · ".join(details))


def _customer_line(mention: Mention, customer: Customer | None) -> None:
    customer_id = mention.customer_id or ""
    name = customer.full_name if customer else t("unknown_customer", id=customer_id)
    if customer and customer.company:
        name = f"{name}, {customer.company}"
    st.page_link(
        page_named("customers").script,
        label=f"{literal(t('customer'))}\\: {literal(name)}",
        icon=":material/person:",
        query_params={"customer": customer_id},
    )
    if mention.link:
        st.caption(literal(link_reason(mention.link)))
