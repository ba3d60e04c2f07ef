"""What an alert says, in its reader's language: its summary, a spike's figures and explanation, and the
e-mails; the dashboard's alert cards and the e-mails sent both write them from here.

Only Écoute's own wording is translated. A summary is said again in the reader's language only when it
is still the one Écoute wrote from its rule and mention; otherwise (an erased mention, an edited rule) the
stored summary stands.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.rules import summary
from alerts.settings import BUILTIN_RULES, AlertRule
from core.catalog import Catalog
from core.documents import Alert, Mention

if TYPE_CHECKING:
    from alerts.channels import Links

LOCALES = Path(__file__).with_name("locales")
WORDS: dict[str, Catalog] = {language: Catalog(LOCALES, language) for language in ("en", "fr")}
_BUILTIN = {rule.name: rule.description for rule in BUILTIN_RULES}


def words(language: str) -> Catalog:
    """The alert wording of `language` (English for a language it does not have)."""
    return WORDS.get(language, WORDS["en"])


def rule_description(rule: AlertRule, words: Catalog) -> str:
    """A rule's description: a built-in rule's own in the reader's language, anyone else's as written."""
    if rule.description and _BUILTIN.get(rule.name) == rule.description:
        return words.t(f"builtin_rule_{rule.name.replace('-', '_')}")
    return rule.description


def alert_summary(alert: Alert, mention: Mention | None, rule: AlertRule | None, words: Catalog) -> str:
    """What an alert is about: the rule and the post, or the spike's figures."""
    if alert.kind == "spike":
        return spike_headline(alert, words) or alert.summary
    if mention is None or rule is None or alert.summary != summary(rule, mention):
        return alert.summary
    text = mention.text if len(mention.text) <= 160 else mention.text[:157] + "..."
    return words.t(
        "alert_summary",
        rule=rule_description(rule, words) or rule.name,
        author=mention.author.handle or mention.author.display_name or words.t("anonymous"),
        platform=mention.platform,
        text=text,
    )


def spike_headline(alert: Alert, words: Catalog) -> str | None:
    """A spike alert's figures (alerts/spikes.py `Spike.headline`); None for an alert of another shape."""
    details = alert.details
    kind, minutes, history = details.get("kind"), details.get("minutes"), details.get("history")
    if kind not in ("volume", "negative_share") or minutes is None or not isinstance(history, list):
        return None
    values = {
        "topic": alert.topic or "",
        "count": words.number(alert.count),
        "minutes": words.number(minutes),
    }
    if kind == "volume":
        mean = statistics.fmean(history) if history else 0.0
        threshold = float(details.get("threshold", 0))
        return words.plural(
            "spike_headline_volume",
            len(history),
            mean=words.number(mean, 1),
            threshold=words.number(threshold, 1),
            **values,
        )
    negative = int(details.get("negative", 0))
    return words.plural(
        "spike_headline_negative_share",
        len(history),
        share=words.percent(negative / alert.count if alert.count else 0.0),
        negative=words.number(negative),
        usual=words.percent(float(details.get("baseline_share", 0))),
        **values,
    )


# The shapes of a spike's explanation lines as alerts/spikes.py writes them (alerts/erasure.py reads them).
_TERMS = re.compile(r"^terms: (.+)$")
_TERM = re.compile(r"(\S+) \((\d+) now, usually ([\d.]+)\)")
_AUTHORS = re.compile(r"^authors: (.+)$")
_AUTHOR = re.compile(r"@(\S+) \((\d+) posts?, ([\d,]+) followers\)")
_POST = re.compile(r"^post by @(.+?): (.*)$", re.DOTALL)


def explanation_text(line: str, words: Catalog) -> str:
    """One line of a spike's explanation; a line of another shape as stored."""
    if found := _TERMS.match(line):
        terms = _TERM.findall(found[1])
        if terms:
            said = [
                words.t("spike_term", term=w, now=words.number(int(n)), usual=words.number(float(u), 1))
                for w, n, u in terms
            ]
            return words.t("spike_terms", terms=", ".join(said))
    if found := _AUTHORS.match(line):
        authors = _AUTHOR.findall(found[1])
        if authors:
            said = [
                words.plural(
                    "spike_author",
                    int(n),
                    handle=h,
                    followers=words.plural("followers", int(f.replace(",", ""))),
                )
                for h, n, f in authors
            ]
            return words.t("spike_authors", authors=", ".join(said))
    if found := _POST.match(line):
        return words.t("spike_post", author=found[1], text=found[2])
    return line


def one_line(text: str, limit: int) -> str:
    """`text` on one line (a subject or a list entry), at most `limit` characters."""
    return " ".join(text.split())[:limit]


def email_subject(said: str, words: Catalog) -> str:
    """An alert e-mail's subject from the alert's summary as said to its reader."""
    return words.t("email_subject", summary=one_line(said, 150))


def alert_message(alert: Alert, said: str, links: Links, words: Catalog) -> str:
    """The plain-text body of an alert's e-mail or chat message; `said` is its summary in the reader's
    language."""
    lines = [said, ""]
    if alert.count > 1:
        lines.append(words.plural("email_grouped", alert.count))
    for line in alert.details.get("explanation", []):
        lines.append(f"- {explanation_text(str(line), words)}")
    lines.append(words.t("email_mention", link=links.mention))
    if links.original:
        lines.append(words.t("email_original", link=links.original))
    if links.customer:
        lines.append(words.t("email_customer", link=links.customer))
    lines.append(words.t("email_rule", rule=alert.rule, link=links.rule))
    return "\n".join(lines)


def digest_subject(day: date, alerts: list[Alert], words: Catalog) -> str:
    mentions = sum(a.count for a in alerts)
    return words.t(
        "digest_subject",
        day=day.isoformat(),
        alerts=words.plural("digest_alerts", len(alerts)),
        mentions=words.plural("digest_mentions", mentions),
    )


def digest_message(
    day: date, alerts: list[Alert], said: dict[str, str], mention_link: dict[str, str], words: Catalog
) -> str:
    """One person's digest of a day: the alerts by rule, busiest first; `said` holds each alert's summary
    in the reader's language and `mention_link` its page, by alert id."""
    by_rule: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_rule[alert.rule].append(alert)
    lines = [words.t("digest_intro", day=day.isoformat()), ""]
    for rule, grouped in sorted(by_rule.items(), key=lambda r: (-len(r[1]), r[0])):
        waiting = sum(a.status == "new" for a in grouped)
        lines.append(words.plural("digest_rule", len(grouped), rule=rule, waiting=words.number(waiting)))
        for alert in sorted(grouped, key=lambda a: a.created_at):
            more = f" {words.plural('digest_more', alert.count - 1)}" if alert.count > 1 else ""
            lines.append(f"  {alert.created_at:%H:%M} {one_line(said[alert.id], 160)}{more}")
            lines.append(f"    {mention_link[alert.id]}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
