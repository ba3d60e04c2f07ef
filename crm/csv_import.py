"""CSV export of CRM contacts -> Customer records; every rejected row is reported with its reason."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from index.documents import Customer
from nlp.linking import normalise_handle

REQUIRED = ("customer_id",)
HANDLE_COLUMNS = ("mastodon", "bluesky", "reddit", "x", "instagram", "linkedin")


@dataclass
class CustomerImport:
    customers: list[Customer] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def read_customers_csv(path: Path) -> CustomerImport:
    """Read a contacts export; a bad row is rejected with its line number, the rest flows on."""
    result = CustomerImport()
    now = datetime.now(UTC)
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path.name}: missing column {missing[0]!r} (columns: {reader.fieldnames})")
        for row in reader:
            where = f"{path.name} line {reader.line_num}"
            if None in row:
                result.rejected.append(f"{where}: more cells than header columns")
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            customer_id = values.get("customer_id", "")
            if not customer_id:
                result.rejected.append(f"{where}: empty customer_id")
                continue
            if customer_id in seen:
                result.rejected.append(f"{where}: customer_id {customer_id} appears twice")
                continue
            full_name = " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
            try:
                customer = Customer(
                    customer_id=customer_id,
                    first_name=values.get("first_name") or None,
                    last_name=values.get("last_name") or None,
                    full_name=full_name or values.get("company") or customer_id,
                    company=values.get("company") or None,
                    email=(values.get("email") or "").lower() or None,
                    phone=values.get("phone") or None,
                    handles=[normalise_handle(values[c]) for c in HANDLE_COLUMNS if values.get(c)],
                    segment=values.get("segment") or None,
                    account_value=float(values["account_value"]) if values.get("account_value") else None,
                    owner_name=values.get("owner_name") or None,
                    owner_email=(values.get("owner_email") or "").lower() or None,
                    language=values.get("language") or None,
                    updated_at=now,
                )
            except (ValidationError, ValueError) as exc:
                result.rejected.append(f"{where}: {exc}".splitlines()[0])
                continue
            seen.add(customer_id)
            result.customers.append(customer)
    return result
