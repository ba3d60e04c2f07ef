"""Review: proposed customer links to confirm or reject, and the quality of the mirrored CRM data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.documents import LinkReview, QualityIssue
from dashboard.auth import User, require_page
from dashboard.context import Index, open_index, settings_or_stop, shown_errors
from dashboard.render import fact_text, literal, quality_text, when
from dashboard.text import number, percent, plural, t
from index.crm import QualityReport, SourceRejections, crm_quality
from index.mentions import get_mentions_versioned
from index.reviews import ReviewError, decide_review, list_reviews

MENTIONS_SHOWN = 3
PROBLEM_KINDS = ("invalid_email", "invalid_phone", "missing_owner", "bad_handle")


def _decide(index: Index, user: User, review_id: str, decision: str) -> None:
    try:
        decide_review(index.es, index.names, review_id, decision, by=user.email)  # type: ignore[arg-type]
        st.session_state["review_done"] = t(f"review_{decision}_done")
    except ReviewError as exc:
        st.session_state["review_failed"] = str(exc)


def review_card(index: Index, user: User, review: LinkReview) -> None:
    with st.container(border=True):
        author = " ".join(v for v in (review.author_name, f"@{review.author_handle}") if v)
        customer = ", ".join(v for v in (review.customer_name, review.company) if v)
        st.markdown(f"**{literal(author)}** \\({literal(review.platform)}\\) → **{literal(customer)}**")
        st.caption(
            literal(
                plural("review_confidence", len(review.mention_ids), confidence=percent(review.confidence))
            )
        )
        for line in [fact_text(fact) for fact in review.facts] or review.evidence:
            st.text(f"• {line}")
        mentions = get_mentions_versioned(index.es, index.names, review.mention_ids[:MENTIONS_SHOWN])
        for found in mentions.values():
            st.text(f"« {found.mention.text} »")
        if user.can_triage:
            confirm, reject, _ = st.columns([1, 1, 4])
            confirm.button(
                t("review_confirm"),
                key=f"confirm_{review.id}",
                type="primary",
                on_click=_decide,
                args=(index, user, review.id, "confirmed"),
            )
            reject.button(
                t("review_reject"),
                key=f"reject_{review.id}",
                on_click=_decide,
                args=(index, user, review.id, "rejected"),
            )


def review_queue(index: Index, user: User) -> None:
    done, failed = st.session_state.pop("review_done", None), st.session_state.pop("review_failed", None)
    if done:
        st.success(done)
    if failed:
        st.error(literal(failed))
    pending = list_reviews(index.es, index.names, "pending")
    st.caption(t("review_explain"))
    if not pending:
        st.info(t("review_none"))
    for review in pending:
        review_card(index, user, review)
    decided = [r for r in list_reviews(index.es, index.names, None, size=50) if r.status != "pending"]
    if decided:
        st.subheader(t("review_decided"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("review_author"): f"@{r.author_handle}",
                        t("customer"): r.customer_name,
                        t("review_status"): t(f"review_status_{r.status}"),
                        t("review_by"): r.decided_by,
                        t("review_at"): when(r.decided_at) if r.decided_at else None,
                    }
                    for r in decided
                ]
            ),
            hide_index=True,
        )


def quality_panel(report: QualityReport) -> None:
    cols = st.columns(4)
    cols[0].metric(t("quality_customers"), number(report.customers))
    cols[1].metric(t("quality_duplicates"), number(len(report.duplicates)))
    cols[2].metric(t("quality_unlinked"), number(report.unlinked_mentions), help=t("quality_unlinked_help"))
    cols[3].metric(t("quality_rejected"), number(report.rejected_rows))
    cols = st.columns(4)
    for col, kind in zip(cols, PROBLEM_KINDS, strict=True):
        col.metric(t(f"quality_{kind}"), number(report.problem_counts.get(kind, 0)))
    if report.duplicates:
        st.subheader(t("quality_duplicates"))
        st.dataframe(
            pd.DataFrame(
                [
                    {t("quality_value"): d.value, t("quality_customers_with_it"): ", ".join(d.customer_ids)}
                    for d in report.duplicates
                ]
            ),
            hide_index=True,
        )
    if report.problems:
        st.subheader(t("quality_problems"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("customer_id"): p.customer_id,
                        t("name"): p.full_name,
                        t("quality_kind"): t(f"quality_{p.kind}"),
                        t("quality_detail"): quality_text(
                            QualityIssue(kind=p.kind, detail=p.detail, value=p.value, network=p.network)
                        ),
                    }
                    for p in report.problems
                ]
            ),
            hide_index=True,
        )
    rows = [
        {t("quality_source"): r.source, t("quality_row"): row} for r in report.rejections for row in r.rows
    ]
    st.subheader(t("quality_rejected"))
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption(t("quality_rejected_none"))
    for source in report.rejections:
        summary = import_summary(source)
        if summary:
            st.caption(literal(summary))


def import_summary(source: SourceRejections) -> str | None:
    """What the last import of a CRM source did, in the reader's language (the stored English summary for
    an import recorded before its figures were kept)."""
    if source.rows_read is None:
        return source.summary
    figures = [
        (t("crm_rows_read"), number(source.rows_read)),
        (t("crm_customers_written"), number(source.customers or 0)),
        (t("crm_records_written"), number(source.records or 0)),
        (t("crm_deleted"), number(source.deleted or 0)),
        (t("crm_rejected"), number(source.count)),
        (t("crm_seconds"), number(source.seconds or 0, 1)),
    ]
    return t("crm_summary", source=source.source, figures=" · ".join(f"{name} {n}" for name, n in figures))


def review(index: Index, user: User) -> None:
    st.title(t("review_title"))
    links, quality = st.tabs([t("review_tab_links"), t("review_tab_quality")])
    with links:
        review_queue(index, user)
    with quality:
        quality_panel(crm_quality(index.es, index.names))


user = require_page("review", settings_or_stop())
index = open_index()
with shown_errors(index):
    review(index, user)
