"""`ecoute alerts rules|test-query|deliver|spikes|digest`: alert rules and what the scheduler does, now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.errors import EcouteError
from ecoute.cli.common import engine_of
from ecoute.cli.output import print_json, say


def rules(config: Path, as_json: bool) -> None:
    """Each rule in effect with its kind, where it comes from, whether it is off, and its conditions."""
    from alerts.settings import rules_from_index
    from index.alerts import stored_rules

    engine = engine_of(config)
    saved = rules_from_index(stored_rules(engine.es, engine.names))
    in_effect = engine.settings.alerts.rules_in_effect(saved)
    described = {"name", "description", "kind"}
    if as_json:
        print_json(
            [
                {
                    "name": r.rule.name,
                    "kind": r.rule.kind,
                    "origin": r.origin,
                    "enabled": r.rule.enabled,
                    "description": r.rule.description,
                    "conditions": r.rule.model_dump(mode="json", exclude_defaults=True, exclude=described),
                }
                for r in in_effect
            ]
        )
        return
    shown = {"builtin": "built-in", "config": "config.yaml", "dashboard": "dashboard"}
    for one in in_effect:
        rule, origin = one.rule, shown[one.origin]
        conditions = rule.model_dump(exclude_defaults=True, exclude=described)
        say(f"{rule.name} ({rule.kind}, {origin}{'' if rule.enabled else ', off'}): {rule.description}")
        if conditions:
            say(f"  {json.dumps(conditions, ensure_ascii=False)}")


def test_query(query: str, config: Path, days: int) -> None:
    """How the query reads and its DSL; with days, the preview a rule of this query gets."""
    from alerts.query import QuerySyntaxError, describe, parse_query, to_dsl

    try:
        tree = parse_query(query)
    except QuerySyntaxError as exc:
        say(exc.pointer(), err=True, multiline=True)
        raise EcouteError(str(exc)) from exc
    say(f"reads as: {describe(tree)}")
    say(f"dsl: {json.dumps(to_dsl(tree), ensure_ascii=False)}")
    if days > 0:
        from alerts.preview import preview_rule
        from alerts.settings import AlertRule

        engine = engine_of(config)
        rule = AlertRule(name="test-query", query=query)
        found = preview_rule(engine.es, engine.names, rule, days, size=5, directory=engine.directory)
        say(f"{found.total} mentions in the last {days} days")
        for mention in found.newest:
            say(f"  {mention.created_at:%Y-%m-%d %H:%M} @{mention.author.handle}: {mention.text[:100]}")


def deliver(config: Path, as_json: bool) -> None:
    report = engine_of(config).alerter.retry_due()
    if as_json:
        print_json({"delivered": report.sent, "failed": report.failed})
        return
    for failure in report.failed:
        say(f"failed: {failure}", err=True)
    say(f"alerts: {report.sent} delivered, {len(report.failed)} failed")


def spikes(config: Path, as_json: bool) -> None:
    raised = engine_of(config).alerter.check_spikes()
    if as_json:
        print_json(
            {
                "raised": len(raised),
                "alerts": [
                    {
                        **alert.model_dump(
                            mode="json",
                            include={"id", "rule", "created_at", "summary", "topic", "count", "recipients"},
                        ),
                        "explanation": alert.details.get("explanation", []),
                    }
                    for alert in raised
                ],
            }
        )
        return
    for alert in raised:
        say(alert.summary)
        for line in alert.details.get("explanation", []):
            say(f"  {line}")
    say(f"spikes: {len(raised)} new alerts")


def digest(config: Path, day: datetime | None, as_json: bool) -> None:
    """The digest of `day` (default: yesterday, UTC), sent once per person and day."""
    wanted = day.date() if day else (datetime.now(UTC) - timedelta(days=1)).date()
    report = engine_of(config).alerter.send_digests(wanted)
    if as_json:
        print_json({"day": wanted, "sent": report.sent, "failed": report.failed})
        return
    for failure in report.failed:
        say(f"failed: {failure}", err=True)
    say(f"digest {wanted}: {report.sent} sent, {len(report.failed)} failed")
