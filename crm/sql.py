"""Any SQL database through SQLAlchemy: only rows updated since the cursor are read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Engine, MetaData, Table, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError

from core.errors import ConfigError
from crm.base import CrmSourceError
from crm.sources import Entity, SqlSourceConfig


class SqlSource:
    """Reads tables by name; the updated-at filter runs in the database, ids are read for deletions."""

    type: ClassVar[str] = "sql"

    def __init__(self, config: SqlSourceConfig, base_dir: Any = None) -> None:
        self.config, self.name = config, config.name
        try:
            url = make_url(config.url)
        except ArgumentError as exc:
            raise ConfigError(f"crm.sources.{config.name}.url: not a database URL ({exc})") from exc
        if url.password is not None:
            raise ConfigError(
                f"crm.sources.{config.name}.url: the password belongs in the environment (password_env)"
            )
        if config.password_env:
            password = os.environ.get(config.password_env)
            if password is None:
                raise ConfigError(
                    f"crm.sources.{config.name}.password_env: ${config.password_env} is not set"
                )
            url = url.set(password=password)
        if url.get_backend_name() == "sqlite" and url.database and base_dir is not None:
            path = base_dir / url.database
            url = url.set(database=str(path if not os.path.isabs(url.database) else url.database))
        self.url = url
        self._engine: Engine | None = None
        self._tables: dict[str, Table] = {}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        return self._engine

    def _where(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def _table(self, table: str) -> Table:
        if table not in self._tables:
            schema, _, name = table.rpartition(".")
            try:
                self._tables[table] = Table(
                    name, MetaData(), schema=schema or None, autoload_with=self.engine
                )
            except NoSuchTableError as exc:
                raise CrmSourceError(self.name, self._where(), f"no table {table!r}") from exc
            except SQLAlchemyError as exc:
                raise CrmSourceError(self.name, self._where(), _short(exc)) from exc
        return self._tables[table]

    def columns(self, entity: Entity, table: str) -> list[str]:
        return [c.name for c in self._table(table).columns]

    def rows(
        self, entity: Entity, table: str, since: datetime | None, updated_column: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        sql_table = self._table(table)
        query = select(sql_table)
        if since is not None and updated_column:
            column = sql_table.c[updated_column]
            # SQLite keeps datetimes naive (UTC by convention); server databases compare aware values.
            bound = since.replace(tzinfo=None) if self.url.get_backend_name() == "sqlite" else since
            query = query.where(column >= bound).order_by(column)
        try:
            with self.engine.connect() as connection:
                result = connection.execution_options(stream_results=True).execute(query)
                for number, row in enumerate(result.mappings(), start=1):
                    yield f"{table} row {number}", dict(row)
        except SQLAlchemyError as exc:
            raise CrmSourceError(self.name, f"{self._where()} {table}", _short(exc)) from exc

    def ids(self, entity: Entity, table: str, id_column: str) -> set[str] | None:
        sql_table = self._table(table)
        try:
            with self.engine.connect() as connection:
                return {
                    str(v)
                    for v in connection.execute(select(sql_table.c[id_column])).scalars()
                    if v is not None
                }
        except SQLAlchemyError as exc:
            raise CrmSourceError(self.name, f"{self._where()} {table}", _short(exc)) from exc

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _short(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
