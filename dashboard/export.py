"""What the dashboard hands out: CSV and XLSX of a view and a self-contained HTML report.

Everything from posts and the CRM is escaped in the report: a post can never inject markup. No cell of
any export starts like a spreadsheet formula: a post saying `=HYPERLINK(...)` stays text once opened.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core.documents import Alert, Customer, Mention
from dashboard.text import number, percent, t
from index.aggregations import SENTIMENTS, AuthorReach, Overview, SentimentBucket, Spike

# Audit trails, raw payloads and per-label lists stay out of a spreadsheet; everything else goes in.
EXCLUDED = {"raw", "history", "entities", "intents", "triage"}


def mentions_frame(mentions: list[Mention]) -> pd.DataFrame:
    """One row per mention, one column per field of the Mention model (nested fields dotted)."""
    rows = [m.model_dump(mode="json", exclude=EXCLUDED) for m in mentions]
    frame = pd.json_normalize(rows) if rows else pd.DataFrame()
    if not frame.empty:
        frame["intents"] = [", ".join(i.label for i in m.intents) for m in mentions]
        frame["entities"] = [", ".join(e.text for e in m.entities) for m in mentions]
    return frame


ALERT_EXCLUDED = {"details", "dedup_keys", "group_key", "mention_ids"}


def alerts_frame(alerts: list[Alert]) -> pd.DataFrame:
    """One row per alert, one column per field of the Alert model (grouping bookkeeping left out)."""
    frame = pd.DataFrame([a.model_dump(mode="json", exclude=ALERT_EXCLUDED) for a in alerts])
    if not frame.empty:
        frame["recipients"] = [", ".join(a.recipients) for a in alerts]
    return frame


CUSTOMER_COLUMNS = (
    "customer_id",
    "full_name",
    "company",
    "email",
    "phone",
    "segment",
    "account_value",
    "owner_name",
    "owner_email",
    "language",
    "source",
    "account_id",
    "updated_at",
)


def customers_frame(customers: list[Customer]) -> pd.DataFrame:
    """One row per customer: the CRM fields, every email, phone and handle, and the problems found."""
    rows = []
    for c in customers:
        row = {k: v for k, v in c.model_dump(mode="json").items() if k in CUSTOMER_COLUMNS}
        row["emails"] = ", ".join(c.emails)
        row["phones"] = ", ".join(c.phones)
        row["handles"] = ", ".join([*c.handles, *(h for h in c.confirmed_handles if h not in c.handles)])
        row["quality"] = "; ".join(q.detail for q in c.quality)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*CUSTOMER_COLUMNS, "emails", "phones", "handles", "quality"])


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet program reads as the start of a formula (or strips before one)."""


def neutralised(value: object) -> object:
    """Text that starts like a formula gets a leading `'`, so it is shown, never run; the rest is kept."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every cell and column name `neutralised`."""
    safe = frame.map(neutralised) if not frame.empty else frame.copy()
    safe.columns = [neutralised(c) for c in frame.columns]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read accents right; formulas neutralised."""
    return neutralised_frame(frame).to_csv(index=False).encode("utf-8-sig")


def _xlsx_cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))  # control characters openpyxl refuses


def xlsx_bytes(frame: pd.DataFrame, title: str = "Écoute") -> bytes:
    """One worksheet; every text cell is stored as a string (never a formula) and shown exactly as
    written: a formula-like one carries Excel's own "quote prefix" instead of an added `'`."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    rows = [list(frame.columns), *frame.itertuples(index=False, name=None)]
    for r, row in enumerate(rows, start=1):
        for c, raw in enumerate(row, start=1):
            value = _xlsx_cell(raw)
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
                cell.quotePrefix = value.startswith(FORMULA_STARTS)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def over_time_frame(buckets: list[SentimentBucket]) -> pd.DataFrame:
    """The chart's numbers: one row per day, a column per sentiment, and the net sentiment."""
    return pd.DataFrame(
        [
            {
                "day": b.start.strftime("%Y-%m-%d"),
                **{s: getattr(b, s) for s in SENTIMENTS},
                "net": round(b.net_sentiment, 3),
            }
            for b in buckets
        ],
        columns=["day", *SENTIMENTS, "net"],
    )


def comparison_frame(
    now: Overview,
    before: Overview,
    titles: dict[str, str],
    shown: dict[str, Callable[[str], str]] | None = None,
) -> pd.DataFrame:
    """Per dimension and value: mentions in period A, in period B, and the change; `shown` gives how a
    dimension's values read (an intent's words rather than its code)."""
    rows = []
    for name, title in titles.items():
        a, b = now.counts[name], before.counts[name]
        say = (shown or {}).get(name, str)
        for value in dict.fromkeys([*a, *b]):
            rows.append(
                {
                    "dimension": title,
                    "value": say(value),
                    "period_a": a.get(value, 0),
                    "period_b": b.get(value, 0),
                    "change": a.get(value, 0) - b.get(value, 0),
                }
            )
    return pd.DataFrame(rows, columns=["dimension", "value", "period_a", "period_b", "change"])


def counts_frame(counts: dict[str, int], column: str) -> pd.DataFrame:
    return pd.DataFrame([{column: k, "mentions": v} for k, v in counts.items()], columns=[column, "mentions"])


SVG_COLORS = {"positive": "#2ca02c", "neutral": "#9e9e9e", "negative": "#d62728"}


def bucket_label(start: datetime, interval: str) -> str:
    """How a chart names a bucket: its day, or its day and hour, in the bucket's own time zone."""
    return start.strftime("%Y-%m-%d %H:00" if interval == "hour" else "%Y-%m-%d")


def svg_sentiment_chart(buckets: list[SentimentBucket], interval: str = "day") -> str:
    """Stacked bars per bucket (positive, neutral, negative), drawn server-side as inline SVG."""
    width, height, left, bottom = 640, 220, 40, 40
    tallest = max((b.total for b in buckets), default=0) or 1
    step = (width - left) / max(len(buckets), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(t("sentiment_over_time"))}">',
        f'<text x="0" y="12" font-size="10">{tallest}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#888"/>',
    ]
    every = max(len(buckets) // 8, 1)
    for i, bucket in enumerate(buckets):
        x, y = left + i * step, height - bottom
        for sentiment in SENTIMENTS:
            size = getattr(bucket, sentiment) / tallest * (height - bottom - 16)
            if size:
                y -= size
                parts.append(
                    f'<rect x="{x + step * 0.1:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}" '
                    f'height="{size:.1f}" '
                    f'fill="{SVG_COLORS[sentiment]}"><title>{escape(bucket_label(bucket.start, interval))} '
                    f"{escape(t(sentiment))}: {getattr(bucket, sentiment)}</title></rect>"
                )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - bottom + 14}" font-size="9" text-anchor="middle">'
                f"{escape(bucket_label(bucket.start, interval)[5:])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_share_chart(values: dict[str, float]) -> str:
    """Horizontal bars of shares (0..1), labelled in percent, as inline SVG; labels escaped."""
    width, row = 640, 24
    height = row * max(len(values), 1) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, (name, share) in enumerate(values.items()):
        y = 4 + i * row
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{_cell(name)}</text>')
        parts.append(
            f'<rect x="180" y="{y + 3}" width="{share * 380:.1f}" height="{row - 8}" fill="#1f4e79"/>'
            f'<text x="{185 + share * 380:.1f}" y="{y + 15}" font-size="12">{percent(share)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class Report:
    """The numbers behind one Insights view, ready to be written out; `charts` are inline SVG made
    here (title -> svg), so the page needs no script and no other file."""

    brand: str
    period: str
    metrics: dict[str, str]
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    spikes: list[Spike] = field(default_factory=list)
    authors: list[AuthorReach] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    charts: dict[str, str] = field(default_factory=dict)
    timezone: str = "UTC"


def _cell(value: object) -> str:
    """Escaped and neutralised: a report's table pasted into a spreadsheet runs no formula either."""
    return escape(str(neutralised(value)))


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{_cell(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(report: Report) -> str:
    """A single HTML page (no scripts, no external resources) to mail or print to PDF, in the
    interface's language, times in the report's time zone."""
    zone = ZoneInfo(report.timezone)
    generated = f"{report.generated_at.astimezone(zone):%Y-%m-%d %H:%M} {report.timezone}"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(report.brand)} · {escape(report.period)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;"
        "margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left}"
        "th{background:#f0f3f7}</style></head><body>",
        f"<h1>{escape(report.brand)}</h1>",
        f"<p>{escape(report.period)} · {escape(generated)}</p>",
        _table(["", ""], [[k, v] for k, v in report.metrics.items()]),
    ]
    for title, svg in report.charts.items():
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(svg)
    for title, counts in report.tables.items():
        parts.append(f"<h2>{escape(title)}</h2>")
        parts.append(_table(["", t("mentions")], [[k, v] for k, v in counts.items()]))
    if report.spikes:
        parts.append(f"<h2>{escape(t('report_spikes'))}</h2>")
        parts.append(
            _table(
                [t("day"), t("mentions"), t("baseline"), t("report_ratio")],
                [
                    [
                        s.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                        s.volume,
                        number(s.baseline, 1),
                        f"×{number(s.ratio, 1)}",
                    ]
                    for s in report.spikes
                ],
            )
        )
    if report.authors:
        parts.append(f"<h2>{escape(t('top_authors'))}</h2>")
        parts.append(
            _table(
                [t("author"), t("name"), t("followers_column"), t("mentions"), t("negative")],
                [
                    [a.handle, a.display_name or "", a.followers, a.mentions, a.negative]
                    for a in report.authors
                ],
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts)
