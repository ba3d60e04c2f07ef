"""Admin: are the sources healthy, is the CRM mirrored, which index is this, who may sign in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from crm.sources import configured_sources
from dashboard.auth import display_name, require_page
from dashboard.cached import crm_quality_of
from dashboard.context import Index, last_error, open_index, settings_or_stop, shown_errors
from dashboard.pages import page_named, pages_for
from dashboard.render import intent_text, literal, sentiment_text, when
from dashboard.text import duration, number, plural, t, text_or
from ecoute.health import source_health
from ecoute.routing import RoutingRule
from index.capabilities import detect_capabilities
from index.crm import QualityReport, crm_import_statuses
from index.customers import count_customers
from index.health import index_health
from index.state import source_states

PROBLEM_KINDS = ("invalid_email", "invalid_phone", "missing_owner", "bad_handle")


RED = "background-color: #f8d7da; color: #842029"


def red_rows(frame: pd.DataFrame, failures: list[int], threshold: int):
    """The table with every row at `threshold` failed runs in a row or more shaded red."""
    shade = [[RED] * len(frame.columns) if f >= threshold else [""] * len(frame.columns) for f in failures]
    return frame.style.apply(
        lambda _: pd.DataFrame(shade, index=frame.index, columns=frame.columns), axis=None
    )


def moment(iso: str | None) -> str:
    """A stored ISO timestamp as the dashboard writes times ('2026-12-02 18:44 UTC'); '' when absent."""
    if not iso:
        return ""
    try:
        return when(datetime.fromisoformat(str(iso)).astimezone(UTC))
    except ValueError:
        return str(iso)


def _whole(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Counts as whole numbers even where some rows have none (pandas would make them 342.000000)."""
    for column in columns:
        frame[column] = frame[column].astype("Int64")
    return frame


def _state(enabled: bool, ran: bool, failures: int) -> str:
    return "off" if not enabled else "never_ran" if not ran else "failing" if failures else "ok"


def sources_table(index: Index) -> tuple[pd.DataFrame, list[int]]:
    """One row per configured source, with the health its last run recorded, and its failures in a row."""
    health = source_health(index.settings, {s.source: s.data for s in source_states(index.es, index.names)})
    rows = [
        {
            t("source"): h.name,
            t("source_type"): h.type,
            t("source_state"): t(f"source_state_{h.state}"),
            t("failures_in_a_row"): h.failures,
            t("last_run"): moment(h.last_run),
            t("last_success"): moment(h.last_success),
            t("items_last_run"): h.read,
            t("new_last_run"): h.new,
            t("updated_last_run"): h.updated,
            t("skipped_last_run"): h.skipped,
            t("skip_reasons"): "; ".join(f"{reason} ({n})" for reason, n in h.skip_reasons),
            t("last_error"): h.error or "",
        }
        for h in health
    ]
    frame = pd.DataFrame(rows)
    counts = [t("items_last_run"), t("new_last_run"), t("updated_last_run"), t("skipped_last_run")]
    return (_whole(frame, counts) if rows else frame), [h.failures for h in health]


def crm_sources(index: Index) -> list[tuple[str, str, bool]]:
    """(name, type, enabled) of every CRM source in config.yaml, `crm.customers_csv` first."""
    crm = index.settings.crm
    return [(s.name, s.type, s.enabled) for s in configured_sources(crm.customers_csv, crm.sources)]


def crm_table(index: Index) -> tuple[pd.DataFrame, list[int]]:
    """One row per CRM source: what its last import read, wrote and rejected, or why it failed.

    Sources that were imported once but are no longer configured still show, so nothing vanishes.
    """
    statuses = crm_import_statuses(index.es, index.names)
    configured = crm_sources(index)
    known = {name for name, _, _ in configured}
    configured += [(name, "—", False) for name in statuses if name not in known]
    rows, failures = [], []
    for name, kind, enabled in configured:
        status = statuses.get(name)
        failed = status.consecutive_failures if status else 0
        failures.append(failed)
        rows.append(
            {
                t("crm_source"): name,
                t("source_type"): kind,
                t("source_state"): t(f"source_state_{_state(enabled, status is not None, failed)}"),
                t("failures_in_a_row"): failed,
                t("last_run"): moment(status.last_run) if status else "",
                t("last_success"): moment(status.last_success) if status else "",
                t("crm_rows_read"): status.rows_read if status else None,
                t("crm_customers_written"): status.customers if status else None,
                t("crm_records_written"): status.records if status else None,
                t("crm_deleted"): status.deleted if status else None,
                t("crm_rejected"): status.rejected if status else None,
                t("crm_seconds"): status.seconds if status else None,
                t("last_error"): (status.last_error or "") if status else "",
            }
        )
    frame = pd.DataFrame(rows)
    counts = ["crm_rows_read", "crm_customers_written", "crm_records_written", "crm_deleted", "crm_rejected"]
    return _whole(frame, [t(c) for c in counts]) if rows else frame, failures


def quality_summary(report: QualityReport) -> None:
    """The headline numbers of the CRM data quality; the details are on the review page."""
    cols = st.columns(4)
    cols[0].metric(t("quality_customers"), number(report.customers))
    cols[1].metric(t("quality_duplicates"), number(len(report.duplicates)))
    cols[2].metric(t("quality_rejected"), number(report.rejected_rows))
    cols[3].metric(t("quality_pending"), number(report.pending_reviews))
    cols = st.columns(4)
    for col, kind in zip(cols, PROBLEM_KINDS, strict=True):
        col.metric(t(f"quality_{kind}"), number(report.problem_counts.get(kind, 0)))
    review = page_named("review")
    st.page_link(review.script, label=t("quality_details"), icon=review.icon)


def cluster_address(url: str) -> str:
    """The address without any user:password part."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


@st.cache_data(ttl=600, show_spinner=False)
def _capabilities(url: str, prefix: str) -> dict[str, bool]:
    index = open_index()
    return vars(detect_capabilities(index.es, prefix))


def capabilities_text(features: dict[str, bool]) -> str:
    """The index's optional features, each on or off, in the reader's language."""
    said = (t("feature_on" if on else "feature_off", name=name) for name, on in features.items())
    return t("capabilities", features=", ".join(said))


def index_health_section(index: Index) -> None:
    """Reachable or not, what answers, the documents of each index, and the last failure this dashboard
    process met (an index that was away a minute ago shows here once it is back)."""
    health = index_health(index.es, index.names)
    if health.reachable:
        st.markdown(literal(t("index_answers", backend=health.backend, version=health.version)))
    if health.error:
        st.error(t("index_not_answering", reason=literal(health.error)))
    counts = [
        {t("index_alias"): alias, t("index_documents"): t("index_missing") if n is None else number(n)}
        for alias, n in health.documents.items()
    ]
    if counts:
        st.dataframe(pd.DataFrame(counts), hide_index=True)
    last = last_error(index)
    if last:
        st.caption(literal(t("index_last_error", at=when(last.at), reason=last.reason)))
    else:
        st.caption(t("index_no_error"))


def _conditions(rule: RoutingRule) -> str:
    """A routing rule's conditions, in the reader's language: "intents: complaint, churn risk"."""
    said = []
    for name, value in rule.when.model_dump(exclude_defaults=True).items():
        if name == "intents":
            value = ", ".join(intent_text(i) for i in value)
        elif name == "sentiment":
            value = ", ".join(sentiment_text(s) for s in value)
        elif name == "linked_customer":
            value = t("rule_linked_yes" if value else "rule_linked_no")
        elif name == "min_confidence":
            value = number(value, 2)
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        said.append(t("routing_condition", condition=text_or(f"routing_when_{name}", name), values=value))
    return "; ".join(said)


def _destination(index: Index, rule: RoutingRule) -> str:
    to = rule.to
    parts = [f"{t('team')}: {to.team}"] if to.team else []
    if to.person:
        parts.append(display_name(index.settings, to.person))
    if to.owner:
        parts.append(t("routing_owner"))
    return " · ".join(parts)


def routing_section(index: Index) -> None:
    """The routing rules in their order, the team queues with their members, and the service targets."""
    routing, targets = index.settings.routing, index.settings.service_targets
    st.subheader(t("admin_routing"))
    st.caption(t("admin_routing_help"))
    if not routing.rules:
        st.info(t("routing_none"))
    else:
        rules = [
            {
                t("routing_rule"): rule.name,
                t("routing_when"): _conditions(rule) or t("routing_anything"),
                t("routing_to"): _destination(index, rule),
            }
            for rule in routing.rules
        ]
        st.dataframe(pd.DataFrame(rules), hide_index=True, width="stretch", key="admin_routing_rules")
    if routing.teams:
        teams = [
            {
                t("team"): name,
                t("team_members"): ", ".join(display_name(index.settings, m) for m in team.members) or "—",
            }
            for name, team in routing.teams.items()
        ]
        st.dataframe(pd.DataFrame(teams), hide_index=True, width="stretch", key="admin_routing_teams")
    st.subheader(t("admin_targets"))
    rows = [
        {t("target_intent"): intent_text(i), t("target"): duration(d)} for i, d in targets.by_intent().items()
    ]
    if targets.alerts:
        rows.append({t("target_intent"): t("target_alerts"), t("target"): duration(targets.alerts)})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="admin_targets")
    else:
        st.caption(t("targets_none"))


def admin(index: Index) -> None:
    st.title(t("admin_title"))
    threshold = index.settings.dashboard.red_after_failures
    st.subheader(t("admin_sources"))
    frame, failures = sources_table(index)
    st.dataframe(red_rows(frame, failures, threshold), hide_index=True, width="stretch")
    st.caption(plural("red_after", threshold))

    st.subheader(t("admin_crm"))
    crm = index.settings.crm
    cols = st.columns(2)
    cols[0].metric(t("customers_mirrored"), number(count_customers(index.es, index.names)))
    cols[1].metric(t("crm_refresh"), duration(timedelta(seconds=crm.refresh_seconds)))
    frame, failures = crm_table(index)
    st.dataframe(red_rows(frame, failures, threshold), hide_index=True, width="stretch")

    st.subheader(t("admin_quality"))
    quality_summary(crm_quality_of(index))

    st.subheader(t("admin_index"))
    st.markdown(literal(t("index_at", url=cluster_address(index.url), prefix=index.names.prefix)))
    st.caption(capabilities_text(_capabilities(cluster_address(index.url), index.names.prefix)))
    index_health_section(index)

    routing_section(index)

    st.subheader(t("admin_users"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("email"): u.email,
                    t("name"): u.name,
                    t("role"): t(f"role_{u.role}"),
                    t("pages"): ", ".join(t(p.title) for p in pages_for(u.role)),
                }
                for u in index.settings.auth.users
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(t("users_help"))


require_page("admin", settings_or_stop())
index = open_index()
with shown_errors(index):
    admin(index)
