"""`ecoute crm import|quality`: mirror the CRM sources now, and report on the mirrored records."""

from __future__ import annotations

from pathlib import Path

import typer

from ecoute.cli.common import engine_of
from ecoute.cli.output import print_json, progress_bars, say


def mirror(config: Path, source: str | None, full: bool, as_json: bool) -> None:
    """Mirror every CRM source (or one), its rows read as a progress bar; each rejected row on stderr (in
    the document with --json); exit 1 when a source failed."""
    engine = engine_of(config)
    with progress_bars(shown=not as_json) as progress:
        results = engine.mirror_crm(full=full, only=source, progress=progress)
    reports = [r for r in results if not isinstance(r, str)]
    failed = [r for r in results if isinstance(r, str)]
    written, rejected = sum(r.customers for r in reports), sum(len(r.rejected) for r in reports)
    if as_json:
        print_json(
            {
                "customers": written,
                "rows_rejected": rejected,
                "sources": [r.as_dict() for r in reports],
                "failed": failed,
            }
        )
    else:
        for result in results:
            if isinstance(result, str):
                say(f"failed: {result}", err=True)
                continue
            for row in result.rejected:
                say(f"rejected: {result.source}: {row.line()}", err=True)
            say(result.line())
        say(f"crm: {written} customers mirrored, {rejected} rows rejected")
    if failed:
        raise typer.Exit(1)


def quality(config: Path) -> None:
    """The CRM quality report, one problem per line under its count."""
    from index.crm import crm_quality

    engine = engine_of(config)
    report = crm_quality(engine.es, engine.names)
    say(f"customers: {report.customers}")
    say(f"duplicates: {len(report.duplicates)}")
    for dup in report.duplicates:
        what = "email" if dup.field == "emails" else "handle"
        say(f"  {what} {dup.value} is on {', '.join(dup.customer_ids)}")
    for kind in ("invalid_email", "invalid_phone", "missing_owner", "bad_handle"):
        say(f"{kind.replace('_', ' ')}: {report.problem_counts.get(kind, 0)}")
        for problem in (p for p in report.problems if p.kind == kind):
            say(f"  {problem.customer_id} {problem.full_name}: {problem.detail}")
    say(
        f"mentions not linked to a customer: {report.unlinked_mentions} of {report.mentions} "
        f"({report.pending_reviews} proposed links waiting for review)"
    )
    say(f"rejected rows: {report.rejected_rows}")
    for source in report.rejections:
        for row in source.rows:
            say(f"  {source.source}: {row}")
        if source.count > len(source.rows):
            say(f"  {source.source}: … and {source.count - len(source.rows)} more (see ecoute crm import)")
