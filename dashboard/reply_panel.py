"""Replies in the Inbox: write one under a mention where its platform takes replies, the thread of those
already written, and the list of drafts waiting for those who approve them.

A reply's id is chosen when its form is first drawn, so a second click on Send finds the first reply
and posts nothing more (replies/outbox.py). A reply form is only built once its expander is opened.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import streamlit as st

from core.documents import Mention, Reply
from core.errors import EcouteError
from crm.sources import configured_sources
from dashboard.auth import User, display_name
from dashboard.context import Index
from dashboard.render import literal, safe_url, when
from dashboard.text import number, plural, t
from dashboard.triage import forget
from ecoute.stages.crm import CrmReplyNotes
from index.mentions import get_mentions_versioned
from index.replies import ReplyChangedError, awaiting_approval
from replies.base import Replier
from replies.outbox import STALE_ATTEMPT, Outbox, ReplyRefused

APPROVALS_SHOWN = 50


def outbox(index: Index) -> Outbox:
    settings = index.settings
    crm = configured_sources(settings.crm.customers_csv, settings.crm.sources)
    notes = CrmReplyNotes(crm, settings.base_dir)
    return Outbox(index.es, index.names, settings.replies, settings.sources, crm=notes)


def may_approve(index: Index, user: User) -> bool:
    return user.role in index.settings.replies.approvers


def _flash_key(scope: str) -> str:
    return f"reply_flash_{scope}"


def _flash(scope: str, kind: str, text: str) -> None:
    st.session_state[_flash_key(scope)] = (kind, text)


def _show_flash(scope: str) -> None:
    flash = st.session_state.pop(_flash_key(scope), None)
    if flash:
        getattr(st, flash[0])(flash[1])


def refusal_text(exc: ReplyRefused, source: str) -> str:
    """A refused reply in the reader's language; the English line for anything unforeseen."""
    details = exc.details
    if exc.code == "credentials":
        return t("reply_needs_credentials", source=literal(source), names=literal(details["names"]))
    if exc.code == "too_long":
        n, limit = number(details["n"]), number(details["limit"])  # type: ignore[arg-type]
        return t("reply_too_long", platform=details["platform"], n=n, limit=limit)
    known = {
        "no_replies": t("reply_not_here", source=literal(source)),
        "empty": t("reply_empty"),
        "not_approver": t("reply_not_approver"),
        "own_reply": t("reply_own"),
        "missing": t("reply_missing"),
    }
    return known.get(exc.code, literal(exc))


def outcome(scope: str, reply: Reply, platform: str) -> None:
    """Tell what became of a reply just written, approved or tried again."""
    if reply.status == "sent" and reply.crm_push_error:
        later = t("reply_crm_later", crm=literal(reply.crm_source or "?"))
        _flash(scope, "warning", f"{t('reply_sent', platform=platform)} {later}")
    elif reply.status == "sent" and reply.crm_note_id:
        noted = t("reply_crm_noted", crm=literal(reply.crm_source or "?"))
        _flash(scope, "success", f"{t('reply_sent', platform=platform)} {noted}")
    elif reply.status == "sent":
        _flash(scope, "success", t("reply_sent", platform=platform))
    elif reply.status == "draft":
        _flash(scope, "info", t("reply_submitted"))
    elif reply.status == "rejected":
        _flash(scope, "info", t("reply_rejected"))
    elif reply.status == "failed":
        _flash(scope, "error", t("reply_not_posted", reason=literal(reply.error or "?")))


def _act(index: Index, scope: str, source: str, action, *args) -> Reply | None:
    """Run one outbox action; a refusal or an index failure is one line above the form."""
    try:
        return action(*args)
    except ReplyRefused as exc:
        _flash(scope, "warning", refusal_text(exc, source))
    except ReplyChangedError:
        _flash(scope, "warning", t("reply_changed"))
    except EcouteError as exc:
        _flash(scope, "error", literal(exc))
    return None


def _write(index: Index, user: User, mention: Mention, platform: str) -> None:
    """The Send (or Submit) button's callback: record the reply, post it unless it waits for approval."""
    mid = mention.id
    text = st.session_state.get(f"reply_text_{mid}", "")
    reply_id = st.session_state[f"reply_id_{mid}"]
    box = outbox(index)
    reply = _act(index, mid, mention.source, box.write, mention, text, user.email, reply_id)
    if reply is None:
        return
    outcome(mid, reply, platform)
    for key in (f"reply_text_{mid}", f"reply_id_{mid}"):  # the next reply is a new one
        st.session_state.pop(key, None)
    forget(mid)  # its status may have moved: the triage form reads it again


def _retry(index: Index, user: User, reply: Reply, platform: str) -> None:
    sent = _act(index, reply.mention_id, reply.source, outbox(index).send, reply.id, user.email)
    if sent is not None:
        outcome(reply.mention_id, sent, platform)
        forget(reply.mention_id)


def _give_up(index: Index, user: User, reply: Reply) -> None:
    _act(index, reply.mention_id, reply.source, outbox(index).give_up, reply.id, user.email)


def reply_panel(index: Index, user: User, mention: Mention, thread: list[Reply]) -> None:
    """Under an Inbox card whose platform takes replies: the replies written so far and, for those who
    triage, a form to write one; Send is disabled, with the reason, while the source has no credentials."""
    box = outbox(index)
    replier = box.replier(mention.source)
    if replier is None:
        return
    mid = mention.id
    # One label whatever the thread holds: a label that changes makes another expander, closed again.
    panel = st.expander(t("reply_panel"), key=f"reply_open_{mid}", on_change="rerun", icon=":material/reply:")
    if not panel.open:
        if thread:
            st.caption(plural("replies_written", len(thread)))
        return
    with panel:
        _show_flash(mid)
        for reply in thread:
            reply_line(index, user, reply, replier)
        if not user.can_triage:
            st.caption(t("reply_readonly"))
            return
        reply_form(index, user, mention, replier)


def reply_form(index: Index, user: User, mention: Mention, replier: Replier) -> None:
    mid = mention.id
    missing = replier.missing_credentials()
    st.session_state.setdefault(f"reply_id_{mid}", uuid.uuid4().hex)
    st.session_state.setdefault(f"reply_text_{mid}", replier.prefill(mention))
    text = st.text_area(
        t("reply_text", platform=replier.platform), key=f"reply_text_{mid}", disabled=bool(missing)
    )
    length = replier.length((text or "").strip())
    over = length > replier.max_length
    counted = t("reply_length", n=number(length), limit=number(replier.max_length))
    if over:
        counted = t(
            "reply_too_long", platform=replier.platform, n=number(length), limit=number(replier.max_length)
        )
    st.caption(f":red[{literal(counted)}]" if over else literal(counted))
    reason = None
    if missing:
        reason = t("reply_needs_credentials", source=mention.source, names=", ".join(missing))
    approval = index.settings.replies.require_approval
    st.button(
        t("reply_submit") if approval else t("reply_send"),
        key=f"reply_send_{mid}",
        type="primary",
        icon=":material/send:",
        disabled=bool(missing) or over or not (text or "").strip(),
        help=reason,
        on_click=_write,
        args=(index, user, mention, replier.platform),
    )
    if reason:
        st.caption(literal(reason))


def reply_line(index: Index, user: User, reply: Reply, replier: Replier) -> None:
    """One reply of the thread: its state, who wrote, approved and posted it, and its text as text."""
    settings = index.settings
    with st.container(border=True):
        st.caption(
            literal(
                t(
                    "reply_line",
                    status=t(f"reply_status_{reply.status}"),
                    by=display_name(settings, reply.drafted_by),
                    at=when(reply.drafted_at),
                )
            )
        )
        st.text(reply.text)
        if reply.approved_by and reply.approved_at:
            by = display_name(settings, reply.approved_by)
            st.caption(literal(t("reply_approved_line", by=by, at=when(reply.approved_at))))
        if reply.status == "sent" and reply.sent_at:
            by = display_name(settings, reply.sent_by)
            st.caption(literal(t("reply_sent_line", by=by, at=when(reply.sent_at))))
            where = safe_url(reply.platform_url) or reply.platform_id
            if where:  # an address to copy, never a link made of what the platform answered
                st.caption(literal(t("reply_address", url=where)))
            if reply.crm_note_id:
                st.caption(literal(t("reply_crm_noted", crm=reply.crm_source or "?")))
            elif reply.crm_source:
                st.caption(literal(t("reply_crm_later", crm=reply.crm_source)))
        elif reply.status == "rejected" and reply.rejected_by and reply.rejected_at:
            by = display_name(settings, reply.rejected_by)
            line = t("reply_rejected_line", by=by, at=when(reply.rejected_at), reason=reply.rejection or "—")
            st.caption(literal(line))
        elif reply.status == "failed":
            st.warning(literal(t("reply_error_line", n=reply.attempts, reason=reply.error or "?")))
            if user.can_triage or may_approve(index, user):
                st.button(
                    t("reply_retry"),
                    key=f"reply_retry_{reply.id}",
                    on_click=_retry,
                    args=(index, user, reply, replier.platform),
                )
        elif reply.status == "sending" and reply.attempted_at:
            st.caption(literal(t("reply_sending_line", at=when(reply.attempted_at))))
            if datetime.now(UTC) - reply.attempted_at >= STALE_ATTEMPT:
                st.button(
                    t("reply_give_up"),
                    key=f"reply_give_up_{reply.id}",
                    help=t("reply_give_up_help"),
                    on_click=_give_up,
                    args=(index, user, reply),
                )


def _approve(index: Index, user: User, reply: Reply, platform: str) -> None:
    done = _act(index, "approvals", reply.source, outbox(index).approve, reply.id, user.email, user.role)
    if done is not None:
        outcome("approvals", done, platform)
        forget(reply.mention_id)


def _reject(index: Index, user: User, reply: Reply) -> None:
    reason = st.session_state.get(f"reply_reject_reason_{reply.id}", "")
    done = _act(
        index, "approvals", reply.source, outbox(index).reject, reply.id, user.email, user.role, reason
    )
    if done is not None:
        outcome("approvals", done, "")


def approvals(index: Index, user: User) -> None:
    """At the top of the Inbox, for the roles that approve replies: the drafts waiting, oldest first,
    each beside the post it answers; approving one posts it."""
    if not may_approve(index, user):
        return
    _show_flash("approvals")
    drafts = awaiting_approval(index.es, index.names, size=APPROVALS_SHOWN)
    if not drafts:
        return
    box = outbox(index)
    answered = get_mentions_versioned(index.es, index.names, [d.mention_id for d in drafts])
    with st.expander(plural("approvals_waiting", len(drafts)), expanded=True, icon=":material/approval:"):
        for draft in drafts:
            found = answered.get(draft.mention_id)
            replier = box.replier(draft.source)
            platform = replier.platform if replier else draft.platform
            with st.container(border=True):
                author = found.mention.author.handle if found else None
                context = t(
                    "approval_context",
                    author=author or t("anonymous"),
                    platform=platform,
                    by=display_name(index.settings, draft.drafted_by),
                    at=when(draft.drafted_at),
                )
                st.caption(literal(context))
                if found:
                    st.text(f"↳ {found.mention.text}")
                st.text(draft.text)
                own = draft.drafted_by == user.email
                approve, reject = st.columns(2)
                approve.button(
                    t("approve_send"),
                    key=f"reply_approve_{draft.id}",
                    type="primary",
                    disabled=own,
                    help=t("reply_own") if own else None,
                    on_click=_approve,
                    args=(index, user, draft, platform),
                )
                with reject:
                    st.text_input(t("reject_reason"), key=f"reply_reject_reason_{draft.id}", disabled=own)
                    st.button(
                        t("reject"),
                        key=f"reply_reject_{draft.id}",
                        disabled=own,
                        on_click=_reject,
                        args=(index, user, draft),
                    )
                if own:
                    st.caption(t("reply_own"))
