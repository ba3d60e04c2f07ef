"""CRM import throughput on this machine: generated contacts from a CSV file and a SQLite database.

    .venv/bin/python benchmarks/crm_import.py [--rows 50000]

For each source it times (1) reading + mapping + quality checks alone, and (2) the whole mirror into
a fresh embedded Elasticsearch stand-in (first import), then (3) a refresh where 1% of rows changed.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scratch import scratch_settings
from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, create_engine, insert, update

from crm.base import pull
from crm.mirror import mirror_source
from crm.quality import customer_from
from crm.registry import build_source
from crm.sources import CsvSourceConfig, SqlSourceConfig
from index.client import IndexNames, embedded_server, open_index
from index.schema import drop_indices, ensure_indices

COLUMNS = ["customer_id", "first_name", "last_name", "company", "email", "phone", "mastodon", "segment",
           "account_value", "owner_name", "owner_email", "language", "updated_at"]  # fmt: skip
FIRST = ["Julie", "Marc", "Lucy", "Amina", "Paul", "Élodie", "Matthew", "Chloé", "Yanis", "Sarah"]
LAST = ["Martin", "Petit", "Cox", "Benali", "Roux", "Garnier", "Palmer", "Hayes", "Dumas", "Whitfield"]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def generate(n: int) -> list[dict]:
    rng = random.Random(2026)
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            {
                "customer_id": f"C{i:07d}",
                "first_name": first,
                "last_name": last,
                "company": f"Company {i % 5000}",
                "email": f"{first.lower()}.{last.lower()}{i}@client.example",
                "phone": "+33 6 " + " ".join(str(rng.randint(10, 99)) for _ in range(4)),
                "mastodon": f"user{i}@piaille.example" if i % 3 == 0 else "",
                "segment": rng.choice(["consumer", "smb", "enterprise"]),
                "account_value": round(rng.uniform(100, 90000), 2),
                "owner_name": "Claire Dubois",
                "owner_email": "claire.dubois@lumio.example",
                "language": rng.choice(["fr", "en"]),
                "updated_at": T0 + timedelta(seconds=i),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({**r, "updated_at": r["updated_at"].isoformat()} for r in rows)


def write_sqlite(url: str, rows: list[dict]) -> Table:
    metadata = MetaData()
    table = Table(
        "contacts",
        metadata,
        *[
            Column(
                c,
                DateTime if c == "updated_at" else Float if c == "account_value" else String,
                primary_key=c == "customer_id",
            )
            for c in COLUMNS
        ],
    )
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as db:
        db.execute(insert(table), rows)
    return table


def report(label: str, n: int, seconds: float) -> None:
    print(f"{label:<44} {n:>7} rows {seconds:7.2f}s {n / seconds:9.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    rows = generate(args.rows)
    with tempfile.TemporaryDirectory() as work:
        base = Path(work)
        write_csv(base / "contacts.csv", rows)
        url = f"sqlite:///{base / 'crm.sqlite3'}"
        table = write_sqlite(url, rows)
        sources = [
            CsvSourceConfig.model_validate(
                {"name": "csv", "type": "csv", "mapping": {"contacts": {"table": str(base / "contacts.csv")}}}
            ),
            SqlSourceConfig.model_validate(
                {"name": "sqlite", "type": "sql", "url": url, "mapping": {"contacts": {"table": "contacts"}}}
            ),
        ]
        now = datetime.now(UTC)
        for config in sources:
            started = time.perf_counter()
            result = pull(config, build_source(config, base), {})  # type: ignore[arg-type]
            customers = [customer_from(c, None, config.name, "FR", now) for c in result.records["contacts"]]  # type: ignore[arg-type]
            report(
                f"{config.type}: read + map + quality checks", len(customers), time.perf_counter() - started
            )

        scratch = scratch_settings(base / "es")
        server = embedded_server(scratch)
        try:
            es = open_index(scratch)
            for config in sources:
                names = IndexNames(f"bench{uuid.uuid4().hex[:8]}")
                ensure_indices(es, names)
                started = time.perf_counter()
                done = mirror_source(es, names, config, base)
                report(
                    f"{config.type}: first import into the index",
                    done.customers,
                    time.perf_counter() - started,
                )
                changed = rows[::100]
                later = T0 + timedelta(days=30)
                if config.type == "sql":
                    with create_engine(url).begin() as db:
                        for r in changed:
                            db.execute(
                                update(table)
                                .where(table.c.customer_id == r["customer_id"])
                                .values(updated_at=later)
                            )
                else:
                    write_csv(
                        base / "contacts.csv",
                        [{**r, "updated_at": later} if i % 100 == 0 else r for i, r in enumerate(rows)],
                    )
                started = time.perf_counter()
                done = mirror_source(es, names, config, base)
                report(
                    f"{config.type}: refresh, {len(changed)} rows changed",
                    done.customers,
                    time.perf_counter() - started,
                )
                drop_indices(es, names)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
