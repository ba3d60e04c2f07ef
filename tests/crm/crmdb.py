"""A small CRM database with its own column names, built with SQLAlchemy in SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    update,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
metadata = MetaData()
accounts = Table(
    "accounts",
    metadata,
    Column("acct_no", String, primary_key=True),
    Column("name", String),
    Column("tier", String),
    Column("arr", Float),
    Column("rep_name", String),
    Column("rep_email", String),
    Column("modified_at", DateTime(timezone=True)),
)
contacts = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("acct_no", String),
    Column("given_name", String),
    Column("family_name", String),
    Column("email_address", String),
    Column("mobile", String),
    Column("mastodon_handle", String),
    Column("bsky", String),
    Column("lang", String),
    Column("modified_at", DateTime(timezone=True)),
    Column("is_deleted", Boolean, default=False),
)
deals = Table(
    "deals",
    metadata,
    Column("deal_id", String, primary_key=True),
    Column("acct_no", String),
    Column("title", String),
    Column("stage", String),
    Column("amount", Float),
    Column("close_on", DateTime(timezone=True)),
    Column("modified_at", DateTime(timezone=True)),
)
tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", String, primary_key=True),
    Column("person_id", Integer),
    Column("subject", String),
    Column("state", String),
    Column("opened_at", DateTime(timezone=True)),
    Column("modified_at", DateTime(timezone=True)),
)

MAPPING: dict[str, Any] = {
    "accounts": {
        "table": "accounts",
        "columns": {
            "account_id": "acct_no",
            "company": "name",
            "segment": "tier",
            "value": "arr",
            "owner_name": "rep_name",
            "owner_email": "rep_email",
            "updated_at": "modified_at",
        },
    },
    "contacts": {
        "table": "people",
        "columns": {
            "customer_id": "id",
            "account_id": "acct_no",
            "first_name": "given_name",
            "last_name": "family_name",
            "email": "email_address",
            "phone": "mobile",
            "handles.mastodon": "mastodon_handle",
            "handles.bluesky": "bsky",
            "language": "lang",
            "updated_at": "modified_at",
            "deleted": "is_deleted",
        },
    },
    "opportunities": {
        "table": "deals",
        "columns": {
            "opportunity_id": "deal_id",
            "account_id": "acct_no",
            "name": "title",
            "stage": "stage",
            "amount": "amount",
            "close_date": "close_on",
            "updated_at": "modified_at",
        },
    },
    "interactions": {
        "table": "tickets",
        "columns": {
            "interaction_id": "ticket_id",
            "customer_id": "person_id",
            "subject": "subject",
            "status": "state",
            "occurred_at": "opened_at",
            "updated_at": "modified_at",
        },
    },
}


def build(url: str) -> Engine:
    """Create the tables (dropping earlier ones) with two accounts, four people, deals and tickets."""
    engine = create_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as db:
        db.execute(
            insert(accounts),
            [
                {"acct_no": "A1", "name": "Boulangerie Martin", "tier": "smb", "arr": 4800.0,
                 "rep_name": "Claire Dubois", "rep_email": "Claire.Dubois@lumio.example", "modified_at": T0},
                {"acct_no": "A2", "name": "Garage Petit", "tier": "enterprise", "arr": 91000.0,
                 "rep_name": None, "rep_email": None, "modified_at": T0},
            ],
        )  # fmt: skip
        db.execute(
            insert(contacts),
            [
                {"id": 1, "acct_no": "A1", "given_name": "Julie", "family_name": "Martin",
                 "email_address": "Julie.Martin@boulangerie.example", "mobile": "06 12 34 56 78",
                 "mastodon_handle": "@julie_m@piaille.example", "bsky": None, "lang": "fr",
                 "modified_at": T0, "is_deleted": False},
                {"id": 2, "acct_no": "A2", "given_name": "Marc", "family_name": "Petit",
                 "email_address": "marc@garage.example", "mobile": "12", "mastodon_handle": None,
                 "bsky": "https://bsky.app/profile/marcpetit.bsky.social", "lang": "fr",
                 "modified_at": T0 + timedelta(minutes=1), "is_deleted": False},
                {"id": 3, "acct_no": "A1", "given_name": "Paul", "family_name": "Martin",
                 "email_address": "paul@boulangerie.example", "mobile": None, "mastodon_handle": None,
                 "bsky": None, "lang": "fr", "modified_at": T0 + timedelta(minutes=2), "is_deleted": False},
                {"id": 4, "acct_no": None, "given_name": "Amy", "family_name": "Clark",
                 "email_address": "amy@clark.example", "mobile": "+44 7700 900518", "mastodon_handle": None,
                 "bsky": None, "lang": "en", "modified_at": T0 + timedelta(minutes=3), "is_deleted": False},
            ],
        )  # fmt: skip
        db.execute(
            insert(deals),
            [
                {"deal_id": "D1", "acct_no": "A1", "title": "Fibre pro upgrade", "stage": "Proposal",
                 "amount": 1200.0, "close_on": T0 + timedelta(days=20), "modified_at": T0},
                {"deal_id": "D2", "acct_no": "A1", "title": "Old mobile deal", "stage": "Closed Won",
                 "amount": 300.0, "close_on": T0 - timedelta(days=90), "modified_at": T0},
            ],
        )  # fmt: skip
        db.execute(
            insert(tickets),
            [
                {"ticket_id": "T1", "person_id": 1, "subject": "Box reboots every night", "state": "open",
                 "opened_at": T0 - timedelta(days=2), "modified_at": T0},
                {"ticket_id": "T2", "person_id": 1, "subject": "Invoice copy", "state": "closed",
                 "opened_at": T0 - timedelta(days=30), "modified_at": T0},
            ],
        )  # fmt: skip
    return engine


def touch(engine: Engine, table: Table, key: Any, at: datetime, **values: Any) -> None:
    pk = next(iter(table.primary_key.columns))
    with engine.begin() as db:
        db.execute(update(table).where(pk == key).values(modified_at=at, **values))


def remove(engine: Engine, table: Table, key: Any) -> None:
    pk = next(iter(table.primary_key.columns))
    with engine.begin() as db:
        db.execute(delete(table).where(pk == key))
