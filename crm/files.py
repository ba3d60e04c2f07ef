"""CSV and Excel exports of a CRM: each row of each file or sheet is one record."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from core.documents import Customer
from core.errors import ConfigError
from crm.base import CrmSourceError
from crm.sources import CsvSourceConfig, Entity, XlsxSourceConfig, legacy_csv_source


class CsvSource:
    """One CSV file per kind of record; every row is read each time, so deletions show by absence."""

    type: ClassVar[str] = "csv"

    def __init__(self, config: CsvSourceConfig, base_dir: Path) -> None:
        self.config, self.name, self.base_dir = config, config.name, base_dir

    def _path(self, table: str) -> Path:
        path = Path(table)
        return path if path.is_absolute() else self.base_dir / path

    def _reader(self, table: str) -> Iterator[tuple[int, list[str]]]:
        path = self._path(table)
        try:
            codec = codecs.getincrementaldecoder(self.config.encoding)()
        except LookupError as exc:
            raise ConfigError(
                f"crm.sources.{self.name}.encoding: unknown encoding {self.config.encoding!r}"
            ) from exc

        def decoded(raw: BinaryIO) -> Iterator[str]:
            # Decoded line by line so a wrong encoding is reported at the line it shows up on.
            for number, chunk in enumerate(raw, start=1):
                try:
                    yield codec.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise CrmSourceError(
                        self.name,
                        f"{path.name} line {number}",
                        f"not {self.config.encoding} text (byte 0x{chunk[exc.start]:02x}); "
                        f"set crm.sources.{self.name}.encoding, e.g. latin-1 or cp1252",
                    ) from exc

        try:
            with path.open("rb") as raw:
                reader = csv.reader(decoded(raw), delimiter=self.config.delimiter)
                line = 1
                try:
                    for cells in reader:
                        yield line, cells
                        line = reader.line_num + 1
                except csv.Error as exc:
                    raise CrmSourceError(self.name, f"{path.name} line {line}", f"not CSV ({exc})") from exc
        except OSError as exc:
            raise CrmSourceError(self.name, str(table), f"cannot read ({exc.strerror})") from exc

    def columns(self, entity: Entity, table: str) -> list[str]:
        for _, header in self._reader(table):
            return [c.strip() for c in header]
        raise CrmSourceError(self.name, table, "empty file: no header row")

    def rows(
        self, entity: Entity, table: str, since: datetime | None, updated_column: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        name = Path(table).name
        header: list[str] = []
        for line, cells in self._reader(table):
            if not header:
                header = [c.strip() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) > len(header):
                yield f"{name} line {line}", {"__error__": f"{len(cells)} cells for {len(header)} columns"}
                continue
            yield f"{name} line {line}", dict(zip(header, cells, strict=False))

    def ids(self, entity: Entity, table: str, id_column: str) -> set[str] | None:
        return None


class XlsxSource:
    """One Excel workbook, one sheet per kind of record; the first row holds the column names."""

    type: ClassVar[str] = "xlsx"

    def __init__(self, config: XlsxSourceConfig, base_dir: Path) -> None:
        self.config, self.name = config, config.name
        self.path = config.path if config.path.is_absolute() else base_dir / config.path

    def _sheet_rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except OSError as exc:
            raise CrmSourceError(self.name, str(self.path), f"cannot read ({exc.strerror})") from exc
        except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for non-workbooks
            raise CrmSourceError(self.name, self.path.name, f"not an Excel workbook ({exc})") from exc
        try:
            if table not in workbook.sheetnames:
                raise CrmSourceError(
                    self.name,
                    self.path.name,
                    f"no sheet {table!r} (sheets: {', '.join(workbook.sheetnames)})",
                )
            yield from workbook[table].iter_rows(values_only=True)
        finally:
            workbook.close()

    def columns(self, entity: Entity, table: str) -> list[str]:
        for header in self._sheet_rows(table):
            return [str(c).strip() for c in header if c is not None]
        raise CrmSourceError(self.name, f"{self.path.name} sheet {table}", "empty sheet: no header row")

    def rows(
        self, entity: Entity, table: str, since: datetime | None, updated_column: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        header: list[str] = []
        for number, cells in enumerate(self._sheet_rows(table), start=1):
            if not header:
                header = [str(c).strip() if c is not None else "" for c in cells]
                continue
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield f"{self.path.name} sheet {table} row {number}", dict(zip(header, cells, strict=False))

    def ids(self, entity: Entity, table: str, id_column: str) -> set[str] | None:
        return None


@dataclass
class ContactsFile:
    customers: list[Customer] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def read_contacts_csv(path: Path, region: str = "FR") -> ContactsFile:
    """The customers of a contacts CSV whose columns are named like the fields, without any index.

    For benchmarks and offline tools; `ecoute crm import` goes through crm/mirror.py instead.
    """
    from crm.base import pull
    from crm.quality import customer_from

    config = legacy_csv_source(path.resolve())
    result = pull(config, CsvSource(config, path.parent), {})
    now = datetime.now(UTC)
    return ContactsFile(
        customers=[customer_from(c, None, config.name, region, now) for c in result.records["contacts"]],  # type: ignore[arg-type]
        rejected=[r.line() for r in result.rejected],
    )
