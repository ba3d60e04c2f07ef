"""Customers: find a CRM contact, see the record beside what they said in public and the alerts about them."""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from core.documents import Alert, CrmRecord, Customer, Mention
from dashboard.access import scope_of
from dashboard.alert_cards import alert_context, alert_summary, describe_rule
from dashboard.auth import User, require_page
from dashboard.cached import overview_and_mentions_of
from dashboard.context import Index, Window, open_index, settings_or_stop, shown_errors, window_picker
from dashboard.export import csv_bytes, customers_frame, mentions_frame
from dashboard.render import (
    CHART_COLORS,
    draw_chart,
    intent_text,
    literal,
    mention_card,
    quality_text,
    safe_url,
    sentiment_text,
    when,
)
from dashboard.text import number, plural, t
from index.accounts import AccountActivity, account_activity
from index.aggregations import SENTIMENTS, SentimentBucket
from index.alerts import list_alerts
from index.crm import CustomerRecords, records_of_customer
from index.customers import customers_of_owner, get_customer, search_customers
from index.mention_search import MentionFilter, OwnerScope

MENTIONS_SHOWN = 50


def _matches(customer: Customer, text: str) -> bool:
    needle = text.strip().lstrip("@").lower()
    fields = (customer.full_name, customer.company, customer.email, *customer.handles)
    return not needle or any(needle in (v or "").lower() for v in fields)


def choose_customer(index: Index, user: User, scope: OwnerScope | None) -> Customer | None:
    """Search box and picker; the `customer` query parameter opens one directly and follows the choice.

    A sales person (`scope` set) sees only their own accounts, whatever the box or the address says;
    other roles start on every customer and may tick "My accounts".
    """
    wanted = st.query_params.get("customer")
    ticked = st.checkbox(
        t("my_accounts"), value=scope is not None, disabled=scope is not None, key="customer_mine"
    )
    mine = ticked or scope is not None
    text = st.text_input(t("customer_search"), key="customer_search", help=t("customer_search_help"))
    if mine:
        found = [c for c in customers_of_owner(index.es, index.names, user.email) if _matches(c, text)]
        if not found and not text.strip():
            st.info(t("my_accounts_none"))
    else:
        found = search_customers(index.es, index.names, text, scope=scope)
    if text.strip() or mine:
        if found:
            st.caption(plural("customers_found", len(found)))
            activity = account_activity(
                index.es, index.names, [c.customer_id for c in found], now=datetime.now(UTC)
            )
            found = by_activity(found, activity)
            clicked = accounts_table(found, activity)
            if clicked is not None:
                wanted = clicked
                st.query_params["customer"] = clicked
            st.download_button(
                t("export_customers"),
                csv_bytes(customers_frame(found)),
                file_name="customers.csv",
                mime="text/csv",
                key="customers_csv",
            )
        elif text.strip():
            st.info(t("customers_none"))
    if wanted and wanted not in {c.customer_id for c in found}:
        opened = get_customer(index.es, index.names, wanted, scope=scope)
        if opened is None:
            missing = "customer_not_yours" if scope is not None else "customer_missing"
            st.warning(literal(t(missing, id=wanted)))
            wanted = None
        else:
            found = [opened, *found]
    if not found:
        if not text.strip():
            st.info(t("customers_none"))
        return None
    by_id = {c.customer_id: c for c in found}
    ids = list(by_id)
    # A link followed from another page (or an address typed) opens its customer even when the picker
    # already holds an earlier choice of this session.
    if wanted in by_id and st.session_state.get("customer_addressed") != wanted:
        st.session_state["customer_pick"] = wanted
    st.session_state["customer_addressed"] = wanted
    default = {} if "customer_pick" in st.session_state else {"index": None}
    chosen = st.selectbox(
        t("customer_pick"),
        ids,
        **default,
        format_func=lambda i: " · ".join(
            v for v in (by_id[i].full_name, by_id[i].company, by_id[i].email) if v
        ),
        placeholder=t("customer_pick_placeholder"),
        key="customer_pick",
    )
    if chosen is None:
        return None
    if chosen != wanted:
        st.query_params["customer"] = chosen
    return by_id[chosen]


def by_activity(found: list[Customer], activity: dict[str, AccountActivity]) -> list[Customer]:
    """The customers, the most recently mentioned first (never mentioned last, by name)."""
    never = datetime.min.replace(tzinfo=UTC)
    by_name = sorted(found, key=lambda c: (c.full_name or "").lower())
    return sorted(by_name, key=lambda c: activity[c.customer_id].last_mention_at or never, reverse=True)


def _trend(points: float | None) -> str:
    if points is None:
        return "—"
    return t("trend_points", points=number(points, signed=True))


def accounts_table(found: list[Customer], activity: dict[str, AccountActivity]) -> str | None:
    """The customers with their recent activity; the customer id of the row clicked."""
    rows = []
    for customer in found:
        seen = activity[customer.customer_id]
        rows.append(
            {
                t("name"): customer.full_name or "—",
                t("company"): customer.company or "—",
                t("last_mention"): when(seen.last_mention_at) if seen.last_mention_at else "—",
                t("mentions_30d"): seen.mentions,
                t("net_sentiment_30d"): number(seen.net_sentiment, 2, signed=True)
                if seen.net_sentiment is not None
                else "—",
                t("sentiment_trend_30d"): _trend(seen.trend_points),
                t("open_alerts"): seen.open_alerts,
                t("segment"): customer.segment or "—",
                t("owner"): customer.owner_name or customer.owner_email or "—",
            }
        )
    st.caption(t("accounts_click"))
    event = st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="accounts_table",
    )
    # The selection stays on later reruns; choose_customer opens it only once ("customer_addressed").
    picked = [found[i].customer_id for i in event.selection.rows if i < len(found)]
    return picked[0] if picked else None


def crm_record(customer: Customer) -> None:
    st.subheader(literal(customer.full_name), anchor=False)  # no heading anchor made of CRM text
    st.caption(t("crm_record"))
    owner = " ".join(
        v for v in (customer.owner_name, f"<{customer.owner_email}>" if customer.owner_email else None) if v
    )
    value = number(customer.account_value, 2) if customer.account_value is not None else None
    other_emails = [e for e in customer.emails if e != customer.email]
    other_phones = [p for p in customer.phones if p != customer.phone]
    handles = [f"{p.network}: {p.handle}" for p in customer.profiles] or customer.handles
    fields = [
        (t("company"), customer.company),
        (t("email"), ", ".join([customer.email or "", *other_emails]).strip(", ")),
        (t("phone"), ", ".join([customer.phone or "", *other_phones]).strip(", ")),
        (t("handles"), ", ".join(handles)),
        (t("confirmed_handles"), ", ".join(customer.confirmed_handles)),
        (t("segment"), customer.segment),
        (t("account_value"), value),
        (t("owner"), owner),
        (t("customer_id"), customer.customer_id),
        (t("crm_source"), customer.source),
        (t("updated"), when(customer.updated_at)),
    ]
    st.markdown("  \n".join(f"**{literal(name)}**\\: {literal(v or '—')}" for name, v in fields))
    for issue in customer.quality:
        st.warning(literal(quality_text(issue)), icon=":material/report:")


def opportunities_and_interactions(records: CustomerRecords) -> None:
    """What sales and service know: open deals and the latest tickets, calls and orders."""
    st.subheader(t("open_opportunities"))
    if records.opportunities:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("opportunity"): o.title,
                        t("stage"): o.stage,
                        t("amount"): o.amount,
                        t("close_date"): o.occurred_at.date() if o.occurred_at else None,
                    }
                    for o in records.opportunities
                ]
            ),
            hide_index=True,
        )
    else:
        st.caption(t("open_opportunities_none"))
    st.subheader(t("interactions"))
    if records.interactions:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("interaction_when"): when(i.occurred_at) if i.occurred_at else None,
                        t("interaction_kind"): i.channel,
                        t("interaction_subject"): i.title,
                        t("interaction_status"): i.stage,
                    }
                    for i in records.interactions
                ]
            ),
            hide_index=True,
        )
    else:
        st.caption(t("interactions_none"))
    if records.withheld:
        st.caption(plural("crm_records_withheld", records.withheld))


def timeline_chart(
    mentions: list[Mention], interactions: list[CrmRecord], alerts: list[Alert]
) -> alt.Chart | None:
    """Mentions (coloured by sentiment), CRM interactions and alerts on one time axis."""
    alert = t("timeline_alert")
    rows = [
        {
            "when": m.created_at,
            "lane": t("lane_mentions"),
            "what": sentiment_text(m.sentiment.label),
            "detail": m.text[:120],
        }
        for m in mentions
    ]
    rows += [
        {
            "when": i.occurred_at,
            "lane": t("lane_interactions"),
            "what": i.channel or t("timeline_crm"),
            "detail": i.title or "",
        }
        for i in interactions
        if i.occurred_at
    ]
    rows += [{"when": a.created_at, "lane": t("alerts"), "what": alert, "detail": a.rule} for a in alerts]
    if not rows:
        return None
    data = pd.DataFrame(rows)
    data["when"] = pd.to_datetime(data["when"], utc=True)
    colors = {sentiment_text(s): CHART_COLORS[s] for s in SENTIMENTS} | {alert: "#f28e2b"}
    domain = list(colors) + sorted({r["what"] for r in rows} - set(colors))
    palette = list(colors.values()) + ["#4c78a8"] * (len(domain) - len(colors))
    return (
        alt.Chart(data)
        .mark_circle(size=90, opacity=0.85)
        .encode(
            x=alt.X("when:T", title=None, axis=alt.Axis(format="%Y-%m-%d")),
            y=alt.Y("lane:N", title=None),
            color=alt.Color("what:N", title=None, scale=alt.Scale(domain=domain, range=palette)),
            tooltip=[
                alt.Tooltip("when:T", title=t("interaction_when"), format="%Y-%m-%d %H:%M"),
                alt.Tooltip("what:N", title=t("timeline_what")),
                alt.Tooltip("detail:N", title=t("timeline_detail")),
            ],
        )
        .properties(height=160)
    )


def sentiment_trend(weeks: list[SentimentBucket]) -> alt.Chart | None:
    """Net sentiment of the customer's mentions per week."""
    buckets = [b for b in weeks if b.total]
    if not buckets:
        return None
    data = pd.DataFrame(
        [
            {
                "week": b.start,
                "net": b.net_sentiment,
                "net_text": number(b.net_sentiment, 2, signed=True),
                "mentions": b.total,
            }
            for b in buckets
        ]
    )
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title=None, axis=alt.Axis(format="%Y-%m-%d")),
            y=alt.Y("net:Q", title=t("net_sentiment"), scale=alt.Scale(domain=[-1, 1])),
            tooltip=[
                alt.Tooltip("week:T", title=t("week"), format="%Y-%m-%d"),
                alt.Tooltip("net_text:N", title=t("net_sentiment")),
                alt.Tooltip("mentions:Q", title=t("mentions")),
            ],
        )
        .properties(height=160)
    )


def customer_activity(index: Index, user: User, customer: Customer, window: Window) -> None:
    """The customer's mentions of the window (the last 90 days by default), its alerts and CRM records."""
    flt = MentionFilter(customer_id=customer.customer_id, since=window.since, until=window.until)
    # One request for the counts, the intents, the weekly trend and the list: each is a pass over the index.
    summary, page = overview_and_mentions_of(
        index, flt, MENTIONS_SHOWN, fields=("sentiment.label", "intent.label"), interval="week"
    )
    by_sentiment = summary.counts["sentiment.label"]
    cols = st.columns(len(SENTIMENTS))
    for col, sentiment in zip(cols, SENTIMENTS, strict=True):
        col.metric(t(sentiment), number(by_sentiment.get(sentiment, 0)))

    recipient = user.email if user.role == "sales" else None  # sales: the alerts sent to them
    alerts = list_alerts(index.es, index.names, customer_id=customer.customer_id, recipient=recipient)
    scope = scope_of(index, user)
    records = records_of_customer(index.es, index.names, customer, scope=scope)

    st.subheader(t("timeline"))
    chart = timeline_chart([h.mention for h in page.hits], records.interactions, alerts)
    if chart is None:
        st.caption(t("timeline_empty"))
    else:
        draw_chart(chart)
    trend, intents = st.columns(2)
    with trend:
        st.subheader(t("sentiment_trend"))
        chart = sentiment_trend(summary.over_time)
        if chart is None:
            st.caption(t("customer_mentions_none"))
        else:
            draw_chart(chart)
    with intents:
        st.subheader(t("top_intents"))
        top = dict(list(summary.counts["intent.label"].items())[:5])
        if top:
            st.dataframe(
                pd.DataFrame([{t("intent"): intent_text(k), t("count"): v} for k, v in top.items()]),
                hide_index=True,
            )
        else:
            st.caption(t("customer_mentions_none"))
    opportunities_and_interactions(records)
    st.subheader(t("alerts"))
    if not alerts:
        st.caption(t("alerts_none"))
    context = alert_context(index, alerts, scope)
    for alert in alerts:
        posted = context.posted.get(alert.mention_id)
        rule = context.rules.get(alert.rule)
        with st.container(border=True):
            st.markdown(
                literal(
                    t(
                        "alert_line",
                        rule=alert.rule,
                        customer=customer.full_name,
                        posted=when(posted) if posted else "—",
                        sentiment=t(alert.sentiment) if alert.sentiment else "-",
                        intent=intent_text(alert.intent) if alert.intent else "-",
                        status=t(f"alert_status_{alert.status}"),
                    )
                )
            )
            st.text(alert_summary(alert, context))
            st.caption(literal(t("alert_raised_at", at=when(alert.created_at))))
            if rule:
                st.caption(literal(t("alert_rule_in_full", rule=alert.rule, conditions=describe_rule(rule))))
            url = safe_url(alert.url)
            if url:
                st.link_button(t("open_original"), url)

    st.subheader(f"{literal(t('customer_mentions'))} \\({number(page.total)}\\) · {literal(window.label)}")
    if not page.hits:
        st.caption(t("customer_mentions_none"))
    else:
        if page.total > len(page.hits):
            st.caption(t("inbox_shown", shown=number(len(page.hits)), total=number(page.total)))
        st.download_button(
            t("export_mentions"),
            csv_bytes(mentions_frame([h.mention for h in page.hits])),
            file_name=f"mentions-{customer.customer_id}.csv",
            mime="text/csv",
            key="customer_mentions_csv",
        )
    for hit in page.hits:
        mention_card(hit.mention, show_customer=False)


def customers(index: Index, user: User) -> None:
    st.title(t("customers_title"))
    customer = choose_customer(index, user, scope_of(index, user))
    if customer is None:
        return
    # Older periods are a choice away; by default only the recent indices are read.
    window = window_picker("customer_period", default="90d")
    record, activity = st.columns([1, 2])
    with record:
        crm_record(customer)
    with activity:
        customer_activity(index, user, customer, window)


user = require_page("customers", settings_or_stop())
index = open_index()
with shown_errors(index):
    customers(index, user)
