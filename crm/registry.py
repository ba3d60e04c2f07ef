"""Source type -> connector. Adding a CRM: one module, one config block in crm/sources.py, one entry here."""

from __future__ import annotations

from pathlib import Path

from crm.base import RowSource
from crm.sources import (
    AnyCrmSource,
    CsvSourceConfig,
    EspoCrmSourceConfig,
    SqlSourceConfig,
    XlsxSourceConfig,
)


def build_source(config: AnyCrmSource, base_dir: Path) -> RowSource:
    """The connector a config block describes; relative paths resolve against base_dir."""
    if isinstance(config, CsvSourceConfig):
        from crm.files import CsvSource

        return CsvSource(config, base_dir)
    if isinstance(config, XlsxSourceConfig):
        from crm.files import XlsxSource

        return XlsxSource(config, base_dir)
    if isinstance(config, SqlSourceConfig):
        from crm.sql import SqlSource

        return SqlSource(config, base_dir)
    if isinstance(config, EspoCrmSourceConfig):
        from crm.espocrm import EspoCrmSource

        return EspoCrmSource(config, base_dir)
    raise TypeError(f"no CRM connector for {type(config).__name__}")
