"""`ecoute crm import|quality|push-replies`: mirror the CRM sources now, report on the mirrored records,
note the sent replies still due in their CRM."""

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


def push_replies(config: Path) -> None:
    """One line per reply tried: noted (with the CRM's id of the note) or why not; exit 1 when one failed."""
    engine = engine_of(config)
    replies = engine.push_reply_notes(at_once=True)
    for reply in replies:
        if reply.crm_note_id:
            say(f"reply {reply.id}: noted in {reply.crm_source} ({reply.crm_note_id})")
        else:
            say(f"reply {reply.id}: not noted in {reply.crm_source}: {reply.crm_push_error}", err=True)
    say(f"crm replies: {sum(1 for r in replies if r.crm_note_id)} of {len(replies)} noted")
    if any(not r.crm_note_id for r in replies):
        raise typer.Exit(1)
