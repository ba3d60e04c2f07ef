"""`ecoute crm import` and `ecoute crm quality` as a user runs them, against the test index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from elasticsearch import Elasticsearch

from index.client import EmbeddedServer, IndexNames
from index.crm import crm_quality
from index.mentions import index_mentions
from tests.conftest import ROOT, write_config
from tests.factories import make_mention


def ecoute(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ecoute", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def test_quality_report_names_duplicates_bad_values_missing_owners_and_rejected_rows(
    es: Elasticsearch, es_server: EmbeddedServer, names: IndexNames, tmp_path: Path
):
    extra = tmp_path / "shop.csv"
    extra.write_text(
        "customer_id,first_name,last_name,email,phone,x,owner_email\n"
        "S1,Ana,Lopez,ana@shop.example,+33 1 2,@ana lopez,o@lumio.example\n"
        "S1,Ana,Again,,,,\n"
        "S2,Léo,Roy,ana@shop.example,,leoroy,o@lumio.example\n",
        encoding="utf-8",
    )
    sample = str(ROOT / "samples" / "crm_customers.csv")
    crm = {
        "customers_csv": None,
        "sources": [
            {"name": "sample", "type": "csv", "mapping": {"contacts": {"table": sample}}},
            {"name": "shop", "type": "csv", "mapping": {"contacts": {"table": str(extra)}}},
        ],
    }  # fmt: skip
    config = str(write_config(tmp_path, es_server.url, names.prefix, crm=crm))
    imported = ecoute("crm", "import", "--config", config, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "rejected: shop: shop.csv line 3: customer_id S1 appears twice" in imported.stderr
    assert imported.stdout.splitlines()[-1] == "crm: 62 customers mirrored, 1 rows rejected"
    index_mentions(
        es,
        names,
        [
            make_mention("a", author={"handle": "stranger@mastodon.example"}),
            make_mention("b", author={"handle": "ana"}, customer_id="S1"),
        ],
    )

    quality = ecoute("crm", "quality", "--config", config, cwd=tmp_path)
    assert quality.returncode == 0, quality.stderr
    lines = quality.stdout.splitlines()
    assert "customers: 62" in lines
    assert "  email famille.garnier@courriel.example is on C-1024, C-1049" in lines
    assert "  email ana@shop.example is on S1, S2" in lines
    assert "invalid email: 1" in lines
    assert "  C-1031 Marc Dupont: email 'marc.dupont@': There must be something after the @-sign." in lines
    assert "missing owner: 1" in lines
    assert "invalid phone: 1" in lines and "  S1 Ana Lopez: phone '+33 1 2': not a possible number" in lines
    assert "bad handle: 1" in lines
    assert "  S1 Ana Lopez: x handle '@ana lopez' is not in the form 1-15 letters, digits or _" in lines
    assert "mentions not linked to a customer: 1 of 2 (0 proposed links waiting for review)" in lines
    assert "rejected rows: 1" in lines and "  shop: shop.csv line 3: customer_id S1 appears twice" in lines


def test_the_index_function_counts_each_kind_of_problem(es: Elasticsearch, names: IndexNames, settings):
    from ecoute.engine import Engine

    Engine(settings, es, names).import_customers()
    report = crm_quality(es, names)
    assert report.customers == 60
    assert report.problem_counts == {"invalid_email": 1, "missing_owner": 1}
    assert [(d.field, d.value, d.customer_ids) for d in report.duplicates] == [
        ("emails", "famille.garnier@courriel.example", ["C-1024", "C-1049"])
    ]
    assert [(r.source, r.count) for r in report.rejections] == [("crm-csv", 0)]
