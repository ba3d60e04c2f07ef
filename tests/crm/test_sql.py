"""The SQL connector against real SQLite and PostgreSQL databases, mirrored into the stand-in index."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from core.errors import ConfigError
from crm.base import CrmSourceError
from crm.mirror import mirror_source
from crm.sources import SqlSourceConfig
from index.client import IndexNames, free_port
from index.crm import records_of_customer
from index.customers import get_customer
from tests.crm import crmdb


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def sql_source(url: str, **overrides) -> SqlSourceConfig:
    data = {"name": "crm-db", "type": "sql", "url": url, "mapping": crmdb.MAPPING, **overrides}
    return SqlSourceConfig.model_validate(data)


def test_first_import_mirrors_contacts_with_their_account_deals_and_tickets(
    es: Elasticsearch, names: IndexNames, database: str, tmp_path: Path
):
    crmdb.build(database)
    report = mirror_source(es, names, sql_source(database), tmp_path)
    assert (report.customers, report.deleted, report.rejected) == (4, 0, [])
    julie = get_customer(es, names, "1")
    assert julie is not None
    assert (julie.full_name, julie.company, julie.segment, julie.account_value) == (
        "Julie Martin",
        "Boulangerie Martin",
        "smb",
        4800.0,
    )
    assert (julie.owner_name, julie.owner_email) == ("Claire Dubois", "claire.dubois@lumio.example")
    assert julie.email == "julie.martin@boulangerie.example"
    assert julie.phone == "+33612345678"
    assert julie.handles == ["julie_m@piaille.example"]
    marc = get_customer(es, names, "2")
    assert marc is not None and marc.handles == ["marcpetit.bsky.social"]  # profile URL -> handle
    assert {q.kind for q in marc.quality} == {"invalid_phone", "missing_owner"}

    records = records_of_customer(es, names, julie)
    assert records.account is not None and records.account.title == "Boulangerie Martin"
    assert [o.title for o in records.opportunities] == ["Fibre pro upgrade"]  # the closed deal is not open
    assert [i.title for i in records.interactions] == ["Box reboots every night", "Invoice copy"]


def test_refresh_reads_only_rows_changed_since_the_cursor_and_propagates_deletions(
    es: Elasticsearch, names: IndexNames, database: str, tmp_path: Path
):
    engine = crmdb.build(database)
    config = sql_source(database)
    mirror_source(es, names, config, tmp_path)
    later = crmdb.T0 + timedelta(hours=5)
    crmdb.touch(engine, crmdb.contacts, 4, later, email_address="amy.clark@new.example")
    crmdb.touch(engine, crmdb.contacts, 3, later, is_deleted=True)  # soft delete
    crmdb.remove(engine, crmdb.contacts, 2)  # hard delete
    crmdb.remove(engine, crmdb.tickets, "T2")
    report = mirror_source(es, names, config, tmp_path)
    # Only the changed contact is written again: unchanged accounts, deals and tickets are not.
    assert (report.customers, report.records, report.deleted) == (1, 0, 3)
    assert get_customer(es, names, "2") is None
    assert get_customer(es, names, "3") is None
    amy = get_customer(es, names, "4")
    assert amy is not None and amy.email == "amy.clark@new.example"
    julie = get_customer(es, names, "1")
    assert julie is not None
    assert [i.title for i in records_of_customer(es, names, julie).interactions] == [
        "Box reboots every night"
    ]


def test_an_account_change_reaches_its_unchanged_contacts(
    es: Elasticsearch, names: IndexNames, database: str, tmp_path: Path
):
    engine = crmdb.build(database)
    config = sql_source(database)
    mirror_source(es, names, config, tmp_path)
    crmdb.touch(
        engine,
        crmdb.accounts,
        "A2",
        crmdb.T0 + timedelta(hours=1),
        rep_name="Sarah Whitfield",
        rep_email="sarah.whitfield@lumio.example",
    )
    mirror_source(es, names, config, tmp_path)
    marc = get_customer(es, names, "2")
    assert marc is not None
    assert marc.owner_email == "sarah.whitfield@lumio.example"
    assert "missing_owner" not in {q.kind for q in marc.quality}


def test_a_misspelt_column_is_a_config_error_that_names_it(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    crmdb.build(url)
    mapping = {
        **crmdb.MAPPING,
        "contacts": {"table": "people", "columns": {"customer_id": "id", "email": "emial"}},
    }
    with pytest.raises(ConfigError) as caught:
        mirror_source(es, names, sql_source(url, mapping=mapping), tmp_path)
    message = str(caught.value)
    assert "crm.sources.crm-db.mapping.contacts.columns.email" in message
    assert "column 'emial' is not in people" in message
    assert "did you mean 'email_address'?" in message


def test_an_unreachable_database_is_one_error_line(es: Elasticsearch, names: IndexNames, tmp_path: Path):
    url = f"postgresql+psycopg://ecoute@127.0.0.1:{free_port()}/crm"
    with pytest.raises(CrmSourceError) as caught:
        mirror_source(es, names, sql_source(url), tmp_path)
    assert str(caught.value).startswith("crm crm-db: postgresql+psycopg://ecoute@127.0.0.1:")
    assert "\n" not in str(caught.value)


def test_the_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, postgres_url: str):
    from crm.sql import SqlSource

    with pytest.raises(ConfigError, match="password belongs in the environment"):
        SqlSource(sql_source(postgres_url.replace("ecoute@", "ecoute:secret@")))
    monkeypatch.setenv("CRM_DB_PASSWORD", "s3cret")
    source = SqlSource(sql_source(postgres_url, password_env="CRM_DB_PASSWORD"))
    assert source.url.password == "s3cret"
    assert "s3cret" not in source._where()
