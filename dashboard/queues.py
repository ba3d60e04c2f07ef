"""Team queues and service targets in the Inbox: the sidebar choices and the "past its target" note."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.documents import Mention
from dashboard.context import Index
from dashboard.render import intent_text
from dashboard.text import duration, t
from dashboard.text import labels as labelled
from index.mention_search import NO_TEAM, past_target_of

ANY_TEAM = ""


def team_filters(index: Index) -> tuple[str | None, tuple[tuple[str, int], ...]]:
    """The team queue picker and the "past their target" box; `MentionFilter.team` and `.past_target`."""
    bar = st.sidebar
    teams = list(index.settings.routing.teams)
    team = None
    if teams:
        kept = st.session_state.get("inbox_team", ANY_TEAM)  # a saved team since removed from config
        options = list(dict.fromkeys([ANY_TEAM, *teams, NO_TEAM, kept]))
        names = {ANY_TEAM: t("team_any"), NO_TEAM: t("team_none")}
        team = (
            bar.selectbox(
                t("team"), options, format_func=labelled(options, lambda o: names.get(o, o)), key="inbox_team"
            )
            or None
        )
    targets = index.settings.service_targets.by_intent()
    if not targets:
        return team, ()
    described = ", ".join(f"{intent_text(intent)} {duration(target)}" for intent, target in targets.items())
    late = bar.checkbox(
        t("past_target"), key="inbox_past_target", help=t("past_target_help", targets=described)
    )
    return team, past_target_of(targets) if late else ()


def past_target_note(index: Index, mention: Mention, now: datetime | None = None) -> None:
    """A warning line under a mention still new and waiting longer than its intent's target."""
    target = index.settings.service_targets.by_intent().get(mention.intent.label)
    if target is None or mention.status != "new":
        return
    if (now or datetime.now(UTC)) - mention.collected_at > target:
        st.caption(f":red-badge[{t('past_target_badge', target=duration(target))}]")
