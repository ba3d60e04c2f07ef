"""Alerts: the signed-in person's alerts (a sales person's accounts by default), each linked to its
mention, customer and rule and acknowledged with a click; CSV export; and the rule editor with a live
preview of what a rule would have matched over the last 7 days."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from alerts.preview import preview_rule
from alerts.query import QuerySyntaxError, parse_query
from alerts.settings import AlertRule, rules_from_index
from core.documents import Alert, StoredRule
from dashboard.access import scope_of
from dashboard.alert_cards import (
    AlertContext,
    alert_context,
    alert_summary,
    describe_rule,
    explanation_text,
    rule_description,
)
from dashboard.auth import User, require_page
from dashboard.context import Index, open_index, query_error_text, settings_or_stop, shown_errors
from dashboard.export import alerts_frame, csv_bytes
from dashboard.pages import page_named
from dashboard.render import intent_text, literal, mention_card, safe_url, when
from dashboard.text import labels, number, plural, t
from index.alerts import (
    acknowledge_alert,
    alerts_for,
    delete_rule,
    deliveries_of,
    get_alert,
    save_rule,
    stored_rules,
)
from index.customers import get_customers
from index.mention_search import OwnerScope
from index.mentions import get_mentions_versioned

SCOPES = ("mine", "everyone")
VIEWS = ("alerts", "rules")
RULE_EDITORS = frozenset({"community_manager", "marketer", "admin"})
SENTIMENTS = ["positive", "neutral", "negative"]
INTENTS = ["complaint", "praise", "question", "purchase", "churn_risk", "spam", "other"]
PREVIEW_DAYS = 7


def may_acknowledge(user: User, alert: Alert) -> bool:
    return user.email in alert.recipients or user.role == "admin"


def alert_card(index: Index, user: User, alert: Alert, deliveries: list[str], context: AlertContext) -> None:
    with st.container(border=True):
        posted = context.posted.get(alert.mention_id)
        line = t(
            "alert_line",
            rule=alert.rule,
            customer=context.customer_name(alert) or t("alert_no_customer"),
            posted=when(posted) if posted else "—",
            sentiment=t(alert.sentiment) if alert.sentiment else "-",
            intent=intent_text(alert.intent) if alert.intent else "-",
            status=t(f"alert_status_{alert.status}"),
        )
        st.markdown(literal(line))
        st.text(alert_summary(alert, context))
        for explanation in alert.details.get("explanation", []):
            st.text(f"· {explanation_text(str(explanation))}")
        rule = context.rules.get(alert.rule)
        notes = [t("alert_raised_at", at=when(alert.created_at))]
        if alert.count > 1:
            notes.append(plural("alert_grouped", alert.count))
        if alert.acknowledged_by and alert.acknowledged_at:
            notes.append(
                t(
                    "alert_acknowledged_by",
                    who=context.person(alert.acknowledged_by),
                    at=when(alert.acknowledged_at),
                )
            )
        if deliveries:
            notes.append(t("alert_deliveries", lines=", ".join(deliveries)))
        st.caption(literal(" · ".join(notes)))
        st.caption(
            literal(t("alert_rule_in_full", rule=alert.rule, conditions=describe_rule(rule)))
            if rule
            else literal(t("alert_rule_gone", rule=alert.rule))
        )
        cols = st.columns([1, 1, 1, 1, 2])
        alerts_page = page_named("alerts").script
        cols[0].page_link(
            alerts_page, label=literal(t("alert_open")), icon=":material/open_in_full:",
            query_params={"alert": alert.id},
        )  # fmt: skip
        url = safe_url(alert.url)
        if url:
            cols[1].link_button(t("open_original"), url)
        if alert.customer_id:
            cols[2].page_link(
                page_named("customers").script,
                label=literal(context.customer_name(alert) or t("customer")),
                icon=":material/person:",
                query_params={"customer": alert.customer_id},
            )
        cols[3].page_link(
            alerts_page, label=literal(t("alert_rule_link", rule=alert.rule)), icon=":material/rule:",
            query_params={"rule": alert.rule},
        )  # fmt: skip
        can_ack = alert.status == "new" and may_acknowledge(user, alert)
        if can_ack and cols[4].button(t("acknowledge"), key=f"ack_{alert.id}"):
            acknowledge_alert(index.es, index.names, alert.id, user.email, datetime.now(UTC))
            st.rerun()


def channel_text(channel: str) -> str:
    """A channel as people read it: "email", "webhook team-chat"."""
    if channel.startswith("webhook:"):
        return t("channel_webhook", name=channel.removeprefix("webhook:"))
    return t("channel_email") if channel == "email" else channel


def delivery_lines(index: Index, alerts: list[Alert]) -> dict[str, list[str]]:
    """Per alert, one line per delivery: its channel and how it went (a failure with its reason)."""
    lines: dict[str, list[str]] = {}
    for delivery in deliveries_of(index.es, index.names, [a.id for a in alerts]):
        values = {
            "channel": channel_text(delivery.channel),
            "status": t(f"delivery_status_{delivery.status}"),
        }
        if delivery.status == "failed" and delivery.last_error:
            text = t("delivery_failed", error=delivery.last_error[:80], **values)
        else:
            text = t("delivery_line", **values)
        lines.setdefault(delivery.alert_id, []).append(text)
    return lines


def one_alert(index: Index, user: User, scope: OwnerScope | None, alert_id: str) -> None:
    """The alert a link pointed at, with every mention grouped in it (a sales person: only an alert
    about their accounts, and only the mentions of it that are theirs or nobody's)."""
    alert = get_alert(index.es, index.names, alert_id, scope=scope)
    if alert is None:
        st.info(t("alert_not_found"))
        return
    context = alert_context(index, [alert], scope)
    alert_card(index, user, alert, delivery_lines(index, [alert]).get(alert.id, []), context)
    ids = list(dict.fromkeys([alert.mention_id, *alert.mention_ids]))
    mentions = get_mentions_versioned(index.es, index.names, ids[:50], scope=scope)
    customers = get_customers(
        index.es, index.names, [m.mention.customer_id or "" for m in mentions.values()], scope=scope
    )
    st.subheader(t("alert_mentions"))
    for found in mentions.values():
        mention = found.mention
        mention_card(mention, customer=customers.get(mention.customer_id or ""))


def alert_list(index: Index, user: User, scope: OwnerScope | None) -> None:
    shown = "mine"
    if scope is None:  # a sales person sees the alerts about their own accounts only
        shown = st.segmented_control(
            t("alerts_scope"),
            SCOPES,
            default="mine",
            format_func=labels(SCOPES, lambda s: t("alerts_mine" if s == "mine" else "alerts_everyone")),
            key="alerts_scope",
        )
    open_only = st.checkbox(t("alerts_open_only"), value=True, key="alerts_open_only")
    found = alerts_for(
        index.es,
        index.names,
        recipients=[user.email] if shown != "everyone" else None,
        customer_ids=sorted(scope.customer_ids) if scope else None,
        status="new" if open_only else None,
        scope=scope,  # never another team's alerts, even one sent to them before an account changed hands
    )
    if not found:
        st.info(t("alerts_mine_none"))
        return
    st.download_button(
        t("alerts_export"),
        csv_bytes(alerts_frame(found)),
        file_name="ecoute-alerts.csv",
        mime="text/csv",
        key="alerts_export",
    )
    deliveries = delivery_lines(index, found)
    context = alert_context(index, found, scope)
    for alert in found:
        alert_card(index, user, alert, deliveries.get(alert.id, []), context)


# ---- the rule editor ----------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def rule_form(index: Index, rule: AlertRule, key: str) -> tuple[AlertRule | str, str]:
    """The editor's fields for `rule`; returns (the rule as edited or why it is invalid, the query)."""
    settings = index.settings
    hooks = ["email", *(f"webhook:{w.name}" for w in settings.alerts.channels.webhooks)]
    linked_options = ["any", "yes", "no"]
    linked_now = {None: "any", True: "yes", False: "no"}[rule.linked_customer]
    name = st.text_input(t("rule_name"), rule.name, key=f"{key}_name")
    description = st.text_input(t("rule_description"), rule_description(rule), key=f"{key}_description")
    query = st.text_input(t("rule_query"), rule.query, key=f"{key}_query")
    left, right = st.columns(2)
    sentiment = left.multiselect(
        t("rule_sentiment"),
        SENTIMENTS,
        rule.sentiment,
        format_func=labels(SENTIMENTS, t),
        key=f"{key}_sentiment",
    )
    intent = right.multiselect(
        t("rule_intent"), INTENTS, rule.intent, format_func=labels(INTENTS, intent_text), key=f"{key}_intent"
    )
    either = left.checkbox(t("rule_either"), rule.sentiment_or_intent, key=f"{key}_either")
    linked = right.selectbox(
        t("rule_linked"), linked_options, index=linked_options.index(linked_now),
        format_func=labels(linked_options, lambda o: t(f"rule_linked_{o}")), key=f"{key}_linked",
    )  # fmt: skip
    confidence = left.slider(t("rule_min_confidence"), 0.0, 1.0, rule.min_confidence, 0.05, key=f"{key}_conf")
    source_names = [s.name for s in settings.sources]
    sources = right.multiselect(
        t("rule_sources"), sorted({*source_names, *rule.sources}), rule.sources, key=f"{key}_sources"
    )
    languages = left.multiselect(
        t("rule_languages"), sorted({"fr", "en", *rule.languages}), rule.languages, key=f"{key}_languages"
    )
    segments = right.text_input(t("rule_segments"), ", ".join(rule.segments), key=f"{key}_segments")
    min_value = left.number_input(
        t("rule_min_value"), min_value=0.0, value=float(rule.min_account_value or 0), key=f"{key}_value"
    )
    min_followers = right.number_input(
        t("rule_min_followers"), min_value=0, value=int(rule.min_followers or 0), key=f"{key}_followers"
    )
    recipients = st.text_input(t("rule_recipients"), ", ".join(rule.recipients), key=f"{key}_recipients")
    channel_options = sorted({*hooks, *(rule.channels or [])})
    channels = st.multiselect(
        t("rule_channels"),
        channel_options,
        rule.channels or [],
        format_func=labels(channel_options, channel_text),
        key=f"{key}_channels",
    )
    cooldown = left.number_input(t("rule_cooldown"), 0, 10_000, rule.cooldown_minutes, key=f"{key}_cooldown")
    group = right.number_input(t("rule_group"), 0, 86_400, rule.group_seconds, key=f"{key}_group")
    enabled = st.checkbox(t("rule_enabled"), rule.enabled, key=f"{key}_enabled")
    edited = {
        **rule.model_dump(),
        "name": name.strip(), "description": description.strip(), "query": query, "sentiment": sentiment,
        "intent": intent, "sentiment_or_intent": either, "min_confidence": confidence, "sources": sources,
        "languages": languages, "segments": _split(segments), "min_account_value": min_value or None,
        "min_followers": int(min_followers) or None, "recipients": _split(recipients),
        "channels": channels or None, "cooldown_minutes": int(cooldown), "group_seconds": int(group),
        "enabled": enabled, "linked_customer": {"any": None, "yes": True, "no": False}[linked],
    }  # fmt: skip
    try:
        return AlertRule.model_validate(edited), query
    except ValidationError as exc:
        return "; ".join(dict.fromkeys(_problem(e) for e in exc.errors())), query


def _problem(error: ErrorDetails) -> str:
    """Why a field of the editor does not validate, in the reader's language."""
    field = str(error["loc"][0]) if error["loc"] else ""
    if field == "name":
        return t("rule_name_invalid")
    return t("rule_field_invalid", field=t(FIELDS[field]) if field in FIELDS else field)


# The editor's label of each rule field (a comment: Streamlit shows a page script's bare strings).
FIELDS = {
    "description": "rule_description", "query": "rule_query", "sentiment": "rule_sentiment",
    "intent": "rule_intent", "min_confidence": "rule_min_confidence", "sources": "rule_sources",
    "languages": "rule_languages", "segments": "rule_segments", "min_account_value": "rule_min_value",
    "min_followers": "rule_min_followers", "recipients": "rule_recipients", "channels": "rule_channels",
    "cooldown_minutes": "rule_cooldown", "group_seconds": "rule_group",
}  # fmt: skip


def preview(index: Index, rule: AlertRule) -> None:
    """What the rule would have matched over the last 7 days (compiled query, run as a search)."""
    if rule.kind == "spike":
        st.caption(t("rule_preview_spike"))
        return
    found = preview_rule(index.es, index.names, rule, PREVIEW_DAYS, size=10)
    st.markdown(literal(t("rule_preview", n=number(found.total))))
    for mention in found.newest:
        st.text(f"{when(mention.created_at)} · @{mention.author.handle or '?'} · {mention.text[:200]}")


def rule_editor(index: Index, user: User) -> None:
    alerts = index.settings.alerts
    saved = {r.name: r for r in stored_rules(index.es, index.names)}
    in_effect = {r.rule.name: r for r in alerts.rules_in_effect(rules_from_index(list(saved.values())))}
    names = [*sorted(in_effect), ""]
    wanted = st.query_params.get("rule")
    chosen = st.selectbox(
        t("rule_pick"), names, index=names.index(wanted) if wanted in names else 0,
        format_func=labels(names, lambda n: n or t("rule_new")), key="rule_pick",
    )  # fmt: skip
    rule = in_effect[chosen].rule if chosen in in_effect else AlertRule(name=t("rule_new_name"))
    if chosen:
        st.caption(literal(t("rule_origin", origin=t(f"rule_origin_{in_effect[chosen].origin}"))))
    edited, query = rule_form(index, rule, f"rule_{chosen}")
    try:
        if query.strip():
            parse_query(query)
    except QuerySyntaxError as exc:
        st.error(query_error_text(exc))
        st.code(exc.pointer(), language=None)
        return
    if isinstance(edited, str):
        st.error(literal(t("rule_invalid", reason=edited)))
        return
    preview(index, edited)
    if user.role not in RULE_EDITORS:
        st.caption(t("rule_read_only"))
        return
    left, right = st.columns(2)
    if left.button(t("rule_save"), key="rule_save", type="primary"):
        document = StoredRule(
            id=edited.name, name=edited.name, rule=edited.model_dump(mode="json"),
            updated_by=user.email, updated_at=datetime.now(UTC),
        )  # fmt: skip
        save_rule(index.es, index.names, document)
        st.success(literal(t("rule_saved", name=edited.name)))
    if chosen in saved and right.button(t("rule_reset"), key="rule_reset"):
        delete_rule(index.es, index.names, saved[chosen].id)
        st.rerun()


def page(index: Index, user: User) -> None:
    st.title(t("alerts_title"))
    scope = scope_of(index, user)
    alert_id = st.query_params.get("alert")
    if alert_id:
        # Written again: a link from this same page leaves the address without it, and a reload or a
        # copied address would lose the alert.
        st.query_params["alert"] = alert_id
        one_alert(index, user, scope, alert_id)
        return
    view = "alerts"
    if user.role in RULE_EDITORS:
        view = st.segmented_control(
            t("alerts_view"), VIEWS, default="rules" if st.query_params.get("rule") else "alerts",
            format_func=labels(VIEWS, lambda v: t(f"alerts_view_{v}")), key="alerts_view",
        ) or "alerts"  # fmt: skip
    if view == "rules":
        rule_editor(index, user)
    else:
        alert_list(index, user, scope)


user = require_page("alerts", settings_or_stop())
index = open_index()
with shown_errors(index):
    page(index, user)
