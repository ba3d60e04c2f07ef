"""Triage in the inbox: status, assignee, tags and note per mention, and the same for a selection.

Each write is conditional on the version the person first saw, so two people never overwrite each
other silently: the second one is told who changed the mention and when, and asked to reload.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import streamlit as st

from core.documents import Mention
from core.errors import EcouteError
from dashboard.auth import TRIAGE_ROLES, User, display_name
from dashboard.context import Index
from dashboard.render import literal, when
from dashboard.text import labels, plural, t
from ecoute.routing import ROUTED_BY
from index.mentions import VersionedMention, get_mentions_versioned
from index.triage import TRIAGE_FIELDS, TriageConflictError, update_triage

STATUSES: list[str] = list(typing.get_args(Mention.model_fields["status"].annotation))
KEEP = "__keep__"
ANYONE, ME = "", "__me__"
"""Inbox assignee filter choices besides UNASSIGNED and the users' emails."""


@dataclass
class Seen:
    """What a person saw of a mention's triage, and the version their next save is conditional on."""

    seq_no: int
    primary_term: int
    status: str
    assignee: str | None
    tags: list[str]
    note: str | None
    team: str | None = None

    @classmethod
    def of(cls, versioned: VersionedMention) -> Seen:
        mention = versioned.mention
        triage = mention.triage
        return cls(
            versioned.seq_no,
            versioned.primary_term,
            mention.status,
            triage.assignee if triage else None,
            list(triage.tags) if triage else [],
            triage.note if triage else None,
            triage.team if triage else None,
        )

    def triage(self) -> dict[str, object]:
        """The triage fields as this person saw them (index/triage.py TRIAGE_FIELDS)."""
        return {name: getattr(self, name) for name in TRIAGE_FIELDS}


def _seen_key(mention_id: str) -> str:
    return f"triage_seen_{mention_id}"


def seen(versioned: VersionedMention) -> Seen:
    """The version this person opened; kept until they save or reload."""
    return st.session_state.setdefault(_seen_key(versioned.mention.id), Seen.of(versioned))


def forget(mention_id: str) -> None:
    """Drop what was seen and typed for one mention, so the next run shows it afresh."""
    for key in list(st.session_state):
        if isinstance(key, str) and key.startswith("triage_") and key.endswith(mention_id):
            del st.session_state[key]


def conflict_text(index: Index, exc: TriageConflictError) -> str:
    at = exc.changed_at.strftime("%H:%M") if exc.changed_at else "?"
    return t("triage_conflict", by=display_name(index.settings, exc.changed_by), at=at)


def save(index: Index, user: User, mention_id: str, changes: dict[str, object]) -> str | None:
    """Write `changes` against the seen version; None when saved, else the one line to show."""
    before: Seen = st.session_state[_seen_key(mention_id)]
    try:
        version = update_triage(
            index.es,
            index.names,
            mention_id,
            changes,
            user.email,
            before.seq_no,
            before.primary_term,
            seen=before.triage(),
        )
    except TriageConflictError as exc:
        return conflict_text(index, exc)
    except EcouteError as exc:
        return t("triage_invalid", reason=literal(exc))
    for name, value in changes.items():
        setattr(before, name, value)
    before.seq_no, before.primary_term = version.seq_no, version.primary_term
    # The list keeps its order until the person asks for it again: the saved mention stays in view.
    st.session_state[PINNED_KEY] = st.session_state.get(LISTED_KEY)
    return None


LISTED_KEY, PINNED_KEY = "inbox_listed", "inbox_pinned"
"""The Inbox's last list (filters, ids, highlights); the one kept in place after a triage save."""


def parse_tags(text: str) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in text.split(",") if tag.strip()))


def status_text(status: str) -> str:
    return t(f"status_{status}")


def triagers(index: Index) -> list[str]:
    """The emails of the people who may triage: the only ones offered as assignees."""
    return [u.email for u in index.settings.auth.users if u.role in TRIAGE_ROLES]


def assignee_choices(index: Index, current: str | None) -> list[str | None]:
    """Nobody, the current assignee (even one who left or cannot triage any more), then the triagers."""
    return list(dict.fromkeys([None, current, *triagers(index)]))


def history_value(index: Index, field: str, value: str | None) -> str:
    """A history value as people read it: a name for an assignee, the translated label for a status."""
    if field == "assignee":
        return display_name(index.settings, value)
    if not value:
        return "—"
    if field == "status" and value in STATUSES:
        return status_text(value)
    return value


def reload(index: Index, mention_id: str) -> None:
    """After a conflict: the form shows the mention as it is on the server now, and the next save is
    conditional on that version (the reload button's callback, before any widget is drawn)."""
    st.session_state.pop(f"triage_problem_{mention_id}", None)
    fresh = get_mentions_versioned(index.es, index.names, [mention_id]).get(mention_id)
    if fresh is None:
        return
    now = st.session_state[_seen_key(mention_id)] = Seen.of(fresh)
    st.session_state[f"triage_status_{mention_id}"] = now.status
    st.session_state[f"triage_assignee_{mention_id}"] = now.assignee
    st.session_state[f"triage_tags_{mention_id}"] = ", ".join(now.tags)
    st.session_state[f"triage_note_{mention_id}"] = now.note or ""
    st.session_state.setdefault(OPENED_KEY, set()).add(mention_id)


OPENED_KEY = "triage_opened"


def toggle(mention_id: str) -> None:
    """Open or close one mention's triage form (the button's callback)."""
    opened: set[str] = st.session_state.setdefault(OPENED_KEY, set())
    opened.symmetric_difference_update({mention_id})


def go_next(mention_id: str, next_id: str | None) -> None:
    """Close this mention's form and open the next one's (the "Next" button's callback)."""
    opened: set[str] = st.session_state.setdefault(OPENED_KEY, set())
    opened.discard(mention_id)
    st.session_state.pop(f"triage_saved_{mention_id}", None)
    if next_id:
        opened.add(next_id)


SAVED_PREFIX = "triage_saved_"


def is_open(mention_id: str) -> bool:
    return mention_id in st.session_state.get(OPENED_KEY, set())


def triage_panel(index: Index, user: User, versioned: VersionedMention, next_id: str | None = None) -> None:
    """One mention's triage button; once opened, its form (for those allowed to triage) and history;
    after a save, "Saved." beside it and a "Next" button that opens the next mention's form.

    Only opened forms are built: fifty forms of four widgets each made every inbox run slow.
    """
    mention = versioned.mention
    mid = mention.id
    before = seen(versioned)
    summary = f"{t('triage')} · {status_text(mention.status)}"
    if mention.triage and mention.triage.team:
        summary += f" · {t('team_line', team=mention.triage.team)}"
    if mention.triage and mention.triage.assignee:
        summary += f" · {display_name(index.settings, mention.triage.assignee)}"
    problem = st.session_state.get(f"triage_problem_{mid}")
    opened = is_open(mid) or bool(problem)
    st.button(
        literal(summary),
        key=f"triage_toggle_{mid}",
        on_click=toggle,
        args=(mid,),
        type="tertiary",
        help=t("triage_open"),
        icon=":material/expand_less:" if opened else ":material/expand_more:",
    )
    if not opened:
        return
    with st.container(border=True):
        if st.session_state.pop(f"{SAVED_PREFIX}{mid}", False):
            saved_column, next_column = st.columns([3, 1])
            saved_column.success(t("triage_saved"))
            next_column.button(
                t("triage_next"), key=f"triage_next_{mid}", on_click=go_next, args=(mid, next_id)
            )
        elif user.can_triage:
            st.button(
                t("triage_next"),
                key=f"triage_next_{mid}",
                on_click=go_next,
                args=(mid, next_id),
                disabled=next_id is None,
                type="tertiary",
            )
        if problem:
            st.warning(problem)
            st.button(t("reload"), key=f"triage_reload_{mid}", on_click=reload, args=(index, mid))
        if user.can_triage:
            with st.form(f"triage_form_{mid}", border=False):
                status = st.selectbox(
                    t("status"),
                    STATUSES,
                    index=STATUSES.index(before.status),
                    format_func=labels(STATUSES, status_text),
                    key=f"triage_status_{mid}",
                )
                choices = assignee_choices(index, before.assignee)
                assignee = st.selectbox(
                    t("assignee"),
                    choices,
                    index=choices.index(before.assignee),
                    format_func=labels(choices, lambda e: display_name(index.settings, e)),
                    key=f"triage_assignee_{mid}",
                )
                team = team_picker(index, before.team, mid)
                tags = st.text_input(
                    t("tags"), ", ".join(before.tags), help=t("tags_help"), key=f"triage_tags_{mid}"
                )
                note = st.text_area(t("note"), before.note or "", max_chars=4000, key=f"triage_note_{mid}")
                submitted = st.form_submit_button(t("save"))
            if submitted:
                wanted = {
                    "status": status,
                    "assignee": assignee,
                    "team": team,
                    "tags": parse_tags(tags),
                    "note": note or None,
                }
                changes = {k: v for k, v in wanted.items() if v != getattr(before, k)}
                problem = save(index, user, mid, changes) if changes else None
                if problem:
                    st.session_state[f"triage_problem_{mid}"] = problem
                else:
                    st.session_state.pop(f"triage_problem_{mid}", None)
                    st.session_state[f"{SAVED_PREFIX}{mid}"] = True
                st.rerun()
        elif mention.triage:
            st.caption(literal(f"{t('tags')}: {', '.join(mention.triage.tags) or '—'}"))
            if mention.triage.note:
                st.text(mention.triage.note)
        if mention.history:
            st.caption(t("history"))
            for change in reversed(mention.history):
                line = t(
                    "history_line",
                    at=when(change.at),
                    by=changed_by(index, change.by),
                    field=t(change.field),
                    old=history_value(index, change.field, change.old),
                    new=history_value(index, change.field, change.new),
                )
                st.caption(literal(line))


def team_picker(index: Index, current: str | None, mention_id: str) -> str | None:
    """The team queue a mention is in; choosing another hands it off (recorded in its history)."""
    teams = list(index.settings.routing.teams)
    choices = [None, *dict.fromkeys([*teams, *([current] if current else [])])]
    return st.selectbox(
        t("team"),
        choices,
        index=choices.index(current),
        format_func=labels(choices, lambda team: team or t("team_none")),
        key=f"triage_team_{mention_id}",
    )


def changed_by(index: Index, by: str) -> str:
    """Who made a change: a person's name, or the routing rule that placed the mention."""
    if by.startswith(ROUTED_BY):
        return t("routing_by", rule=by.removeprefix(ROUTED_BY))
    return display_name(index.settings, by)


def _quick(index: Index, user: User, versioned: VersionedMention, change: str) -> None:
    """A one-click change (a status, or "assign to me"), saved against the version this person saw."""
    mid = versioned.mention.id
    seen(versioned)
    if change == ME:
        changes: dict[str, object] = {"assignee": user.email}
    else:
        changes = {"status": st.session_state.get(f"triage_quick_{mid}") or versioned.mention.status}
    problem = save(index, user, mid, changes)
    if problem:
        st.session_state[f"triage_problem_{mid}"] = problem
    else:
        st.session_state.pop(f"triage_problem_{mid}", None)
        st.session_state[f"{SAVED_PREFIX}{mid}"] = True
        for name, value in changes.items():  # the opened form follows what was just saved
            st.session_state[f"triage_{name}_{mid}"] = value
    st.session_state.setdefault(OPENED_KEY, set()).add(mid)


def quick_actions(index: Index, user: User, versioned: VersionedMention) -> None:
    """One click per card: its status, and "assign to me" when it is not mine yet."""
    mention = versioned.mention
    mid = mention.id
    status_column, me_column = st.columns([3, 1])
    st.session_state[f"triage_quick_{mid}"] = seen(versioned).status
    status_column.segmented_control(
        t("quick_status"),
        STATUSES,
        format_func=labels(STATUSES, status_text),
        key=f"triage_quick_{mid}",
        on_change=_quick,
        args=(index, user, versioned, "status"),
        label_visibility="collapsed",
    )
    if seen(versioned).assignee != user.email:
        me_column.button(
            t("assign_to_me"),
            key=f"triage_me_{mid}",
            on_click=_quick,
            args=(index, user, versioned, ME),
            type="tertiary",
        )


def selected(ids: list[str]) -> list[str]:
    return [mid for mid in ids if st.session_state.get(f"triage_pick_{mid}")]


def bulk_bar(index: Index, user: User, versions: dict[str, VersionedMention]) -> None:
    """Set status, assignee or a tag on every selected mention at once; conflicts are listed, not lost."""
    picked = selected(list(versions))
    if not user.can_triage or not picked:
        return
    people = triagers(index)
    with st.form("triage_bulk"):
        st.markdown(f"**{literal(plural('bulk_title', len(picked)))}**")
        cols = st.columns(3)
        statuses, assignees = [KEEP, *STATUSES], [KEEP, None, *people]
        status = cols[0].selectbox(
            t("bulk_status"),
            statuses,
            format_func=labels(statuses, lambda s: t("keep") if s == KEEP else status_text(s)),
            key="triage_bulk_status",
        )
        assignee = cols[1].selectbox(
            t("bulk_assignee"),
            assignees,
            format_func=labels(
                assignees, lambda e: t("keep") if e == KEEP else display_name(index.settings, e)
            ),
            key="triage_bulk_assignee",
        )
        tag = cols[2].text_input(t("bulk_tag"), key="triage_bulk_tag")
        apply = st.form_submit_button(t("bulk_apply"))
    if not apply:
        return
    done, problems = 0, []
    for mid in picked:
        before = seen(versions[mid])
        changes: dict[str, object] = {}
        if status != KEEP and status != before.status:
            changes["status"] = status
        if assignee != KEEP and assignee != before.assignee:
            changes["assignee"] = assignee
        if tag.strip() and tag.strip() not in before.tags:
            changes["tags"] = [*before.tags, tag.strip()]
        if not changes:
            continue
        problem = save(index, user, mid, changes)
        if problem:
            st.session_state[f"triage_problem_{mid}"] = problem
            problems.append(problem)
        else:
            done += 1
            st.session_state.pop(f"triage_pick_{mid}", None)
    st.session_state["triage_flash"] = plural("bulk_done", done)
    st.rerun()
