"""`ecoute alerts rules|test-query|deliver|spikes|digest`: alert rules and what the scheduler does, now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer

from core.errors import EcouteError
from ecoute.cli.common import engine_of


def rules(config: Path) -> None:
    """Each rule in effect with its kind, where it comes from, whether it is off, and its conditions."""
    from alerts.settings import rules_from_index
    from index.alerts import stored_rules

    engine = engine_of(config)
    saved = rules_from_index(stored_rules(engine.es, engine.names))
    shown = {"builtin": "built-in", "config": "config.yaml", "dashboard": "dashboard"}
    for in_effect in engine.settings.alerts.rules_in_effect(saved):
        rule, origin = in_effect.rule, shown[in_effect.origin]
        conditions = rule.model_dump(exclude_defaults=True, exclude={"name", "description", "kind"})
        typer.echo(
            f"{rule.name} ({rule.kind}, {origin}{'' if rule.enabled else ', off'}): {rule.description}"
        )
        if conditions:
            typer.echo(f"  {json.dumps(conditions, ensure_ascii=False)}")


def test_query(query: str, config: Path, days: int) -> None:
    """How the query reads and its DSL; with days, the preview a rule of this query gets."""
    from alerts.query import QuerySyntaxError, describe, parse_query, to_dsl

    try:
        tree = parse_query(query)
    except QuerySyntaxError as exc:
        typer.echo(exc.pointer(), err=True)
        raise EcouteError(str(exc)) from exc
    typer.echo(f"reads as: {describe(tree)}")
    typer.echo(f"dsl: {json.dumps(to_dsl(tree), ensure_ascii=False)}")
    if days > 0:
        from alerts.preview import preview_rule
        from alerts.settings import AlertRule

        engine = engine_of(config)
        rule = AlertRule(name="test-query", query=query)
        found = preview_rule(engine.es, engine.names, rule, days, size=5, directory=engine.directory)
        typer.echo(f"{found.total} mentions in the last {days} days")
        for mention in found.newest:
            typer.echo(
                f"  {mention.created_at:%Y-%m-%d %H:%M} @{mention.author.handle}: {mention.text[:100]}"
            )


def deliver(config: Path) -> None:
    report = engine_of(config).alerter.retry_due()
    for failure in report.failed:
        typer.echo(f"failed: {failure}", err=True)
    typer.echo(f"alerts: {report.sent} delivered, {len(report.failed)} failed")


def spikes(config: Path) -> None:
    raised = engine_of(config).alerter.check_spikes()
    for alert in raised:
        typer.echo(alert.summary)
        for line in alert.details.get("explanation", []):
            typer.echo(f"  {line}")
    typer.echo(f"spikes: {len(raised)} new alerts")


def digest(config: Path, day: datetime | None) -> None:
    """The digest of `day` (default: yesterday, UTC), sent once per person and day."""
    wanted = day.date() if day else (datetime.now(UTC) - timedelta(days=1)).date()
    report = engine_of(config).alerter.send_digests(wanted)
    for failure in report.failed:
        typer.echo(f"failed: {failure}", err=True)
    typer.echo(f"digest {wanted}: {report.sent} sent, {len(report.failed)} failed")
