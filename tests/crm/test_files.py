"""CSV and Excel exports: the shipped sample, bad files, and every rejected row with its reason."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from openpyxl import Workbook

from core.errors import ConfigError
from crm.base import CrmSourceError, pull
from crm.files import CsvSource
from crm.mirror import mirror_source
from crm.sources import CsvSourceConfig, XlsxSourceConfig, legacy_csv_source
from ecoute.config import Settings
from ecoute.engine import Engine
from index.client import IndexNames
from index.customers import all_customers, get_customer
from tests.conftest import ROOT

SAMPLE = ROOT / "samples" / "crm_customers.csv"
HEADER = ["customer_id", "first_name", "last_name", "company", "email", "phone", "mastodon", "owner_email"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def contacts_csv(path: Path, **overrides) -> CsvSourceConfig:
    data = {"name": "export", "type": "csv", "mapping": {"contacts": {"table": str(path)}}, **overrides}
    return CsvSourceConfig.model_validate(data)


def test_the_sample_crm_file_mirrors_60_customers_with_its_planted_problems_listed(
    es: Elasticsearch, names: IndexNames, settings: Settings
):
    written, rejected = Engine(settings, es, names).import_customers()
    assert (written, rejected) == (60, [])
    problems = {c.customer_id: {q.kind for q in c.quality} for c in all_customers(es, names) if c.quality}
    assert problems == {"C-1031": {"invalid_email"}, "C-1056": {"missing_owner"}}


def test_rejected_rows_are_listed_with_line_and_reason_and_the_rest_is_imported(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    path = write_csv(
        tmp_path / "contacts.csv",
        [
            ["1", "Julie", "Martin", "Boulangerie", "julie@b.example", "0612345678", "", "c@lumio.example"],
            ["", "No", "Id", "", "", "", "", ""],
            ["1", "Julie", "Twice", "", "", "", "", ""],
            ["2", "Marc", "Petit", "Garage", "marc@", "", "@marc@piaille.example", ""],
            ["3", "Too", "Many", "", "", "", "", "", "extra"],
        ],
    )
    report = mirror_source(es, names, contacts_csv(path), tmp_path)
    assert [r.line() for r in report.rejected] == [
        "contacts.csv line 3: empty customer_id",
        "contacts.csv line 4: customer_id 1 appears twice",
        "contacts.csv line 6: 9 cells for 8 columns",
    ]
    assert report.customers == 2
    marc = get_customer(es, names, "2")
    assert marc is not None and marc.handles == ["marc@piaille.example"]
    assert {q.kind for q in marc.quality} == {"invalid_email", "missing_owner"}


def test_mirroring_tells_the_rows_read_one_by_one_rejected_ones_included(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    rows = [["1", "Julie", "Martin", "", "", "", "", ""], ["", "No", "Id", "", "", "", "", ""]]
    path = write_csv(tmp_path / "contacts.csv", rows + [["2", "Marc", "Petit", "", "", "", "", ""]])
    heard: list[tuple[str, int, int | None]] = []
    report = mirror_source(es, names, contacts_csv(path), tmp_path, progress=lambda *told: heard.append(told))
    assert (report.rows_read, len(report.rejected), report.customers) == (3, 1, 2)
    assert heard == [("export: rows read", n, None) for n in range(4)]


def test_a_file_in_another_encoding_is_one_clear_error(es: Elasticsearch, names: IndexNames, tmp_path: Path):
    path = write_csv(
        tmp_path / "latin.csv", [["1", "Hélène", "Côté", "Café", "", "", "", ""]], encoding="latin-1"
    )
    with pytest.raises(CrmSourceError) as caught:
        mirror_source(es, names, contacts_csv(path), tmp_path)
    assert str(caught.value) == (
        "crm export: latin.csv line 2: not utf-8-sig text (byte 0xe9); "
        "set crm.sources.export.encoding, e.g. latin-1 or cp1252"
    )
    report = mirror_source(es, names, contacts_csv(path, encoding="latin-1"), tmp_path)
    customer = get_customer(es, names, "1")
    assert report.customers == 1 and customer is not None and customer.full_name == "Hélène Côté"


def test_a_missing_id_column_and_a_misspelt_mapping_are_config_errors(tmp_path: Path):
    path = write_csv(tmp_path / "contacts.csv", [["Julie", "x@y.example"]], header=["name", "email"])
    config = contacts_csv(path)
    with pytest.raises(
        ConfigError, match=r"mapping\.contacts\.columns\.customer_id: no column for the record id"
    ):
        pull(config, CsvSource(config, tmp_path), {})
    misspelt = contacts_csv(
        path, mapping={"contacts": {"table": str(path), "columns": {"customer_id": "nmae"}}}
    )
    with pytest.raises(ConfigError, match=r"column 'nmae' is not in .*did you mean 'name'\?"):
        pull(misspelt, CsvSource(misspelt, tmp_path), {})
    unknown = contacts_csv(path, mapping={"contacts": {"table": str(path), "columns": {"emial": "email"}}})
    with pytest.raises(ConfigError, match=r"columns\.emial: unknown field \(did you mean 'email'\?\)"):
        pull(unknown, CsvSource(unknown, tmp_path), {})


def test_a_row_removed_from_the_export_is_removed_from_the_index(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    rows = [[str(i), "A", f"N{i}", "", f"a{i}@x.example", "", "", "o@lumio.example"] for i in range(1, 4)]
    path = write_csv(tmp_path / "contacts.csv", rows)
    mirror_source(es, names, contacts_csv(path), tmp_path)
    write_csv(path, rows[:1] + rows[2:])
    report = mirror_source(es, names, contacts_csv(path), tmp_path)
    assert report.deleted == 1
    assert sorted(c.customer_id for c in all_customers(es, names)) == ["1", "3"]


def test_a_100k_row_file_is_read_completely(tmp_path: Path):
    rows = [
        [
            f"C{i}",
            "Prénom",
            f"Nom{i}",
            f"Société {i % 977}",
            f"p{i}@client.example",
            "",
            "",
            "o@lumio.example",
        ]
        for i in range(100_000)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    config = contacts_csv(path)
    started = time.perf_counter()
    result = pull(config, CsvSource(config, tmp_path), {})
    assert len(result.records["contacts"]) == 100_000 and result.rejected == []
    assert len(result.present["contacts"]) == 100_000
    print(f"100k-row CSV read and mapped in {time.perf_counter() - started:.1f}s")


def test_an_excel_workbook_with_accounts_and_contacts_sheets(
    es: Elasticsearch, names: IndexNames, tmp_path: Path
):
    book = Workbook()
    accounts = book.active
    accounts.title = "Comptes"
    accounts.append(["N° compte", "Raison sociale", "Commercial", "Email commercial"])
    accounts.append(["A1", "Boulangerie Martin", "Claire Dubois", "claire.dubois@lumio.example"])
    contacts = book.create_sheet("Contacts")
    contacts.append(["Réf", "Compte", "Prénom", "Nom", "Téléphone", "Mastodon"])
    contacts.append([1001, "A1", "Julie", "Martin", 612345678, "julie_m@piaille.example"])
    contacts.append([None, "A1", "Sans", "Id", None, None])
    book.save(tmp_path / "crm.xlsx")
    config = XlsxSourceConfig.model_validate(
        {
            "name": "excel",
            "type": "xlsx",
            "path": str(tmp_path / "crm.xlsx"),
            "mapping": {
                "accounts": {
                    "table": "Comptes",
                    "columns": {
                        "account_id": "N° compte",
                        "company": "Raison sociale",
                        "owner_name": "Commercial",
                        "owner_email": "Email commercial",
                    },
                },
                "contacts": {
                    "table": "Contacts",
                    "columns": {
                        "customer_id": "Réf",
                        "account_id": "Compte",
                        "first_name": "Prénom",
                        "last_name": "Nom",
                        "phone": "Téléphone",
                        "handles.mastodon": "Mastodon",
                    },
                },
            },
        }
    )
    report = mirror_source(es, names, config, tmp_path)
    assert [r.line() for r in report.rejected] == ["crm.xlsx sheet Contacts row 3: empty customer_id"]
    julie = get_customer(es, names, "1001")
    assert julie is not None
    assert (julie.company, julie.owner_email, julie.phone) == (
        "Boulangerie Martin",
        "claire.dubois@lumio.example",
        "+33612345678",
    )
    missing_sheet = config.model_copy(
        update={
            "mapping": {
                **config.mapping,
                "contacts": config.mapping["contacts"].model_copy(update={"table": "People"}),
            }
        }
    )
    with pytest.raises(CrmSourceError, match=r"crm.xlsx: no sheet 'People' \(sheets: Comptes, Contacts\)"):
        mirror_source(es, names, missing_sheet, tmp_path)


def test_customers_csv_in_config_is_the_csv_source_crm_csv():
    config = legacy_csv_source(SAMPLE)
    assert config.name == "crm-csv" and config.mapping["contacts"].table == str(SAMPLE)
