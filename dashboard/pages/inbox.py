"""Inbox: every mention, newest first, narrowed by the filters in the sidebar."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime
from functools import partial

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.documents import SavedSearch, document_id
from dashboard.auth import User, display_name, require_page
from dashboard.cached import mentions_page
from dashboard.context import CUSTOM, Index, open_index, settings_or_stop, shown_errors, window_picker
from dashboard.export import csv_bytes, mentions_frame, xlsx_bytes
from dashboard.queues import past_target_note, team_filters
from dashboard.render import intent_text, literal, mention_card
from dashboard.reply_panel import approvals, reply_panel
from dashboard.shortcuts import help_list, install, item_key
from dashboard.text import labels, number, plural, t
from dashboard.triage import (
    ANYONE,
    LISTED_KEY,
    ME,
    OPENED_KEY,
    PINNED_KEY,
    STATUSES,
    bulk_bar,
    quick_actions,
    status_text,
    triage_panel,
    triagers,
)
from ecoute.config import Intent
from index.aggregations import SENTIMENTS
from index.customers import get_customers
from index.mention_search import ORDERS, UNASSIGNED, Facet, MentionFilter, MentionHit, attention_reasons
from index.mentions import count_collected_since, get_mentions_versioned, get_parents, iter_mentions
from index.replies import replies_to
from index.searches import delete_saved_search, save_search, saved_searches

PAGE_SIZE = 50


def read_url_filters() -> None:
    """Filters a link put in the URL (Insights' spike click-through): ?q=<search>&from=<day>&to=<day>
    (ISO days, UTC). Applied once per distinct link; from then on the sidebar owns them."""
    wanted = {key: st.query_params.get(key) for key in ("q", "from", "to")}
    if not any(wanted.values()):
        return
    link = repr(sorted(wanted.items()))
    if st.session_state.get("inbox_url_applied") == link:
        return
    st.session_state["inbox_url_applied"] = link
    if wanted["q"] is not None:
        st.session_state["inbox_query"] = wanted["q"]
    try:
        first = date.fromisoformat(wanted["from"] or wanted["to"] or "")
        last = date.fromisoformat(wanted["to"] or wanted["from"] or "")
    except ValueError:
        return
    today = datetime.now(UTC).date()
    st.session_state["inbox_period"] = CUSTOM
    st.session_state["inbox_period_range"] = (min(first, today), min(last, today))


# The sidebar's choices, counted over the mentions the list reads (by the same request), and their widgets.
FACETS = {
    "source": "inbox_source",
    "platform": "inbox_platform",
    "language": "inbox_language",
    "sentiment.label": "inbox_sentiment",
    "intent.label": "inbox_intent",
    "topics": "inbox_topic",
}
FILTER_KEYS = (
    "inbox_query",
    "inbox_source",
    "inbox_platform",
    "inbox_language",
    "inbox_sentiment",
    "inbox_intent",
    "inbox_topic",
    "inbox_status",
    "inbox_assignee",
    "inbox_team",
    "inbox_past_target",
    "inbox_customers_only",
    "inbox_hide_noise",
    "inbox_period",
    "inbox_period_range",
    "inbox_order",
)


def _apply_saved(by_id: dict[str, SavedSearch]) -> None:
    chosen = by_id.get(st.session_state.get("inbox_saved") or "")
    if chosen is None:
        return
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
    for key, value in chosen.filters.items():
        if key == "inbox_period_range":  # stored as ISO dates
            st.session_state[key] = tuple(date.fromisoformat(str(d)) for d in value)
        elif key in FILTER_KEYS:
            st.session_state[key] = value
    if "inbox_assignee" not in chosen.filters and chosen.filters.get("inbox_mine"):
        st.session_state["inbox_assignee"] = ME  # saved before the assignee filter: "assigned to me"
    st.session_state[APPLIED_KEY] = None  # taken once the filters are drawn


APPLIED_KEY = "inbox_saved_applied"


def _filter_values() -> dict[str, object]:
    return {key: st.session_state.get(key) for key in FILTER_KEYS}


def _remember_applied() -> None:
    """Once the filters are drawn: what the chosen saved search set them to (a flag set by choosing or
    saving one), so a later change of any filter clears the picker."""
    if APPLIED_KEY in st.session_state and st.session_state[APPLIED_KEY] is None:
        st.session_state[APPLIED_KEY] = _filter_values()


def _forget_changed_search() -> None:
    """The picker no longer names a saved search once the filters differ from what it set."""
    applied = st.session_state.get(APPLIED_KEY)
    if applied is not None and applied != _filter_values():
        st.session_state["inbox_saved"] = ""
        st.session_state.pop(APPLIED_KEY, None)


def _save_current(index: Index, user: User) -> None:
    name = st.session_state.get("inbox_saved_name", "").strip()
    if not name:
        st.session_state["inbox_saved_flash"] = ("error", t("saved_name_missing"))
        return
    values = {key: st.session_state[key] for key in FILTER_KEYS if key in st.session_state}
    search = SavedSearch(
        id=document_id("saved-search", user.email, name.casefold()),
        owner=user.email,
        name=name,
        filters=values,
        created_at=datetime.now(UTC),
    )
    save_search(index.es, index.names, search)
    st.session_state["inbox_saved"] = search.id
    st.session_state[APPLIED_KEY] = None
    st.session_state["inbox_saved_name"] = ""
    st.session_state["inbox_saved_flash"] = ("success", t("saved_search_saved", name=name))


def _delete_saved(index: Index) -> None:
    chosen = st.session_state.get("inbox_saved")
    if chosen:
        delete_saved_search(index.es, index.names, chosen)
        st.session_state["inbox_saved"] = ""


def saved_search_bar(index: Index, user: User) -> None:
    """Pick one of my saved searches (it fills in the filters), save the current one, or delete one."""
    bar = st.sidebar
    searches = {s.id: s for s in saved_searches(index.es, index.names, user.email)}
    _forget_changed_search()
    if st.session_state.get("inbox_saved") not in searches:
        st.session_state["inbox_saved"] = ""
    options = ["", *searches]
    bar.selectbox(
        t("saved_searches"),
        options,
        format_func=labels(options, lambda i: searches[i].name if i else t("saved_none")),
        key="inbox_saved",
        on_change=_apply_saved,
        args=(searches,),
    )
    with bar.expander(t("save_search")):
        st.text_input(t("saved_name"), key="inbox_saved_name")
        st.button(t("save"), key="inbox_save_search", on_click=_save_current, args=(index, user))
        if st.session_state.get("inbox_saved"):
            st.button(t("saved_delete"), key="inbox_delete_search", on_click=_delete_saved, args=(index,))
    flash = st.session_state.pop("inbox_saved_flash", None)
    if flash:
        getattr(bar, flash[0])(flash[1])


def _kept(key: str, options: list[str]) -> list[str]:
    """The options plus whatever a saved search put in the widget, so a vanished value never breaks it."""
    return list(dict.fromkeys([*options, *st.session_state.get(key, [])]))


def _chosen(facet: str) -> list[str]:
    """What the facet's widget holds: drawn after the list's search, which needs it first."""
    return list(st.session_state.get(FACETS[facet]) or [])


def filters(index: Index, user: User) -> tuple[MentionFilter, DeltaGenerator]:
    """The sidebar, and the place of its choices of source, platform, language, sentiment, intent and
    topic: `facet_choices` draws them there once the list's search has counted them."""
    bar = st.sidebar
    bar.header(t("filters"))
    saved_search_bar(index, user)
    query = bar.text_input(t("search"), key="inbox_query", help=t("search_help"))
    if user.can_triage:  # those who answer start on what needs them, once per session
        st.session_state.setdefault("inbox_order", "attention")
    bar.radio(
        t("inbox_order"),
        ORDERS,
        format_func=labels(ORDERS, lambda o: t(f"order_{o}")),
        key="inbox_order",
        help=t("order_attention_help"),
    )
    choices = bar.container()
    statuses = bar.multiselect(
        t("status"), STATUSES, format_func=labels(STATUSES, status_text), key="inbox_status"
    )
    assignee = assignee_picker(index, user)
    team, past_target = team_filters(index)
    customers_only = bar.checkbox(t("customers_only"), key="inbox_customers_only")
    hide_noise = bar.checkbox(t("hide_noise"), key="inbox_hide_noise", help=t("hide_noise_help"))
    window = window_picker("inbox_period", default="7d")
    flt = MentionFilter(
        query=query,
        sources=_chosen("source"),
        platforms=_chosen("platform"),
        languages=_chosen("language"),
        sentiments=_chosen("sentiment.label"),
        intents=_chosen("intent.label"),
        topics=_chosen("topics"),
        statuses=statuses,
        assignee=assignee,
        team=team,
        past_target=past_target,
        customers_only=customers_only,
        hide_noise=hide_noise,
        since=window.since,
        until=window.until,
    )
    return flt, choices


def _offered(index: Index) -> dict[str, list[str]]:
    """Choices offered whatever the counts: the configured sources, every sentiment and intent label, the
    brand and its competitors."""
    brand = index.settings.brand
    return {
        "source": [s.name for s in index.settings.sources],
        "platform": [],
        "language": [],
        "sentiment.label": list(SENTIMENTS),
        "intent.label": list(typing.get_args(Intent)),
        "topics": [brand.name, *brand.competitors],
    }


def facet_choices(index: Index, place: DeltaGenerator, facets: dict[str, Facet]) -> None:
    """Each facet's choices: the values the filtered mentions hold (counted by the list's own search, over
    its period, each as if only it were chosen for its field), those always offered, and those chosen;
    then what a chosen saved search set is remembered.

    The counts are not written beside the choices: a multiselect keeps its choices by their text, which
    a count changing with the other filters would change."""
    names = {
        "source": t("source"),
        "platform": t("platform"),
        "language": t("language"),
        "sentiment.label": t("sentiment"),
        "intent.label": t("intent"),
        "topics": t("topic"),
    }
    offered = _offered(index)
    for facet, key in FACETS.items():
        held = [v for v, n in facets[facet].counts.items() if n] if facet in facets else []
        if facet in ("source", "platform", "language"):
            options = sorted({*offered[facet], *held})
        elif facet == "sentiment.label":
            options = offered[facet]
        else:
            options = _union(offered[facet], held)
        options = _kept(key, options)
        if facet == "sentiment.label":
            place.multiselect(names[facet], options, format_func=labels(options, t), key=key)
        elif facet == "intent.label":
            place.multiselect(names[facet], options, format_func=labels(options, intent_text), key=key)
        else:
            place.multiselect(names[facet], options, key=key)
    _remember_applied()


def assignee_picker(index: Index, user: User) -> str | None:
    """Anyone, me, nobody or one known user; the `MentionFilter.assignee` it stands for."""
    people = triagers(index)
    kept = st.session_state.get("inbox_assignee", ANYONE)  # a saved user who has since left
    options = list(dict.fromkeys([ANYONE, ME, UNASSIGNED, *people, kept]))
    names = {ANYONE: t("assignee_anyone"), ME: t("assignee_me"), UNASSIGNED: t("unassigned")}
    choice = st.sidebar.selectbox(
        t("assignee"),
        options,
        format_func=labels(options, lambda o: names.get(o) or display_name(index.settings, o)),
        key="inbox_assignee",
    )
    return {ANYONE: None, ME: user.email}.get(choice, choice)


def _union(known, found: list[str]) -> list[str]:
    return list(dict.fromkeys([*known, *sorted(found)]))


def live_counts(index: Index, flt: MentionFilter, total: int) -> None:
    """The total and "N new mentions", counted again every `dashboard.live_refresh_seconds` without a
    click; "Show them" draws the list again."""
    drawn_at = datetime.now(UTC)
    drawn = False

    @st.fragment(run_every=index.settings.dashboard.live_refresh_seconds)
    def counts() -> None:
        nonlocal drawn
        new = 0  # drawn with the list: nothing collected since, no need to ask
        if drawn:
            with shown_errors(index):
                new = count_collected_since(index.es, index.names, flt, drawn_at)
        drawn = True
        st.metric(t("inbox_total"), number(total + new))
        if new:
            column, button = st.columns([3, 1])
            column.info(plural("inbox_new_mentions", new))
            if button.button(t("inbox_show_new"), key="inbox_show_new"):
                st.session_state.pop(PINNED_KEY, None)
                st.rerun(scope="app")

    counts()


def export_bar(index: Index, flt: MentionFilter, total: int) -> None:
    """CSV and XLSX of every mention the filters match (newest first), up to `dashboard.export_max_rows`;
    built when asked, never on every run."""
    cap = index.settings.dashboard.export_max_rows
    if not st.toggle(t("export_prepare"), key="inbox_export"):
        return
    with shown_errors(index):
        frame = mentions_frame(list(iter_mentions(index.es, index.names, flt, limit=cap)))
    if total > cap:
        st.warning(t("export_capped", cap=number(cap), total=number(total)))
    csv_column, xlsx_column = st.columns(2)
    csv_column.download_button(
        t("export_mentions"), csv_bytes(frame), file_name="mentions.csv", mime="text/csv", key="inbox_csv"
    )
    xlsx_column.download_button(
        t("export_mentions_xlsx"),
        xlsx_bytes(frame, t("mentions")),
        file_name="mentions.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="inbox_xlsx",
    )


def addressed_first(index: Index, hits: list[MentionHit]) -> list[MentionHit]:
    """A link to one mention (`?mention=ID`, from an alert or a colleague) puts it first, its triage
    form open the first time the address names it."""
    wanted = st.query_params.get("mention")
    if not wanted:
        return hits
    found = get_mentions_versioned(index.es, index.names, [wanted]).get(wanted)
    if found is None:
        st.warning(t("mention_missing", id=literal(wanted)))
        return hits
    if st.session_state.get("inbox_addressed") != wanted:
        st.session_state["inbox_addressed"] = wanted
        st.session_state.setdefault(OPENED_KEY, set()).add(wanted)
    return [MentionHit(found.mention, []), *(h for h in hits if h.mention.id != wanted)]


def _select_all(ids: list[str]) -> None:
    on = bool(st.session_state.get("inbox_select_all"))
    for mid in ids:
        st.session_state[f"triage_pick_{mid}"] = on


def inbox(index: Index, user: User) -> None:
    st.title(t("inbox_title"))
    install(STATUSES.index("closed"))
    read_url_filters()
    flash = st.session_state.pop("triage_flash", None)
    if flash:
        st.success(flash)
    flt, choices = filters(index, user)
    limit = st.session_state.setdefault("inbox_limit", PAGE_SIZE)
    order = st.session_state.get("inbox_order", ORDERS[0])
    counted: dict[str, Facet] = {}
    try:  # the choices are drawn even when the search is refused, so none is lost
        page = mentions_page(index, flt, size=limit, order=order, facets=tuple(FACETS))
        counted = page.facets
    finally:
        facet_choices(index, choices, counted)
    approvals(index, user)
    live_counts(index, flt, page.total)
    listed = repr((_filter_values(), limit))
    pinned = st.session_state.get(PINNED_KEY)
    hits = page.hits
    if pinned and pinned[0] == listed:  # after a triage save: the same list in the same order
        kept = get_mentions_versioned(index.es, index.names, pinned[1])
        hits = [MentionHit(kept[i].mention, pinned[2].get(i, [])) for i in pinned[1] if i in kept]
        if st.button(t("inbox_refresh"), key="inbox_refresh", icon=":material/refresh:"):
            st.session_state.pop(PINNED_KEY, None)
            st.rerun()
    else:
        st.session_state.pop(PINNED_KEY, None)
        hits = page.hits
    hits = addressed_first(index, hits)
    st.session_state[LISTED_KEY] = (
        listed,
        [h.mention.id for h in hits],
        {h.mention.id: h.highlights for h in hits},
    )
    if not hits:
        st.info(t("inbox_empty"))
        return
    shown = "inbox_shown_attention" if order == "attention" else "inbox_shown"
    st.caption(t(shown, shown=number(len(hits)), total=number(page.total)))
    export_bar(index, flt, page.total)
    customers = get_customers(index.es, index.names, [h.mention.customer_id for h in hits])
    versions = get_mentions_versioned(index.es, index.names, [h.mention.id for h in hits])
    parents = get_parents(index.es, index.names, [h.mention for h in hits])
    replies = replies_to(index.es, index.names, [h.mention.id for h in hits])
    ids = [h.mention.id for h in hits if h.mention.id in versions]
    listing, side = st.columns([3, 1]) if user.can_triage else (st.container(), None)
    with listing:
        help_list(user.can_triage)
        for hit in hits:
            with st.container(key=item_key(hit.mention.id)):  # one card and its buttons: what keys act on
                customer = customers.get(hit.mention.customer_id or "")
                mention_card(hit.mention, hit.highlights, customer, parent=parents.get(hit.mention.id))
                reasons = attention_reasons(hit.mention) if order == "attention" else []
                if reasons:
                    because = ", ".join(t(f"attention_{r}") for r in reasons)
                    st.caption(t("attention_because", reasons=because))
                past_target_note(index, hit.mention)
                versioned = versions.get(hit.mention.id)
                if versioned is None:
                    continue
                if user.can_triage:
                    st.checkbox(t("select"), key=f"triage_pick_{hit.mention.id}")
                    quick_actions(index, user, versioned)
                later = [m for m in ids[ids.index(hit.mention.id) + 1 :]] if hit.mention.id in ids else []
                triage_panel(index, user, versioned, next_id=later[0] if later else None)
                reply_panel(index, user, versioned.mention, replies.get(hit.mention.id, []))
        if page.total > len(hits) and st.button(t("show_more"), key="inbox_more"):
            st.session_state["inbox_limit"] = limit + PAGE_SIZE
            st.rerun()
    if side is not None:  # beside the list: select-all and the bulk bar (drawn after it, same place)
        with side.container(key="inbox_bulk_side"):
            st.checkbox(t("select_all"), key="inbox_select_all", on_change=partial(_select_all, ids))
            bulk_bar(index, user, versions)


user = require_page("inbox", settings_or_stop())
index = open_index()
with shown_errors(index):
    inbox(index, user)
