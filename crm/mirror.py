"""Mirror one CRM source into Écoute's index: changed records since the cursor, deletions, rejections.

The cursor and the list of rejected rows are stored only after every record is written, so a failed
run is simply read again next time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from core.documents import CrmRecord, Customer, QualityIssue, SourceState, document_id
from core.errors import EcouteError, IndexUnavailableError
from core.progress import Progress
from crm.base import (
    AccountRecord,
    ContactRecord,
    CrmPull,
    InteractionRecord,
    OpportunityRecord,
    Rejected,
    pull,
)
from crm.quality import customer_from
from crm.registry import build_source
from crm.sources import CrmSourceConfig
from index.client import IndexNames
from index.crm import (
    crm_native_ids,
    customer_ids_of_source,
    customers_of_accounts,
    delete_crm_records,
    delete_customers,
    get_crm_records,
    mirror_customers,
    put_crm_records,
)
from index.state import get_state, put_state

CLOSED_STAGES = {"closed won", "closed lost", "won", "lost", "closed", "gagné", "perdu"}
REJECTED_KEPT = 1000  # rejected rows stored for the dashboard; the CLI prints every one


@dataclass
class MirrorReport:
    source: str
    rows_read: int = 0
    customers: int = 0
    records: int = 0
    deleted: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"crm {self.source}: {self.rows_read} rows read, {self.customers} customers and {self.records} "
            f"other records mirrored, {self.deleted} deleted, {len(self.rejected)} rows rejected "
            f"({self.seconds:.1f}s)"
        )

    def as_dict(self) -> dict[str, Any]:
        """The report for scripts (`ecoute crm import --json`): counts, each rejected row and why."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "customers": self.customers,
            "records": self.records,
            "deleted": self.deleted,
            "rows_rejected": len(self.rejected),
            "rejected": [{"where": r.where, "reason": r.reason} for r in self.rejected],
            "seconds": round(self.seconds, 3),
        }


def record_id(source: str, kind: str, native_id: str) -> str:
    return document_id("crm", source, kind, native_id)


def _account_doc(source: str, a: AccountRecord) -> CrmRecord:
    return CrmRecord(
        id=record_id(source, "account", a.account_id),
        kind="account",
        source=source,
        native_id=a.account_id,
        account_id=a.account_id,
        title=a.company,
        segment=a.segment,
        owner_name=a.owner_name,
        owner_email=(a.owner_email or "").strip().lower() or None,
        amount=a.value,
        updated_at=a.updated_at,
    )


def _account_of(doc: CrmRecord) -> AccountRecord:
    return AccountRecord(
        account_id=doc.native_id,
        company=doc.title,
        segment=doc.segment,
        value=doc.amount,
        owner_name=doc.owner_name,
        owner_email=doc.owner_email,
        updated_at=doc.updated_at,
    )


def _opportunity_doc(source: str, o: OpportunityRecord) -> CrmRecord:
    return CrmRecord(
        id=record_id(source, "opportunity", o.opportunity_id),
        kind="opportunity",
        source=source,
        native_id=o.opportunity_id,
        account_id=o.account_id,
        customer_id=o.customer_id,
        title=o.name,
        stage=o.stage,
        amount=o.amount,
        is_open=(o.stage or "").strip().casefold() not in CLOSED_STAGES,
        occurred_at=o.close_date,
        updated_at=o.updated_at,
    )


def _interaction_doc(source: str, i: InteractionRecord) -> CrmRecord:
    return CrmRecord(
        id=record_id(source, "interaction", i.interaction_id),
        kind="interaction",
        source=source,
        native_id=i.interaction_id,
        account_id=i.account_id,
        customer_id=i.customer_id,
        title=i.subject,
        stage=i.status,
        channel=i.kind,
        occurred_at=i.occurred_at or i.updated_at,
        updated_at=i.updated_at,
    )


def follow_account(customer: Customer, account: AccountRecord) -> Customer:
    """An unchanged contact whose account changed takes the account's new company, segment and owner."""
    update = {
        "company": account.company or customer.company,
        "segment": account.segment or customer.segment,
        "account_value": account.value if account.value is not None else customer.account_value,
        "owner_name": account.owner_name or customer.owner_name,
        "owner_email": account.owner_email or customer.owner_email,
    }
    quality = [q for q in customer.quality if q.kind != "missing_owner"]
    if not update["owner_email"]:
        quality.append(
            QualityIssue(kind="missing_owner", detail="no account owner: alerts go to the rule's recipients")
        )
    return customer.model_copy(update={**update, "quality": quality})


def write_pull(
    es: Elasticsearch, names: IndexNames, result: CrmPull, region: str, incremental: bool
) -> MirrorReport:
    """Write a pull's records, then remove what the source no longer has."""
    source = result.source
    report = MirrorReport(source=source, rows_read=result.rows_read, rejected=list(result.rejected))
    now = datetime.now(UTC)
    accounts: dict[str, AccountRecord] = {a.account_id: a for a in result.records["accounts"]}  # type: ignore[attr-defined]
    report.records += put_crm_records(es, names, (_account_doc(source, a) for a in accounts.values()))
    contacts: list[ContactRecord] = result.records["contacts"]  # type: ignore[assignment]
    missing = {c.account_id for c in contacts if c.account_id and c.account_id not in accounts}
    known = get_crm_records(es, names, [record_id(source, "account", i) for i in missing])
    all_accounts = {**{d.native_id: _account_of(d) for d in known.values()}, **accounts}
    customers = [
        customer_from(c, all_accounts.get(c.account_id or ""), source, region, now) for c in contacts
    ]
    if incremental and accounts:
        changed = {c.customer_id for c in contacts}
        customers += [
            follow_account(c, accounts[c.account_id or ""])
            for c in customers_of_accounts(es, names, source, list(accounts))
            if c.customer_id not in changed
        ]
    report.customers = mirror_customers(es, names, customers)
    report.records += put_crm_records(
        es,
        names,
        [
            *(_opportunity_doc(source, o) for o in result.records["opportunities"]),  # type: ignore[arg-type]
            *(_interaction_doc(source, i) for i in result.records["interactions"]),  # type: ignore[arg-type]
        ],
    )
    for entity, present in result.present.items():
        if entity == "contacts":
            gone = customer_ids_of_source(es, names, source) - present
            report.deleted += delete_customers(es, names, gone)
        else:
            kind = {"accounts": "account", "opportunities": "opportunity", "interactions": "interaction"}[
                entity
            ]
            gone_ids = [
                doc_id
                for native, doc_id in crm_native_ids(es, names, source, kind).items()
                if native not in present
            ]
            report.deleted += delete_crm_records(es, names, gone_ids)
    return report


def _status_id(source: str) -> str:
    return f"crm:{source}"


def mirror_source(
    es: Elasticsearch,
    names: IndexNames,
    config: CrmSourceConfig,
    base_dir: Path,
    region: str = "FR",
    full: bool = False,
    progress: Progress | None = None,
) -> MirrorReport:
    """One refresh of one CRM source; `full` ignores the cursor and reads everything again; `progress`
    hears the rows read.

    Its status (numbers of the last success, or the error and how many runs failed in a row) is
    stored for the Admin page; a failure is recorded, then raised again.
    """
    started = time.perf_counter()
    cursor_id = f"crm-cursor:{config.name}"
    cursor_state = get_state(es, names, cursor_id)
    cursor = {} if full or cursor_state is None else dict(cursor_state.data)
    try:
        source = build_source(config, base_dir)  # type: ignore[arg-type]
        try:
            result = pull(config, source, cursor, progress=progress)
        finally:
            close = getattr(source, "close", None)
            if close:
                close()
        report = write_pull(es, names, result, region, incremental=bool(cursor))
    except EcouteError as exc:
        if not isinstance(exc, IndexUnavailableError):  # with the index down, there is nowhere to write
            _record_failure(es, names, config.name, str(exc))
        raise
    now = datetime.now(UTC)
    put_state(
        es,
        names,
        SourceState(id=cursor_id, kind="cursor", source=config.name, data=result.cursor, updated_at=now),
    )
    report.seconds = time.perf_counter() - started
    put_state(
        es,
        names,
        SourceState(
            id=_status_id(config.name),
            kind="crm",
            source=config.name,
            data={
                "last_run": now.isoformat(),
                "last_success": now.isoformat(),
                "summary": report.line(),
                "rows_read": report.rows_read,
                "customers": report.customers,
                "records": report.records,
                "deleted": report.deleted,
                "seconds": round(report.seconds, 3),
                "consecutive_failures": 0,
                "rejected_count": len(report.rejected),
                "rejected": [r.line() for r in report.rejected[:REJECTED_KEPT]],
            },
            updated_at=now,
        ),
    )
    return report


def _record_failure(es: Elasticsearch, names: IndexNames, source: str, error: str) -> None:
    """Keep the last success's numbers; add the error and count the failed runs in a row."""
    previous = get_state(es, names, _status_id(source))
    data = dict(previous.data) if previous else {}
    now = datetime.now(UTC)
    data.update(
        last_run=now.isoformat(),
        last_error=error,
        last_error_at=now.isoformat(),
        consecutive_failures=int(data.get("consecutive_failures", 0)) + 1,
    )
    put_state(
        es,
        names,
        SourceState(id=_status_id(source), kind="crm", source=source, data=data, updated_at=now),
    )
