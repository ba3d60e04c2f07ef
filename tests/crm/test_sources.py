"""The CRM sources of config.yaml, listed once for the engine and the dashboard."""

from __future__ import annotations

from pathlib import Path

from crm.sources import CsvSourceConfig, configured_sources


def csv_source(name: str, enabled: bool) -> CsvSourceConfig:
    return CsvSourceConfig.model_validate(
        {"name": name, "type": "csv", "enabled": enabled, "mapping": {"contacts": {"table": f"{name}.csv"}}}
    )


def test_customers_csv_comes_first_and_disabled_sources_stay_listed():
    listed = configured_sources(
        Path("customers.csv"), [csv_source("export", False), csv_source("shop", True)]
    )
    assert [(s.name, s.enabled) for s in listed] == [("crm-csv", True), ("export", False), ("shop", True)]
    assert configured_sources(None, []) == []
