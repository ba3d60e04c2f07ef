"""The admin page: source health, the CRM mirror, the index and who may sign in (never their hashes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch
from streamlit.testing.v1 import AppTest

from core.documents import SourceState
from core.errors import EcouteError
from crm.mirror import mirror_source
from crm.sources import legacy_csv_source
from dashboard.text import t
from ecoute.config import load_settings
from index.client import IndexNames
from index.customers import upsert_customers
from index.state import put_state
from tests.conftest import write_config
from tests.dashboard.helpers import APP, sign_in
from tests.dashboard.test_pages import shown
from tests.factories import make_customer

MARKETER = "marketing@lumio.example"


def red_rows_of(table) -> list[int]:
    """The positions of the rows a dataframe shows shaded red."""
    styles = table.proto.arrow_data.styler.styles
    return sorted(
        {int(m) for m in re.findall(r"#T_\w+_row(\d+)_col\d+\s*\{\s*background-color: #f8d7da", styles)}
    )


def health(source: str, **data: object) -> SourceState:
    return SourceState(
        id=f"health:{source}", kind="health", source=source, data=data, updated_at=datetime.now(UTC)
    )


def test_admin_sees_each_source_with_its_health(es: Elasticsearch, names: IndexNames, dashboard):
    ran = "2026-11-25T09:00:00+00:00"
    put_state(
        es,
        names,
        health("sample", last_run=ran, items_last_run=342, last_success=ran, consecutive_failures=0),
    )
    at = dashboard("pages/admin.py")
    rows = {row[t("source")]: row for row in at.dataframe[0].value.to_dict("records")}
    assert rows["sample"][t("source_state")] == t("source_state_ok")
    assert rows["sample"][t("items_last_run")] == 342
    assert rows["lumio-news"][t("source_state")] == t("source_state_off")

    failed = health(
        "sample",
        last_run=ran,
        consecutive_failures=2,
        last_error="sample: cannot read samples/mentions.jsonl",
    )
    put_state(es, names, failed)
    at.run(timeout=30)
    rows = {row[t("source")]: row for row in at.dataframe[0].value.to_dict("records")}
    assert rows["sample"][t("source_state")] == t("source_state_failing")
    assert rows["sample"][t("last_error")] == "sample: cannot read samples/mentions.jsonl"
    assert red_rows_of(at.dataframe[0]) == []  # two failures: not red yet (red after 3)

    put_state(es, names, health("sample", last_run=ran, consecutive_failures=3, last_error="still broken"))
    at.run(timeout=30)
    frame = at.dataframe[0].value
    assert red_rows_of(at.dataframe[0]) == [list(frame[t("source")]).index("sample")]
    assert frame[t("last_error")].tolist()[red_rows_of(at.dataframe[0])[0]] == "still broken"


def test_admin_sees_users_and_roles_but_never_a_password_hash(
    es: Elasticsearch, names: IndexNames, dashboard
):
    upsert_customers(es, names, [make_customer("C1"), make_customer("C2")])
    at = dashboard("pages/admin.py")
    (users,) = [d.value for d in at.dataframe if t("role") in d.value.columns]
    assert set(users[t("email")]) >= {"admin@lumio.example", MARKETER}
    assert "scrypt" not in users.to_csv() and "scrypt" not in shown(at)
    assert [m.value for m in at.metric if m.label == t("customers_mirrored")] == ["2"]
    assert any("optional features: percolator" in c.value for c in at.caption)


def test_a_marketer_opening_the_admin_page_by_its_address_is_refused(dashboard):
    at = dashboard("pages/insights.py", as_user=MARKETER)
    # The page itself, opened by its address with a marketer's session, refuses before reading anything.
    page = AppTest.from_file(str(APP.parent / "pages" / "admin.py"), default_timeout=30)
    page.session_state["auth"] = {**at.session_state["auth"]}
    page.run(timeout=30)
    assert [e.value for e in page.error] == [t("not_allowed", role=t("role_marketer"))]
    assert not page.dataframe


def crm_rows(at: AppTest) -> dict[str, dict]:
    (table,) = [d for d in at.dataframe if t("crm_rows_read") in d.value.columns]
    return {row[t("crm_source")]: row for row in table.value.to_dict("records")}


def test_admin_sees_what_each_crm_import_did_and_why_one_failed(
    es: Elasticsearch, names: IndexNames, tmp_path: Path, es_server, monkeypatch
):
    broken = {"name": "broken", "type": "csv", "mapping": {"contacts": {"table": "gone.csv"}}}
    config = write_config(tmp_path, es_server.url, names.prefix)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["crm"]["sources"] = [broken]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = load_settings(config)
    monkeypatch.setenv("ECOUTE_CONFIG", str(config))
    legacy = legacy_csv_source(settings.crm.customers_csv)
    report = mirror_source(es, names, legacy, settings.base_dir)
    for _ in range(3):
        with pytest.raises(EcouteError) as failed:
            mirror_source(es, names, settings.crm.sources[0], settings.base_dir)

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run(timeout=30)
    sign_in(at)
    at.switch_page("pages/admin.py").run(timeout=30)
    assert not at.exception
    rows = crm_rows(at)
    good = rows["crm-csv"]
    assert good[t("source_state")] == t("source_state_ok")
    assert (good[t("crm_rows_read")], good[t("crm_customers_written")]) == (
        report.rows_read,
        report.customers,
    )
    assert good[t("crm_rejected")] == len(report.rejected)
    bad = rows["broken"]
    assert bad[t("source_state")] == t("source_state_failing")
    assert bad[t("failures_in_a_row")] == 3
    assert bad[t("last_error")] == str(failed.value) and "gone.csv" in bad[t("last_error")]
    (crm_table,) = [d for d in at.dataframe if t("crm_rows_read") in d.value.columns]
    assert red_rows_of(crm_table) == [list(crm_table.value[t("crm_source")]).index("broken")]

    quality = {m.label: m.value for m in at.metric}
    assert quality[t("quality_customers")] == f"{report.customers:,}"
    assert quality[t("quality_rejected")] == str(len(report.rejected))
    assert int(quality[t("quality_missing_owner")]) >= 0

    # Once the file is back, the next import succeeds and the count starts again.
    (tmp_path / "gone.csv").write_text(
        "customer_id,full_name,email\nZ1,Zoé Zed,zoe@client.example\n,No Id,noid@client.example\n"
    )
    mirror_source(es, names, settings.crm.sources[0], settings.base_dir)
    at.run(timeout=30)
    bad = crm_rows(at)["broken"]
    assert (bad[t("source_state")], bad[t("failures_in_a_row")], bad[t("last_error")]) == (
        t("source_state_ok"),
        0,
        "",
    )
    assert (bad[t("crm_rows_read")], bad[t("crm_customers_written")], bad[t("crm_rejected")]) == (2, 1, 1)
