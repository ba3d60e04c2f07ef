"""Source type -> connector. Adding a CRM: one module, one config block in crm/sources.py, one entry here."""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigError
from crm.base import ReplyNotes, RowSource
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


def pushes_replies(config: AnyCrmSource) -> bool:
    """Whether sent replies are to be noted in this source's CRM: only the configs of connectors that can
    write have `push_replies` (off by default, so a read-only key keeps working)."""
    return config.enabled and bool(getattr(config, "push_replies", False))


def reply_notes(config: AnyCrmSource, base_dir: Path) -> ReplyNotes:
    """The connector that notes sent replies in this source's CRM; ConfigError when it cannot write."""
    source = build_source(config, base_dir)
    if not isinstance(source, ReplyNotes):
        getattr(source, "close", lambda: None)()
        raise ConfigError(f"crm.sources.{config.name}: a {config.type} source cannot note replies")
    return source
